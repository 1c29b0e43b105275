"""The programme framework over HTTP: what GB.329/INS/3/2 says, filtered and as
known at a log position."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, benchmark_body, log_head

POSITION = "Stocktake-Log-Position"
VERSION = "Stocktake-Framework-Version"
FRAMEWORK_POSITIONS = (1, 2)


def read(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert int(response.headers[POSITION]) == body["position"]
    assert int(response.headers[VERSION]) == body["framework_version"]
    return body


def test_the_framework_holds_the_roadmap(client: TestClient) -> None:
    framework = read(client, "/framework")

    assert framework["framework"]["code"] == "GSC-POA-2017-21"
    assert framework["framework"]["source"]["document"] == "GB.329/INS/3/2"
    assert [a["code"] for a in framework["critical_assumptions"]] == [f"CA{n}" for n in range(1, 11)]
    assert len(framework["deliverables"]) == 30
    assert [a["code"] for a in framework["areas_of_action"]] == ["AA1", "AA2", "AA3", "AA4", "AA5"]
    assert len(framework["expected_changes"]) == 12
    assert len(framework["pb_alignment"]) == 22
    assert [s["goal"] for s in framework["sdgs"]] == [8, 9, 10, 12, 17]
    assert len(framework["milestones"]) == 11
    assert framework["framework"]["version"] == framework["framework_version"] == 2
    assert framework["position"] == max(FRAMEWORK_POSITIONS)


def test_the_ten_critical_assumptions_are_listed_and_each_can_be_read(client: TestClient) -> None:
    assumptions = read(client, "/framework/assumptions")
    assert [a["code"] for a in assumptions["items"]] == [f"CA{n}" for n in range(1, 11)]
    assert assumptions["framework_version"] == 2

    one = read(client, "/framework/assumptions/CA2")
    assert one == {**assumptions["items"][1], "framework_version": 2, "position": assumptions["position"]}


def test_an_unknown_framework_item_is_a_404_problem(client: TestClient, subtests: pytest.Subtests) -> None:
    for path in ("/framework/assumptions/CA11", "/framework/assumptions/ca1", "/framework/deliverables/9.9"):
        with subtests.test(msg=path):
            assert_problem(client.get(path), 404)


def test_a_deliverable_is_read_with_its_active_quarters(client: TestClient) -> None:
    response = client.get("/framework/deliverables/2.2")
    assert response.status_code == 200
    assert response.json()["area"] == "AA4"
    assert response.json()["active_quarters"] == ["2017-Q1", "2018-Q1", "2019-Q1", "2020-Q1", "2021-Q1"]
    assert int(response.headers[POSITION]) == log_head(client)


def test_deliverable_2_2_is_active_only_in_first_quarters(client: TestClient, subtests: pytest.Subtests) -> None:
    for quarter, active in (("2019-Q1", True), ("2019-Q2", False), ("2021-Q1", True), ("2021-Q4", False)):
        with subtests.test(msg=quarter):
            codes = [d["code"] for d in read(client, "/framework/deliverables", active_in=quarter)["items"]]
            assert ("2.2" in codes) is active


def test_deliverables_active_in_a_quarter_are_exactly_those_planned_for_it(client: TestClient) -> None:
    every = read(client, "/framework/deliverables")["items"]
    active = read(client, "/framework/deliverables", active_in="2021-Q4")["items"]

    assert active == [d for d in every if "2021-Q4" in d["active_quarters"]]
    assert {"2.1", "7.1", "8.1"} <= {d["code"] for d in active}
    assert not {"2.2", "4.1", "9.1"} & {d["code"] for d in active}


def test_deliverables_are_filtered_by_area_of_action(client: TestClient) -> None:
    area_5 = read(client, "/framework/deliverables", area="AA5")["items"]
    assert [d["code"] for d in area_5] == ["5.1", "5.2"]

    both = read(client, "/framework/deliverables", area="AA5", active_in="2019-Q1")["items"]
    assert [d["code"] for d in both] == ["5.2"]
    assert read(client, "/framework/deliverables", area="AA9")["items"] == []


def test_a_malformed_quarter_is_refused_naming_the_parameter(client: TestClient, subtests: pytest.Subtests) -> None:
    for quarter in ("2019-Q5", "2019Q1", "1999-Q1", "2019-q1"):
        with subtests.test(msg=quarter):
            assert_problem(client.get("/framework/deliverables", params={"active_in": quarter}), 422, "active_in")


def test_before_the_framework_was_loaded_it_is_not_found(client: TestClient, subtests: pytest.Subtests) -> None:
    for path in ("/framework", "/framework/assumptions", "/framework/deliverables"):
        with subtests.test(msg=path):
            problem = assert_problem(client.get(path, params={"at": 0}), 404)
            assert "position 0" in problem["detail"]


def test_between_registration_and_first_revision_the_framework_is_not_found(client: TestClient) -> None:
    assert min(FRAMEWORK_POSITIONS) == 1
    assert_problem(client.get("/framework", params={"at": 1}), 404)


def test_a_bad_position_is_refused_naming_the_parameter(client: TestClient, subtests: pytest.Subtests) -> None:
    for at in (-1, "two", 1.5):
        with subtests.test(msg=repr(at)):
            assert_problem(client.get("/framework", params={"at": at}), 422, "at")


def test_a_position_beyond_any_possible_log_position_is_not_a_server_error(client: TestClient) -> None:
    response = client.get("/framework", params={"at": 2**63})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert_problem(response, 422, "at")


def test_the_framework_as_known_at_a_position_stays_as_it_was(client: TestClient) -> None:
    assert client.post("/benchmarks", json=benchmark_body()).status_code == 201
    head = log_head(client)
    assert head > max(FRAMEWORK_POSITIONS)

    now = read(client, "/framework")
    then = read(client, "/framework", at=max(FRAMEWORK_POSITIONS))
    later = read(client, "/framework", at=head + 100)

    assert now["position"] == later["position"] == head
    assert then["position"] == max(FRAMEWORK_POSITIONS)
    assert {k: v for k, v in then.items() if k != "position"} == {k: v for k, v in now.items() if k != "position"}
    assert read(client, "/framework/deliverables", at=2)["position"] == 2
    assert read(client, "/framework/assumptions", at=2)["position"] == 2
