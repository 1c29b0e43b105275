"""Observations over HTTP: where a country office's values arrive, are checked
against their benchmark and the programme scope, corrected and retracted."""

from __future__ import annotations

import base64
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import (
    assert_problem,
    benchmark_body,
    if_match,
    log_head,
    observation_body,
    set_up_programme,
    stored_observations,
)

POSITION = "Stocktake-Log-Position"
PERCENTAGE = "CA2-INSPECTION"

BENCHMARKS: dict[str, dict[str, Any]] = {
    "unit": benchmark_body(
        code="CA3-AGREEMENTS",
        assumption="CA3",
        measure="unit",
        unit_label="agreements",
        baseline={"value": 0, "date": "2017-01-01"},
        targets=[{"value": 5, "date": "2021-12-31"}],
        combination="sum",
    ),
    "ordinal": benchmark_body(
        code="CA5-DIALOGUE",
        assumption="CA5",
        measure="ordinal",
        unit_label=None,
        levels=["none", "partial", "full"],
        baseline={"value": "none", "date": "2017-01-01"},
        targets=[{"value": "full", "date": "2021-12-31"}],
        combination="latest",
    ),
    "nominal": benchmark_body(
        code="CA7-POLICY",
        assumption="CA7",
        measure="nominal",
        unit_label=None,
        levels=["no", "yes"],
        baseline={"value": "no", "date": "2017-01-01"},
        targets=[{"value": "yes", "date": "2021-12-31"}],
        combination="latest",
    ),
    "qualitative": benchmark_body(
        code="CA10-COHERENCE",
        assumption="CA10",
        measure="qualitative",
        unit_label=None,
        baseline={"value": "No joint work plan", "date": "2017-01-01"},
        targets=[{"value": "Joint work plan agreed", "date": "2021-12-31"}],
        combination="latest",
    ),
}


def benchmark_of(client: TestClient, measure: str) -> str:
    """The code of a benchmark of this measure, defining it if need be."""
    if measure == "percentage":
        return PERCENTAGE
    body = BENCHMARKS[measure]
    response = client.post("/benchmarks", json=body)
    assert response.status_code == 201, response.text
    return str(body["code"])


def record(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/observations", json=observation_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def cursor_for(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# -- recording --------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "value", "read_back"),
    [
        ("percentage", 12.5, 12.5),
        ("percentage", 0, 0.0),
        ("percentage", 100, 100.0),
        ("unit", 3, 3),
        ("unit", 4.0, 4),
        ("unit", 0, 0),
        ("ordinal", "partial", "partial"),
        ("nominal", "yes", "yes"),
        ("qualitative", "Joint work plan drafted", "Joint work plan drafted"),
    ],
)
def test_a_value_of_each_measure_is_recorded_and_read_back(
    client: TestClient, measure: str, value: Any, read_back: Any
) -> None:
    set_up_programme(client)
    code = benchmark_of(client, measure)
    disaggregations = [{"dimension": "sex", "category": "female", "value": value}]

    response = client.post(
        "/observations", json=observation_body(benchmark=code, value=value, disaggregations=disaggregations)
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == f"/observations/{created['id']}"
    assert response.headers["ETag"] == '"1"'
    assert int(response.headers[POSITION]) == created["position"] == created["recorded_position"] == log_head(client)
    assert (created["value"], type(created["value"])) == (read_back, type(read_back))
    assert created["disaggregations"] == [{"dimension": "sex", "category": "female", "value": read_back}]
    assert created["benchmark"] == code
    assert created["assumption"] == BENCHMARKS.get(measure, benchmark_body())["assumption"]
    assert (created["status"], created["corrections"], created["retraction"]) == ("recorded", 0, None)
    assert created["recorded_by"] == "test-office"

    read = client.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == created


def test_an_observation_keeps_its_sector_evidence_and_comment(client: TestClient) -> None:
    set_up_programme(client)
    evidence = [
        {"title": "Labour inspection report", "url": "https://example.org/report.pdf"},
        {"title": "Ministry data", "url": "http://example.org/data.csv"},
    ]

    created = record(client, sector="garments", evidence=evidence, comment="From the 2019 inspection round")

    assert created["sector"] == "garments"
    assert created["evidence"] == evidence
    assert created["comment"] == "From the 2019 inspection round"


PERIOD_FORMS = {
    "day": ("2019-06-30", "2019-06-30", "2019-06-30"),
    "month": ("2019-06", "2019-06-01", "2019-06-30"),
    "february": ("2019-02", "2019-02-01", "2019-02-28"),
    "leap february": ("2020-02", "2020-02-01", "2020-02-29"),
    "first quarter": ("2019-Q1", "2019-01-01", "2019-03-31"),
    "last quarter": ("2019-Q4", "2019-10-01", "2019-12-31"),
    "year": ("2019", "2019-01-01", "2019-12-31"),
}


def test_a_period_is_read_back_with_its_first_and_last_day(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    for case, (period, start, end) in PERIOD_FORMS.items():
        with subtests.test(msg=case):
            created = record(client, period=period)
            assert (created["period"], created["period_start"], created["period_end"]) == (period, start, end)


NOT_FITTING: dict[str, tuple[str, Any]] = {
    "percentage over 100": ("percentage", 100.5),
    "negative percentage": ("percentage", -0.1),
    "percentage as text": ("percentage", "12.5"),
    "boolean": ("percentage", True),
    "null": ("percentage", None),
    "fractional count": ("unit", 1.5),
    "negative count": ("unit", -1),
    "count as text": ("unit", "3"),
    "unknown ordinal level": ("ordinal", "complete"),
    "ordinal level by number": ("ordinal", 1),
    "level in other case": ("ordinal", "Partial"),
    "unknown nominal level": ("nominal", "maybe"),
    "empty text": ("qualitative", ""),
    "blank text": ("qualitative", "   "),
    "number for a text": ("qualitative", 5),
    "list": ("percentage", [12.5]),
}


def test_a_value_that_does_not_fit_the_benchmark_is_refused_and_nothing_is_stored(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    set_up_programme(client)
    codes = {measure: benchmark_of(client, measure) for measure in ("percentage", *BENCHMARKS)}
    for case, (measure, value) in NOT_FITTING.items():
        with subtests.test(msg=case):
            head = log_head(client)

            body = observation_body(benchmark=codes[measure], value=value, disaggregations=[])
            assert_problem(client.post("/observations", json=body), 422, "/value")

            assert log_head(client) == head
            assert stored_observations(client) == []


def _without(field: str) -> dict[str, Any]:
    body = observation_body()
    del body[field]
    return body


OUTSIDE_THE_RULES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "country not selected": (observation_body(country="ETH"), ("/country",)),
    "not a country": (observation_body(country="XXX"), ("/country",)),
    "a country name misspelt": (observation_body(country="Bangldesh"), ("/country",)),
    "sector not selected": (observation_body(sector="cocoa"), ("/sector",)),
    "unknown benchmark": (observation_body(benchmark="CA2-NONE"), ("/benchmark",)),
    "dimension not accepted": (
        observation_body(disaggregations=[{"dimension": "disability", "category": "yes", "value": 3}]),
        ("/disaggregations/0/dimension",),
    ),
    "unknown dimension": (
        observation_body(disaggregations=[{"dimension": "age", "category": "15-24", "value": 3}]),
        ("/disaggregations/0/dimension",),
    ),
    "disaggregated value out of range": (
        observation_body(disaggregations=[{"dimension": "sex", "category": "female", "value": 120}]),
        ("/disaggregations/0/value",),
    ),
    "category given twice": (
        observation_body(
            disaggregations=[
                {"dimension": "sex", "category": "female", "value": 11},
                {"dimension": "sex", "category": "female", "value": 12},
            ]
        ),
        ("/disaggregations/1/category",),
    ),
    "evidence on ftp": (
        observation_body(evidence=[{"title": "Report", "url": "ftp://example.org/report.pdf"}]),
        ("/evidence/0/url",),
    ),
    "evidence as a file path": (
        observation_body(evidence=[{"title": "Report", "url": "C:/reports/2019.pdf"}]),
        ("/evidence/0/url",),
    ),
    "evidence without title": (
        observation_body(evidence=[{"url": "https://example.org/report.pdf"}]),
        ("/evidence/0/title",),
    ),
    "unknown field": (observation_body(colour="red"), ("/colour",)),
    "missing value": (_without("value"), ("/value",)),
    "missing period": (_without("period"), ("/period",)),
    "several at once": (
        observation_body(country="ETH", value=150, sector="cocoa"),
        ("/country", "/value", "/sector"),
    ),
}


def test_an_observation_outside_the_programme_rules_is_refused_and_nothing_is_stored(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    set_up_programme(client)
    for case, (body, pointers) in OUTSIDE_THE_RULES.items():
        with subtests.test(msg=case):
            head = log_head(client)

            assert_problem(client.post("/observations", json=body), 422, *pointers)

            assert log_head(client) == head
            assert stored_observations(client) == []


BAD_PERIODS = ["2019-Q5", "2019-Q0", "2019-13", "2019-02-30", "19", "2019-W10", "Q2 2019", "", "2019-06-30T00:00"]


def test_a_bad_period_is_refused_and_nothing_is_stored(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    for period in BAD_PERIODS:
        with subtests.test(msg=period):
            head = log_head(client)

            assert_problem(client.post("/observations", json=observation_body(period=period)), 422, "/period")

            assert log_head(client) == head
            assert stored_observations(client) == []


def test_a_bad_period_is_reported_with_the_other_broken_rules(client: TestClient) -> None:
    set_up_programme(client)
    body = observation_body(period="2019-Q5", country="ETH", value=150)

    assert_problem(client.post("/observations", json=body), 422, "/period", "/country", "/value")


def test_a_retired_benchmark_takes_no_observation(client: TestClient) -> None:
    set_up_programme(client)
    assert client.post(f"/benchmarks/{PERCENTAGE}/retirement", json={"reason": "replaced"}).status_code == 200
    head = log_head(client)

    problem = assert_problem(client.post("/observations", json=observation_body()), 409)

    assert "retired" in problem["detail"]
    assert log_head(client) == head
    assert stored_observations(client) == []


def test_a_refused_dimension_is_named_as_the_caller_wrote_it(client: TestClient) -> None:
    set_up_programme(client)
    body = observation_body(disaggregations=[{"dimension": "disability", "category": "yes", "value": 3}])

    problem = assert_problem(client.post("/observations", json=body), 422, "/disaggregations/0/dimension")

    assert "Dimension." not in problem["detail"]
    assert "'disability'" in problem["detail"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.floats(min_value=0, max_value=100),
        st.floats(max_value=-5e-324, allow_infinity=False),
        st.floats(min_value=100, exclude_min=True, allow_infinity=False),
    )
)
def test_a_percentage_is_accepted_exactly_when_it_is_from_0_to_100(client: TestClient, value: float) -> None:
    if client.get(f"/benchmarks/{PERCENTAGE}").status_code == 404:
        set_up_programme(client)
    head = log_head(client)
    count = len(stored_observations(client))

    response = client.post("/observations", json=observation_body(value=value, disaggregations=[]))

    if 0 <= value <= 100:
        assert response.status_code == 201, response.text
        assert client.get(response.headers["Location"]).json()["value"] == value
        assert log_head(client) == head + 1
    else:
        assert_problem(response, 422, "/value")
        assert log_head(client) == head
        assert len(stored_observations(client)) == count


# -- correction and retraction ----------------------------------------------


def test_a_correction_replaces_the_value_and_keeps_the_history(client: TestClient) -> None:
    set_up_programme(client)
    created = record(client)

    corrected = client.post(
        f"/observations/{created['id']}/corrections",
        headers=if_match(client, created["id"]),
        json={"value": 13, "reason": "typo"},
    )

    assert corrected.status_code == 200, corrected.text
    assert corrected.headers["ETag"] == '"2"'
    observation = client.get(f"/observations/{created['id']}").json()
    assert observation["value"] == 13
    assert observation["disaggregations"] == created["disaggregations"]
    assert (observation["status"], observation["corrections"], observation["version"]) == ("corrected", 1, 2)
    assert observation["recorded_position"] == created["recorded_position"]
    assert observation["last_position"] == log_head(client)

    replaced = [{"dimension": "sex", "category": "male", "value": 14}]
    again = client.post(
        f"/observations/{created['id']}/corrections",
        headers=if_match(client, created["id"]),
        json={"value": 13.5, "disaggregations": replaced, "reason": "r"},
    )
    assert again.status_code == 200, again.text
    assert again.json()["disaggregations"] == replaced
    assert again.json()["corrections"] == 2

    history = client.get(f"/observations/{created['id']}/history").json()["events"]
    assert [(e["type"], e["data"]["value"]) for e in history] == [
        ("Observation.Recorded", 12.5),
        ("Observation.Corrected", 13),
        ("Observation.Corrected", 13.5),
    ]
    assert [e["stream_version"] for e in history] == [1, 2, 3]


INVALID_CORRECTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "value out of range": ({"value": 101, "reason": "typo"}, "/value"),
    "value of another kind": ({"value": "thirteen", "reason": "typo"}, "/value"),
    "boolean value": ({"value": False, "reason": "typo"}, "/value"),
    "empty reason": ({"value": 13, "reason": ""}, "/reason"),
    "blank reason": ({"value": 13, "reason": " \t"}, "/reason"),
    "missing reason": ({"value": 13}, "/reason"),
    "dimension not accepted": (
        {"value": 13, "reason": "r", "disaggregations": [{"dimension": "ethnicity", "category": "a", "value": 1}]},
        "/disaggregations/0/dimension",
    ),
    "disaggregated value out of range": (
        {"value": 13, "reason": "r", "disaggregations": [{"dimension": "sex", "category": "male", "value": -2}]},
        "/disaggregations/0/value",
    ),
    "unknown field": ({"value": 13, "reason": "r", "period": "2019-Q3"}, "/period"),
}


def test_an_invalid_correction_is_refused_and_nothing_is_stored(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    created = record(client)
    for case, (body, pointer) in INVALID_CORRECTIONS.items():
        with subtests.test(msg=case):
            head = log_head(client)

            assert_problem(
                client.post(
                    f"/observations/{created['id']}/corrections", headers=if_match(client, created["id"]), json=body
                ),
                422,
                pointer,
            )

            assert log_head(client) == head
            assert client.get(f"/observations/{created['id']}").json() == created


def test_a_retracted_observation_can_be_neither_corrected_nor_retracted_again(client: TestClient) -> None:
    set_up_programme(client)
    created = record(client)
    retracted = client.post(
        f"/observations/{created['id']}/retraction",
        headers=if_match(client, created["id"]),
        json={"reason": "duplicate of BGD report"},
    )
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["retraction"]["reason"] == "duplicate of BGD report"
    assert retracted.json()["value"] == created["value"]
    head = log_head(client)

    assert_problem(
        client.post(
            f"/observations/{created['id']}/corrections",
            headers=if_match(client, created["id"]),
            json={"value": 1, "reason": "r"},
        ),
        409,
    )
    assert_problem(
        client.post(
            f"/observations/{created['id']}/retraction",
            headers=if_match(client, created["id"]),
            json={"reason": "again"},
        ),
        409,
    )

    assert log_head(client) == head
    assert client.get(f"/observations/{created['id']}").json()["status"] == "retracted"


def test_a_retraction_needs_a_reason(client: TestClient) -> None:
    set_up_programme(client)
    created = record(client)
    head = log_head(client)

    assert_problem(
        client.post(
            f"/observations/{created['id']}/retraction", headers=if_match(client, created["id"]), json={"reason": ""}
        ),
        422,
        "/reason",
    )
    assert_problem(
        client.post(
            f"/observations/{created['id']}/retraction", headers=if_match(client, created["id"]), json={"reason": "  "}
        ),
        422,
        "/reason",
    )

    assert log_head(client) == head
    assert client.get(f"/observations/{created['id']}").json()["status"] == "recorded"


OBSERVATION_ROUTES = {
    "read": ("GET", "", None),
    "history": ("GET", "/history", None),
    "correct": ("POST", "/corrections", {"value": 13, "reason": "typo"}),
    "retract": ("POST", "/retraction", {"reason": "duplicate"}),
}


def test_an_unknown_observation_is_a_404_problem(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    record(client)
    unknown = uuid4()
    head = log_head(client)
    for case, (method, suffix, body) in OBSERVATION_ROUTES.items():
        with subtests.test(msg=case):
            problem = assert_problem(client.request(method, f"/observations/{unknown}{suffix}", json=body), 404)

            assert str(unknown) in problem["detail"]
            assert log_head(client) == head


def test_a_malformed_observation_id_is_refused_naming_the_parameter(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    head = log_head(client)
    for case, (method, suffix, body) in OBSERVATION_ROUTES.items():
        for malformed in ("obs-42", "12345678-1234-1234-1234-12345678901z"):
            with subtests.test(msg=f"{case} {malformed}"):
                response = client.request(method, f"/observations/{malformed}{suffix}", json=body)
                assert_problem(response, 422, "observation_id")
                assert log_head(client) == head


def test_the_history_of_a_stream_that_is_not_an_observation_is_not_found(client: TestClient) -> None:
    set_up_programme(client)
    framework_stream = client.get("/log", params={"limit": 1}).json()["events"][0]["stream_id"]

    assert_problem(client.get(f"/observations/{framework_stream}/history"), 404)


# -- listing ----------------------------------------------------------------


def test_observations_are_listed_by_benchmark_country_and_assumption(client: TestClient) -> None:
    set_up_programme(client)
    unit = benchmark_of(client, "unit")
    bgd = record(client)
    vnm = record(client, country="VNM")
    bgd_unit = record(client, benchmark=unit, value=2, disaggregations=[])
    retracted = record(client, period="2019-Q3")
    client.post(
        f"/observations/{retracted['id']}/retraction",
        headers=if_match(client, retracted["id"]),
        json={"reason": "duplicate"},
    )

    def ids(**params: Any) -> list[str]:
        response = client.get("/observations", params=params)
        assert response.status_code == 200, response.text
        assert int(response.headers[POSITION]) == response.json()["position"] == log_head(client)
        return [o["id"] for o in response.json()["items"]]

    assert ids() == [bgd["id"], vnm["id"], bgd_unit["id"], retracted["id"]]
    assert ids(include_retracted=False) == [bgd["id"], vnm["id"], bgd_unit["id"]]
    assert ids(benchmark=PERCENTAGE) == [bgd["id"], vnm["id"], retracted["id"]]
    assert ids(benchmark=unit) == [bgd_unit["id"]]
    assert ids(country="VNM") == [vnm["id"]]
    assert ids(country="BGD", include_retracted=False) == [bgd["id"], bgd_unit["id"]]
    assert ids(assumption="CA3") == [bgd_unit["id"]]
    assert ids(assumption="CA2", country="BGD") == [bgd["id"], retracted["id"]]
    assert ids(assumption="CA9") == []


def test_pages_walk_every_observation_once_in_recording_order(client: TestClient) -> None:
    set_up_programme(client)
    recorded = [record(client, period=f"2019-0{month}")["id"] for month in range(1, 6)]

    seen: list[str] = []
    sizes: list[int] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = client.get("/observations", params=params).json()
        seen += [o["id"] for o in page["items"]]
        sizes.append(len(page["items"]))
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    assert seen == recorded
    assert sizes == [2, 2, 1]


def test_a_page_ends_exactly_at_the_last_observation(client: TestClient) -> None:
    set_up_programme(client)
    for month in range(1, 5):
        record(client, period=f"2019-0{month}")

    first = client.get("/observations", params={"limit": 2}).json()
    second = client.get("/observations", params={"limit": 2, "cursor": first["next_cursor"]}).json()

    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


def test_a_filtered_walk_uses_its_own_cursor(client: TestClient) -> None:
    set_up_programme(client)
    for index in range(3):
        record(client, country="BGD", period=f"201{index + 7}")
        record(client, country="VNM", period=f"201{index + 7}")

    first = client.get("/observations", params={"country": "VNM", "limit": 2}).json()
    rest = client.get("/observations", params={"country": "VNM", "limit": 2, "cursor": first["next_cursor"]}).json()

    periods = [o["period"] for o in first["items"] + rest["items"]]
    assert periods == ["2017", "2018", "2019"]
    assert {o["country"] for o in first["items"] + rest["items"]} == {"VNM"}
    assert rest["next_cursor"] is None


def _walk(client: TestClient, **params: Any) -> tuple[list[str], list[int]]:
    seen: list[str] = []
    sizes: list[int] = []
    while True:
        page = client.get("/observations", params=params).json()
        seen += [o["id"] for o in page["items"]]
        sizes.append(len(page["items"]))
        if page["next_cursor"] is None:
            return seen, sizes
        params["cursor"] = page["next_cursor"]


def test_newest_first_pages_walk_every_observation_once_from_the_latest(client: TestClient) -> None:
    set_up_programme(client)
    recorded = [record(client, period=f"2019-0{month}")["id"] for month in range(1, 6)]
    assert _walk(client, limit=2, order="newest") == (recorded[::-1], [2, 2, 1])
    assert _walk(client, limit=2, order="oldest") == (recorded, [2, 2, 1])
    assert _walk(client, limit=5, order="newest") == (recorded[::-1], [5])
    latest_two = [o["id"] for o in client.get("/observations", params={"order": "newest", "limit": 2}).json()["items"]]
    assert latest_two == recorded[:-3:-1]


def test_a_cursor_is_refused_in_the_other_order(client: TestClient) -> None:
    set_up_programme(client)
    for month in range(1, 4):
        record(client, period=f"2019-0{month}")
    oldest = client.get("/observations", params={"limit": 1}).json()["next_cursor"]
    newest = client.get("/observations", params={"limit": 1, "order": "newest"}).json()["next_cursor"]
    problem = assert_problem(client.get("/observations", params={"cursor": oldest, "order": "newest"}), 422, "cursor")
    assert "other order" in problem["detail"]
    assert_problem(client.get("/observations", params={"cursor": newest}), 422, "cursor")


TAMPERED_CURSORS = {
    "garbage": "not-a-cursor!",
    "other kind": cursor_for("x:1"),
    "negative": cursor_for("o:-1"),
    "empty": cursor_for("o:"),
    "not a number": cursor_for("o:1e3"),
    "not encoded": "o:3",
    "too long": "a" * 201,
}


def test_a_tampered_cursor_is_refused_naming_the_parameter(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    record(client)
    for case, cursor in TAMPERED_CURSORS.items():
        with subtests.test(msg=case):
            assert_problem(client.get("/observations", params={"cursor": cursor}), 422, "cursor")


def test_a_tampered_cursor_beyond_any_position_is_refused_naming_the_parameter(client: TestClient) -> None:
    set_up_programme(client)
    record(client)
    assert_problem(client.get("/observations", params={"cursor": cursor_for("o:" + "9" * 30)}), 422, "cursor")


BAD_LIST_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "limit 0": ({"limit": 0}, "limit"),
    "limit 501": ({"limit": 501}, "limit"),
    "limit as text": ({"limit": "ten"}, "limit"),
    "a country that names none": ({"country": "XX"}, "country"),
    "unclear flag": ({"include_retracted": "sometimes"}, "include_retracted"),
    "unknown order": ({"order": "random"}, "order"),
}


def test_a_bad_list_parameter_is_refused_naming_it(client: TestClient, subtests: pytest.Subtests) -> None:
    for case, (params, parameter) in BAD_LIST_PARAMETERS.items():
        with subtests.test(msg=case):
            assert_problem(client.get("/observations", params=params), 422, parameter)


def test_a_correction_or_retraction_needs_the_current_etag_in_if_match(client: TestClient) -> None:
    set_up_programme(client)
    created = client.post("/observations", json=observation_body())
    observation_id, etag = created.json()["id"], created.headers["ETag"]
    assert etag == '"1"'
    head = log_head(client)
    for change, body in (("corrections", {"value": 13, "reason": "typo"}), ("retraction", {"reason": "duplicate"})):
        url = f"/observations/{observation_id}/{change}"
        assert_problem(client.post(url, json=body), 428)
        assert_problem(client.post(url, json=body, headers={"If-Match": '"7"'}), 412)
        assert_problem(client.post(url, json=body, headers={"If-Match": "version-1"}), 422, "If-Match")
    assert log_head(client) == head

    corrected = client.post(
        f"/observations/{observation_id}/corrections", json={"value": 13, "reason": "typo"}, headers={"If-Match": etag}
    )
    assert (corrected.status_code, corrected.headers["ETag"]) == (200, '"2"')
    stale = client.post(
        f"/observations/{observation_id}/retraction", json={"reason": "dup"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    assert client.get(f"/observations/{observation_id}").json()["status"] == "corrected"
    url = f"/observations/{observation_id}/corrections"
    # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
    assert_problem(client.post(url, json={"value": 14, "reason": "r"}, headers={"If-Match": 'W/"2"'}), 412)
    assert client.post(url, json={"value": 14, "reason": "r"}, headers={"If-Match": '"2"'}).status_code == 200
    assert client.post(url, json={"value": 15, "reason": "r"}, headers={"If-Match": '"1", "3"'}).status_code == 200
    assert client.post(url, json={"value": 16, "reason": "r"}, headers={"If-Match": "*"}).status_code == 200
    assert client.get(f"/observations/{observation_id}").json()["version"] == 5
