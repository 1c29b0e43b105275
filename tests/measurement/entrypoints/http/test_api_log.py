"""The application log over HTTP, as auditors replay it: gap-free positions
from 1, every event with its type and principal; and every read says which
position it reflects."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, if_match, log_head, observation_body, set_up_programme

POSITION = "Stocktake-Log-Position"

SCENARIO_TYPES = [
    "Framework.Registered",
    "Framework.RevisionLoaded",
    "Benchmark.Defined",
    "ProgrammeScope.Opened",
    "ProgrammeScope.CountrySelected",
    "ProgrammeScope.CountrySelected",
    "ProgrammeScope.SectorSelected",
    "Observation.Recorded",
    "Observation.Corrected",
    "Observation.Retracted",
]


def run_scenario(client: TestClient) -> str:
    """Every kind of decision once; the id of the observation."""
    set_up_programme(client)
    observation_id: str = client.post("/observations", json=observation_body()).json()["id"]
    client.post(
        f"/observations/{observation_id}/corrections",
        headers=if_match(client, observation_id),
        json={"value": 13, "reason": "typo"},
    )
    client.post(
        f"/observations/{observation_id}/retraction",
        headers=if_match(client, observation_id),
        json={"reason": "duplicate"},
    )
    return observation_id


def whole_log(client: TestClient, limit: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Every event, read a page at a time, and the head each page reported."""
    events: list[dict[str, Any]] = []
    heads: list[int] = []
    after = 0
    while True:
        response = client.get("/log", params={"after": after, "limit": limit})
        assert response.status_code == 200, response.text
        page = response.json()
        assert int(response.headers[POSITION]) == page["head"]
        heads.append(page["head"])
        if not page["events"]:
            assert page["next_after"] == after
            return events, heads
        assert len(page["events"]) <= limit
        events += page["events"]
        after = page["next_after"]


def test_the_log_is_read_in_pages_of_gap_free_positions_from_1(client: TestClient) -> None:
    run_scenario(client)

    events, heads = whole_log(client, limit=3)

    head = len(SCENARIO_TYPES)
    assert [e["position"] for e in events] == list(range(1, head + 1))
    assert set(heads) == {head}
    assert log_head(client) == max(e["position"] for e in events)


def test_each_event_has_its_type_stream_version_and_principal(client: TestClient) -> None:
    observation_id = run_scenario(client)

    events, _ = whole_log(client, limit=100)

    assert [e["type"] for e in events] == SCENARIO_TYPES
    who = {
        "Framework": "test-setup",
        "Benchmark": "test-programme-manager",
        "ProgrammeScope": "test-programme-manager",
        "Observation": "test-office",
    }
    assert [e["data"]["principal"] for e in events] == [who[e["type"].split(".")[0]] for e in events]
    versions: dict[str, list[int]] = {}
    for event in events:
        versions.setdefault(event["stream_id"], []).append(event["stream_version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    assert versions[observation_id] == [1, 2, 3]
    recorded = [e["recorded_at"] for e in events]
    assert recorded == sorted(recorded)
    assert events[-1]["data"]["reason"] == "duplicate"


def test_a_page_after_the_head_is_empty(client: TestClient) -> None:
    head = log_head(client)

    for after in (head, head + 1000):
        page = client.get("/log", params={"after": after}).json()
        checkpoint = {"size": head, "href": f"/transparency/checkpoint?size={head}"}
        assert page == {"events": [], "head": head, "next_after": after, "checkpoint": checkpoint}


def test_a_refused_command_leaves_no_gap_in_the_log(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)

    assert client.post("/observations", json=observation_body(value=150)).status_code == 422
    assert client.post("/scope/countries", json={"iso3": "BGD"}).status_code == 422
    accepted = client.post("/observations", json=observation_body())

    assert accepted.json()["recorded_position"] == head + 1 == log_head(client)
    events = client.get("/log", params={"after": head - 1}).json()["events"]
    assert [e["position"] for e in events] == [head, head + 1]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"after": -1}, "after"), ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"after": "start"}, "after")],
    ids=["negative after", "limit 0", "limit 1001", "after as text"],
)
def test_a_bad_log_parameter_is_refused_naming_it(client: TestClient, params: dict[str, Any], parameter: str) -> None:
    assert_problem(client.get("/log", params=params), 422, parameter)


def test_a_page_after_any_possible_position_is_not_a_server_error(client: TestClient) -> None:
    response = client.get("/log", params={"after": 2**63})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert_problem(response, 422, "after")


# -- every read names its position ------------------------------------------

READS = {
    "/framework": "/framework",
    "/framework/assumptions": "/framework/assumptions",
    "/framework/assumptions/{code}": "/framework/assumptions/CA2",
    "/framework/deliverables": "/framework/deliverables",
    "/framework/deliverables/{code}": "/framework/deliverables/2.4",
    "/benchmarks": "/benchmarks",
    "/benchmarks/{code}": "/benchmarks/CA2-INSPECTION",
    "/scope": "/scope",
    "/observations": "/observations",
    "/observations/{observation_id}": "/observations/{observation_id}",
    "/log": "/log",
}


def test_every_read_answers_with_the_log_position_it_reflects(client: TestClient) -> None:
    observation_id = run_scenario(client)
    head = log_head(client)
    published = client.get("/openapi.json").json()["paths"]

    for template, url in READS.items():
        assert "get" in published[template], template
        response = client.get(url.replace("{observation_id}", observation_id))
        assert response.status_code == 200, (url, response.text)
        assert int(response.headers[POSITION]) == head, url
        assert response.json().get("position", head) == head, url


@pytest.mark.parametrize("kind", ["benchmark", "observation"])
def test_a_stream_history_answers_with_the_log_position_it_reflects(client: TestClient, kind: str) -> None:
    observation_id = run_scenario(client)
    url = f"/observations/{observation_id}/history" if kind == "observation" else "/benchmarks/CA2-INSPECTION/history"

    response = client.get(url)

    assert response.status_code == 200
    assert int(response.headers[POSITION]) == log_head(client)
