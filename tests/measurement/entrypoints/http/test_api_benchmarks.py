"""Benchmarks over HTTP: defined by the programme management team, revised
with a reason, retired; every refused request leaves the store as it was."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, benchmark_body, log_head

POSITION = "Stocktake-Log-Position"
CODE = "CA2-INSPECTION"

MEASURES: dict[str, dict[str, Any]] = {
    "unit": benchmark_body(
        code="CA3-AGREEMENTS",
        assumption="CA3",
        title="Sectoral agreements concluded",
        measure="unit",
        unit_label="agreements",
        baseline={"value": 0, "date": "2017-01-01"},
        targets=[{"value": 2, "date": "2019-12-31", "label": None}, {"value": 5, "date": "2021-12-31", "label": None}],
        combination="sum",
        deliverables=["1.1"],
        pb_indicators=["2018-19:8.1"],
    ),
    "percentage": benchmark_body(),
    "ordinal": benchmark_body(
        code="CA5-DIALOGUE",
        assumption="CA5",
        title="Stage of social dialogue in the sector",
        measure="ordinal",
        unit_label=None,
        levels=["none", "partial", "full"],
        # Counted over countries, so baseline and targets are numbers of countries at or above the threshold.
        baseline={"value": 0, "date": "2017-01-01"},
        targets=[{"value": 2, "date": "2019-12-31", "label": None}, {"value": 4, "date": "2021-12-31", "label": None}],
        combination="count_meeting_threshold",
        threshold="partial",
    ),
    "nominal": benchmark_body(
        code="CA7-POLICY",
        assumption="CA7",
        title="National GSC policy adopted",
        measure="nominal",
        unit_label=None,
        levels=["no", "yes"],
        baseline={"value": "no", "date": "2017-01-01"},
        targets=[{"value": "yes", "date": "2021-12-31", "label": None}],
        combination="latest",
        disaggregations=[],
    ),
    "qualitative": benchmark_body(
        code="CA10-COHERENCE",
        assumption="CA10",
        title="Policy coherence across agencies",
        measure="qualitative",
        unit_label=None,
        baseline={"value": "No joint work plan", "date": "2017-01-01"},
        targets=[{"value": "Joint work plan agreed", "date": "2021-12-31", "label": None}],
        combination="latest",
        disaggregations=[],
    ),
}


def all_benchmarks(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/benchmarks", params={"include_retired": True}).json()["items"]
    return items


def define(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/benchmarks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.parametrize("measure", list(MEASURES))
def test_a_benchmark_of_each_measure_is_defined_and_read_back(client: TestClient, measure: str) -> None:
    body = MEASURES[measure]
    response = client.post("/benchmarks", json=body)

    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/benchmarks/{body['code']}"
    assert response.headers["ETag"] == '"1"'
    created = response.json()
    assert int(response.headers[POSITION]) == created["position"] == log_head(client)
    expected = {"levels": [], "threshold": None, **body}
    for field in ("code", "assumption", "title", "measure", "ascending", "levels", "combination", "threshold"):
        assert created[field] == expected[field], field
    assert (created["deliverables"], created["pb_indicators"]) == (body["deliverables"], body["pb_indicators"])
    assert created["baseline"] == body["baseline"]
    assert created["targets"] == body["targets"]
    assert created["retired"] is None and created["version"] == 1
    assert [h["event"] for h in created["history"]] == ["defined"]

    read = client.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == created


def test_targets_are_kept_in_date_order(client: TestClient) -> None:
    final = {"value": 30, "date": "2021-12-31", "label": "final"}
    body = benchmark_body(targets=[final, {"value": 20, "date": "2019-12-31", "label": "mid-term"}])
    assert [t["date"] for t in define(client, body)["targets"]] == ["2019-12-31", "2021-12-31"]


def test_a_taken_code_is_a_conflict_and_nothing_is_stored(client: TestClient) -> None:
    first = define(client, benchmark_body())
    head = log_head(client)

    problem = assert_problem(client.post("/benchmarks", json=benchmark_body(title="Another", assumption="CA3")), 409)

    assert CODE in problem["detail"]
    assert log_head(client) == head
    assert all_benchmarks(client) == [{k: v for k, v in first.items() if k != "position"}]


ORDINAL = MEASURES["ordinal"]
LATEST_ORDINAL = {
    **ORDINAL,
    "combination": "latest",
    "threshold": None,
    "baseline": {"value": "none", "date": "2017-01-01"},
    "targets": [{"value": "full", "date": "2021-12-31"}],
}
UNIT = MEASURES["unit"]


def _without(field: str) -> dict[str, Any]:
    body = benchmark_body()
    del body[field]
    return body


INVALID_DEFINITIONS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "unknown assumption": (benchmark_body(assumption="CA11"), ("/assumption",)),
    "a title of spaces": (benchmark_body(title="  "), ("/title",)),
    "percentage over 100": (benchmark_body(baseline={"value": 120, "date": "2017-01-01"}), ("/baseline/value",)),
    "percentage below 0": (
        benchmark_body(targets=[{"value": -5, "date": "2021-12-31"}]),
        ("/targets/0/value",),
    ),
    "negative count": ({**UNIT, "baseline": {"value": -1, "date": "2017-01-01"}}, ("/baseline/value",)),
    "fractional count": (
        {**UNIT, "targets": [{"value": 2, "date": "2019-12-31"}, {"value": 2.5, "date": "2021-12-31"}]},
        ("/targets/1/value",),
    ),
    "ordinal value not a level": (
        {**LATEST_ORDINAL, "targets": [{"value": "complete", "date": "2021-12-31"}]},
        ("/targets/0/value",),
    ),
    "level for a count of countries": (
        {**ORDINAL, "targets": [{"value": "full", "date": "2021-12-31"}]},
        ("/targets/0/value",),
    ),
    "threshold not a level": ({**ORDINAL, "threshold": "some"}, ("/threshold",)),
    "ordinal with one level": ({**LATEST_ORDINAL, "levels": ["none"]}, ("/levels",)),
    "repeated levels": ({**ORDINAL, "levels": ["none", "partial", "full", "full"]}, ("/levels",)),
    "levels on a number": (benchmark_body(levels=["low", "high"]), ("/levels",)),
    "target before baseline": (
        benchmark_body(targets=[{"value": 20, "date": "2016-12-31"}]),
        ("/targets/0/date",),
    ),
    "target on the baseline date": (
        benchmark_body(targets=[{"value": 20, "date": "2017-01-01"}]),
        ("/targets/0/date",),
    ),
    "two targets on one date": (
        benchmark_body(targets=[{"value": 20, "date": "2021-12-31"}, {"value": 30, "date": "2021-12-31"}]),
        ("/targets/1/date",),
    ),
    "no target": (benchmark_body(targets=[]), ("/targets",)),
    "sum of ordinal values": ({**LATEST_ORDINAL, "combination": "sum"}, ("/combination",)),
    "mean of qualitative values": ({**MEASURES["qualitative"], "combination": "mean"}, ("/combination",)),
    "threshold missing": (benchmark_body(combination="count_meeting_threshold"), ("/threshold",)),
    "threshold without its combination": (benchmark_body(threshold=15), ("/threshold",)),
    "repeated disaggregation": (benchmark_body(disaggregations=["sex", "sex"]), ("/disaggregations",)),
    "unknown disaggregation": (benchmark_body(disaggregations=["age"]), ("/disaggregations/0",)),
    "unknown deliverable": (benchmark_body(deliverables=["2.4", "9.9"]), ("/deliverables/1",)),
    "unknown P&B indicator": (benchmark_body(pb_indicators=["2018-19:99.9"]), ("/pb_indicators/0",)),
    "P&B indicator without biennium": (benchmark_body(pb_indicators=["7.1"]), ("/pb_indicators/0",)),
    "unknown field": (benchmark_body(colour="red"), ("/colour",)),
    "unknown nested field": (
        benchmark_body(baseline={"value": 10, "date": "2017-01-01", "source": "survey"}),
        ("/baseline/source",),
    ),
    "text for a boolean": (benchmark_body(ascending="yes"), ("/ascending",)),
    "number for a date": (benchmark_body(baseline={"value": 10, "date": 20190101}), ("/baseline/date",)),
    "impossible date": (benchmark_body(baseline={"value": 10, "date": "2017-02-30"}), ("/baseline/date",)),
    "boolean for a value": (benchmark_body(baseline={"value": True, "date": "2017-01-01"}), ("/baseline/value",)),
    "null for a value": (
        benchmark_body(targets=[{"value": None, "date": "2021-12-31"}]),
        ("/targets/0/value",),
    ),
    "unknown measure": (benchmark_body(measure="ratio"), ("/measure",)),
    "unknown combination": (benchmark_body(combination="median"), ("/combination",)),
    "code with a space": (benchmark_body(code="CA2 INSPECTION"), ("/code",)),
    "empty title": (benchmark_body(title=""), ("/title",)),
    "missing title": (_without("title"), ("/title",)),
    "missing baseline": (_without("baseline"), ("/baseline",)),
    "missing measure": (_without("measure"), ("/measure",)),
    "several at once": (
        {**UNIT, "assumption": "CA0", "baseline": {"value": 2.5, "date": "2017-01-01"}, "deliverables": ["0.0"]},
        ("/assumption", "/baseline/value", "/deliverables/0"),
    ),
}


def test_an_invalid_definition_names_each_offending_field_and_stores_nothing(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    for case, (body, pointers) in INVALID_DEFINITIONS.items():
        with subtests.test(msg=case):
            head = log_head(client)

            problem = assert_problem(client.post("/benchmarks", json=body), 422, *pointers)

            assert problem["type"] == "/problems/validation-error"
            assert log_head(client) == head
            assert all_benchmarks(client) == []


MALFORMED_BODIES = {
    "truncated": b'{"code": "CA2-INSPECTION",',
    "single quotes": b"{'code': 'CA2'}",
    "trailing text": b'{"code": "A"} trailing',
    "not utf-8": b"\xff\xfe",
}


def test_a_malformed_json_body_is_a_400_problem_and_nothing_is_stored(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    head = log_head(client)
    for case, content in MALFORMED_BODIES.items():
        with subtests.test(msg=case):
            response = client.post("/benchmarks", content=content, headers={"Content-Type": "application/json"})

            problem = assert_problem(response, 400)
            assert problem["type"] == "/problems/malformed-body"
            assert log_head(client) == head
            assert all_benchmarks(client) == []


def test_a_body_that_is_not_an_object_is_refused(client: TestClient) -> None:
    head = log_head(client)
    problem = assert_problem(client.post("/benchmarks", json=[benchmark_body()]), 422)
    assert [e.get("pointer") for e in problem["errors"]] == [""]
    assert log_head(client) == head


def test_the_baseline_and_targets_are_revised_with_their_reasons(client: TestClient) -> None:
    define(client, benchmark_body())

    revised = client.post(
        f"/benchmarks/{CODE}/baseline-revisions",
        json={"baseline": {"value": 12, "date": "2017-06-30"}, "reason": "labour force survey 2017 published"},
    )
    assert revised.status_code == 200, revised.text
    assert revised.headers["ETag"] == '"2"'
    assert revised.json()["baseline"] == {"value": 12, "date": "2017-06-30"}

    retargeted = client.post(
        f"/benchmarks/{CODE}/target-revisions",
        json={"targets": [{"value": 35, "date": "2021-12-31", "label": "final"}], "reason": "mid-term review"},
    )
    assert retargeted.status_code == 200, retargeted.text
    assert retargeted.headers["ETag"] == '"3"'

    read = client.get(f"/benchmarks/{CODE}")
    assert read.headers["ETag"] == '"3"'
    benchmark = read.json()
    assert benchmark["version"] == 3
    assert benchmark["baseline"] == {"value": 12, "date": "2017-06-30"}
    assert benchmark["targets"] == [{"value": 35, "date": "2021-12-31", "label": "final"}]
    assert [(h["event"], h["reason"]) for h in benchmark["history"]] == [
        ("defined", None),
        ("baseline_revised", "labour force survey 2017 published"),
        ("targets_revised", "mid-term review"),
    ]
    positions = [h["position"] for h in benchmark["history"]]
    assert positions == sorted(positions) and positions[-1] == benchmark["last_position"] == log_head(client)
    assert all(h["principal"] == "test-programme-manager" for h in benchmark["history"])

    logged = client.get(f"/benchmarks/{CODE}/history").json()["events"]
    assert [e["type"] for e in logged] == ["Benchmark.Defined", "Benchmark.BaselineRevised", "Benchmark.TargetsRevised"]
    assert [e["position"] for e in logged] == positions


INVALID_REVISIONS: dict[str, tuple[str, dict[str, Any], str]] = {
    "empty reason": ("baseline-revisions", {"baseline": {"value": 12, "date": "2017-06-30"}, "reason": ""}, "/reason"),
    "blank reason": ("target-revisions", {"targets": [{"value": 35, "date": "2021-12-31"}], "reason": "  "}, "/reason"),
    "missing reason": ("baseline-revisions", {"baseline": {"value": 12, "date": "2017-06-30"}}, "/reason"),
    "baseline after a target": (
        "baseline-revisions",
        {"baseline": {"value": 12, "date": "2020-01-01"}, "reason": "late survey"},
        "/baseline/date",
    ),
    "baseline out of range": (
        "baseline-revisions",
        {"baseline": {"value": 101, "date": "2017-06-30"}, "reason": "survey"},
        "/baseline/value",
    ),
    "target out of range": (
        "target-revisions",
        {"targets": [{"value": 350, "date": "2021-12-31"}], "reason": "typo"},
        "/targets/0/value",
    ),
    "target before baseline": (
        "target-revisions",
        {"targets": [{"value": 35, "date": "2016-12-31"}], "reason": "typo"},
        "/targets/0/date",
    ),
    "no target": ("target-revisions", {"targets": [], "reason": "none"}, "/targets"),
}


def test_an_invalid_revision_is_refused_and_nothing_is_stored(client: TestClient, subtests: pytest.Subtests) -> None:
    before = define(client, benchmark_body())
    head = log_head(client)
    for case, (action, body, pointer) in INVALID_REVISIONS.items():
        with subtests.test(msg=case):
            assert_problem(client.post(f"/benchmarks/{CODE}/{action}", json=body), 422, pointer)

            assert log_head(client) == head
            after = client.get(f"/benchmarks/{CODE}")
            assert after.headers["ETag"] == '"1"'
            assert after.json() == before


def test_a_retired_benchmark_takes_no_revision_and_no_second_retirement(client: TestClient) -> None:
    define(client, benchmark_body())
    retired = client.post(f"/benchmarks/{CODE}/retirement", json={"reason": "replaced by CA2-COVERAGE"})
    assert retired.status_code == 200, retired.text
    assert retired.json()["retired"]["reason"] == "replaced by CA2-COVERAGE"
    assert retired.json()["retired"]["by"] == "test-programme-manager"
    assert retired.headers["ETag"] == '"2"'
    head = log_head(client)

    for action, body in (
        ("baseline-revisions", {"baseline": {"value": 12, "date": "2017-06-30"}, "reason": "survey"}),
        ("target-revisions", {"targets": [{"value": 35, "date": "2021-12-31"}], "reason": "review"}),
        ("retirement", {"reason": "again"}),
    ):
        problem = assert_problem(client.post(f"/benchmarks/{CODE}/{action}", json=body), 409)
        assert "retired" in problem["detail"]

    assert log_head(client) == head
    assert client.get(f"/benchmarks/{CODE}").json()["version"] == 2


def test_retirement_needs_a_reason(client: TestClient) -> None:
    define(client, benchmark_body())
    head = log_head(client)
    assert_problem(client.post(f"/benchmarks/{CODE}/retirement", json={"reason": ""}), 422, "/reason")
    assert_problem(client.post(f"/benchmarks/{CODE}/retirement", json={}), 422, "/reason")
    assert log_head(client) == head
    assert client.get(f"/benchmarks/{CODE}").json()["retired"] is None


BASELINE = {"value": 1, "date": "2017-01-01"}
TARGET = {"value": 1, "date": "2021-12-31"}
ON_AN_UNKNOWN_BENCHMARK: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "read": ("GET", "/benchmarks/CA9-NONE", None),
    "history": ("GET", "/benchmarks/CA9-NONE/history", None),
    "baseline": ("POST", "/benchmarks/CA9-NONE/baseline-revisions", {"baseline": BASELINE, "reason": "r"}),
    "targets": ("POST", "/benchmarks/CA9-NONE/target-revisions", {"targets": [TARGET], "reason": "r"}),
    "retire": ("POST", "/benchmarks/CA9-NONE/retirement", {"reason": "r"}),
}


def test_an_unknown_benchmark_is_a_404_problem(client: TestClient, subtests: pytest.Subtests) -> None:
    define(client, benchmark_body())
    head = log_head(client)
    for case, (method, path, body) in ON_AN_UNKNOWN_BENCHMARK.items():
        with subtests.test(msg=case):
            problem = assert_problem(client.request(method, path, json=body), 404)
            assert "CA9-NONE" in problem["detail"]
            assert log_head(client) == head


def test_benchmarks_are_listed_by_assumption_and_retired_ones_on_request(client: TestClient) -> None:
    for body in (MEASURES["percentage"], MEASURES["unit"], benchmark_body(code="CA2-COVERAGE"), MEASURES["ordinal"]):
        define(client, body)
    client.post("/benchmarks/CA2-COVERAGE/retirement", json={"reason": "merged"})

    def codes(**params: Any) -> list[str]:
        response = client.get("/benchmarks", params=params)
        assert response.status_code == 200
        assert int(response.headers[POSITION]) == response.json()["position"] == log_head(client)
        return [b["code"] for b in response.json()["items"]]

    assert codes() == [CODE, "CA3-AGREEMENTS", "CA5-DIALOGUE"]
    assert codes(include_retired=True) == [CODE, "CA3-AGREEMENTS", "CA2-COVERAGE", "CA5-DIALOGUE"]
    assert codes(assumption="CA2") == [CODE]
    assert codes(assumption="CA2", include_retired=True) == [CODE, "CA2-COVERAGE"]
    assert codes(assumption="CA9") == []
    assert_problem(client.get("/benchmarks", params={"assumption": "CA2-TOO-LONG"}), 422, "assumption")
    assert_problem(client.get("/benchmarks", params={"include_retired": "perhaps"}), 422, "include_retired")
