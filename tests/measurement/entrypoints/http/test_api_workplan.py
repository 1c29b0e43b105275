"""Workplan delivery and roadmap milestones over HTTP: recorded by the
programme management team, read planned vs recorded as of a valid date and
as known at a log position."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from tests.support import assert_problem, bearer, log_head

POSITION = "Stocktake-Log-Position"
VERSION = "Stocktake-Framework-Version"
EVIDENCE = "https://www.ilo.org/global/topics/labour-administration-inspection/lang--en/index.htm"


def record(client: TestClient, code: str, status: str, on: str, **details: Any) -> Any:
    return client.post(f"/workplan/deliverables/{code}/status", json={"status": status, "on": on, **details})


def outcome(client: TestClient, code: str, result: str, on: str, note: str = "As recorded by the team") -> Any:
    return client.post(f"/workplan/milestones/{code}/outcome", json={"outcome": result, "on": on, "note": note})


def withdraw(client: TestClient, code: str, what: str, reason: str = "Recorded in error") -> Any:
    if code.startswith("M"):
        return client.post(f"/workplan/milestones/{code}/withdrawal", json={"outcome": what, "reason": reason})
    return client.post(f"/workplan/deliverables/{code}/withdrawal", json={"record": what, "reason": reason})


def read(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert int(response.headers[POSITION]) == body["position"]
    assert int(response.headers[VERSION]) == body["framework_version"] == 2
    return body


def delivery(client: TestClient, code: str, as_of: str, **params: Any) -> dict[str, Any]:
    return read(client, f"/workplan/deliverables/{code}", as_of=as_of, **params)


def milestone(client: TestClient, code: str, as_of: str, **params: Any) -> dict[str, Any]:
    return read(client, f"/workplan/milestones/{code}", as_of=as_of, **params)


def test_a_deliverable_started_then_delivered_is_read_as_of_each_date(client: TestClient) -> None:
    started = record(client, "2.1", "started", "2017-02-15", note="Research compiled")
    assert started.status_code == 201, started.text
    assert started.headers["Location"] == "/workplan/deliverables/2.1"
    assert started.headers[VERSION] == "2" and int(started.headers[POSITION]) == started.json()["position"]
    assert started.json()["status"] == "started"
    delivered = record(client, "2.1", "delivered", "2021-11-30", evidence=EVIDENCE)
    assert delivered.status_code == 201, delivered.text

    before = delivery(client, "2.1", "2017-01-31")
    assert (before["status"], before["started_on"], before["late_start"]) == ("not_started", None, False)
    during = delivery(client, "2.1", "2019-Q2")
    assert (during["status"], during["started_on"], during["delivered_on"]) == ("started", "2017-02-15", None)
    assert during["evidence"] is None and during["as_of"] == "2019-06-30"
    after = delivery(client, "2.1", "2021-12-31")
    assert (after["status"], after["delivered_on"], after["evidence"]) == ("delivered", "2021-11-30", EVIDENCE)
    assert (after["planned_start"], after["planned_end"]) == ("2017-01-01", "2021-12-31")
    assert [(fact["event"], fact["on"]) for fact in after["history"]] == [
        ("started", "2017-02-15"),
        ("delivered", "2021-11-30"),
    ]
    assert after["history"][0]["note"] == "Research compiled"
    assert after["history"][1]["evidence"] == EVIDENCE and after["history"][1]["principal"] == "test-programme-manager"


def test_a_deliverable_is_late_once_its_last_planned_quarter_passed_undelivered(client: TestClient) -> None:
    # 9.2 is planned from 2017-Q1 to 2018-Q2; 4.1 from 2017-Q3.
    assert not delivery(client, "9.2", "2018-06-30")["late"]
    assert delivery(client, "9.2", "2018-07-01")["late"]
    assert not delivery(client, "4.1", "2017-09-30")["late_start"]
    assert delivery(client, "4.1", "2017-10-01")["late_start"]
    assert record(client, "9.2", "delivered", "2018-09-30", evidence=EVIDENCE).status_code == 201
    assert delivery(client, "9.2", "2018-08-31")["late"]
    assert not delivery(client, "9.2", "2018-09-30")["late"]

    late = read(client, "/workplan/deliverables", as_of="2018-07-31", late="true")
    codes = {item["code"] for item in late["items"]}
    assert "9.2" in codes and "2.1" not in codes
    assert all(item["late"] for item in late["items"])
    assert late["summary"]["late"] == len(late["items"])
    assert late["summary"]["deliverables"] == 30


def test_a_dropped_deliverable_is_not_late_and_names_its_reason(client: TestClient) -> None:
    assert record(client, "6.5", "started", "2017-03-01").status_code == 201
    dropped = record(client, "6.5", "dropped", "2018-01-15", reason="Merged into 9.1")
    assert dropped.status_code == 201, dropped.text
    state = delivery(client, "6.5", "2019")
    assert (state["status"], state["dropped_on"], state["reason"], state["late"]) == (
        "dropped",
        "2018-01-15",
        "Merged into 9.1",
        False,
    )
    listed = read(client, "/workplan/deliverables", as_of="2019", status="dropped")
    assert [item["code"] for item in listed["items"]] == ["6.5"]
    assert listed["summary"]["by_status"]["dropped"] == 1


@pytest.mark.parametrize(
    ("first", "then", "pointer"),
    [
        (("dropped", "2018-01-01", {"reason": "No funds"}), ("delivered", "2019-01-01", {"evidence": EVIDENCE}), None),
        (("delivered", "2018-01-01", {"evidence": EVIDENCE}), ("started", "2018-02-01", {}), None),
        (("delivered", "2018-01-01", {"evidence": EVIDENCE}), ("dropped", "2018-02-01", {"reason": "Late"}), None),
        (("started", "2018-01-01", {}), ("started", "2018-02-01", {}), None),
        (("started", "2018-06-01", {}), ("delivered", "2018-01-01", {"evidence": EVIDENCE}), "/on"),
        (("started", "2018-06-01", {}), ("dropped", "2018-01-01", {"reason": "Late"}), "/on"),
    ],
)
def test_an_impossible_transition_is_refused_and_records_nothing(
    client: TestClient,
    first: tuple[str, str, dict[str, Any]],
    then: tuple[str, str, dict[str, Any]],
    pointer: str | None,
) -> None:
    assert record(client, "2.2", first[0], first[1], **first[2]).status_code == 201
    head = log_head(client)
    refused = record(client, "2.2", then[0], then[1], **then[2])
    if pointer is None:
        assert first[1] in assert_problem(refused, 409)["detail"]
    else:
        assert_problem(refused, 422, pointer)
    assert log_head(client) == head


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"status": "delivered", "on": "2018-01-01"}, ("/evidence",)),
        ({"status": "dropped", "on": "2018-01-01"}, ("/reason",)),
        ({"status": "started", "on": "2018-01-01", "reason": "why"}, ("/reason",)),
        ({"status": "started", "on": "2018-01-01", "evidence": EVIDENCE}, ("/evidence",)),
        ({"status": "dropped", "on": "2018-01-01", "reason": "why", "note": "also"}, ("/note",)),
        ({"status": "delivered", "on": "2018-01-01", "evidence": "not a link"}, ("/evidence",)),
        ({"status": "finished", "on": "2018-01-01"}, ("/status",)),
        ({"status": "started", "on": "2016-12-31"}, ("/on",)),
        ({"status": "started", "on": "2999-01-01"}, ("/on",)),
        ({"status": "started", "on": "2018-13-01"}, ("/on",)),
        ({"status": "started", "on": "2018-Q1"}, ("/on",)),
        ({"status": "started", "on": 20180101}, ("/on",)),
        ({"status": "started"}, ("/on",)),
    ],
)
def test_a_record_that_does_not_fit_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, Any], pointers: tuple[str, ...]
) -> None:
    head = log_head(client)
    assert_problem(client.post("/workplan/deliverables/1.1/status", json=body), 422, *pointers)
    assert log_head(client) == head


def test_an_unknown_code_is_a_404_suggesting_the_known_one(client: TestClient, subtests: pytest.Subtests) -> None:
    cases = {
        "/workplan/deliverables/2.11/status": ({"status": "started", "on": "2018-01-01"}, "'2.1'"),
        "/workplan/milestones/M81/outcome": ({"outcome": "met", "on": "2018-01-01", "note": "x"}, "'M8'"),
    }
    for path, (body, suggestion) in cases.items():
        with subtests.test(msg=path):
            assert suggestion in assert_problem(client.post(path, json=body), 404)["detail"]
            read_path = path.rsplit("/", 1)[0]
            assert suggestion in assert_problem(client.get(read_path), 404)["detail"]
    replaced = assert_problem(outcome(client, "M12", "met", "2019-10-31"), 404)
    assert "M8" in replaced["detail"] and "version 2" in replaced["detail"]


def test_milestones_are_upcoming_due_overdue_then_met_or_missed(client: TestClient) -> None:
    # M1: April 2017 (para. 8).
    assert milestone(client, "M1", "2017-03")["status"] == "upcoming"
    assert milestone(client, "M1", "2017-04-15")["status"] == "due"
    assert milestone(client, "M1", "2017-05")["status"] == "overdue"
    assert outcome(client, "M1", "met", "2017-04-28", "Garments, electronics, agriculture").status_code == 201
    assert milestone(client, "M1", "2017-04-27")["status"] == "due"
    met = milestone(client, "M1", "2017-05")
    assert (met["status"], met["met_on"], met["note"], met["late"]) == (
        "met",
        "2017-04-28",
        "Garments, electronics, agriculture",
        False,
    )
    assert milestone(client, "M11", "2019")["status"] == "open"
    listed = read(client, "/workplan/milestones", as_of="2017-05-31")
    assert listed["summary"]["milestones"] == 11
    assert {item["code"]: item["status"] for item in listed["items"]}["M1"] == "met"
    assert [item["code"] for item in read(client, "/workplan/milestones", as_of="2020", status="overdue")["items"]] == [
        "M2",
        "M3",
        "M4",
        "M5",
        "M6",
        "M8",
    ]


def test_a_milestone_missed_after_its_due_date_may_be_met_later(client: TestClient) -> None:
    # M8, the mid-term report: due by 30 November 2019 (para. 9; para. 12 says October).
    early = outcome(client, "M8", "missed", "2019-11-30", "Not on the agenda")
    assert "2019-12-01" in assert_problem(early, 422, "/on")["detail"]
    assert outcome(client, "M8", "missed", "2019-12-02", "Not on the November agenda").status_code == 201
    assert milestone(client, "M8", "2019-12-31")["status"] == "missed"
    assert_problem(outcome(client, "M8", "met", "2019-12-01", "Presented"), 422, "/on")
    assert outcome(client, "M8", "met", "2020-03-20", "Presented to the 338th Session").status_code == 201
    met = milestone(client, "M8", "2020")
    assert (met["status"], met["late"], met["missed_on"]) == ("met", True, "2019-12-02")
    assert milestone(client, "M8", "2020-01")["status"] == "missed"
    assert [fact["event"] for fact in met["history"]] == ["missed", "met"]
    assert "2020-03-20" in assert_problem(outcome(client, "M8", "missed", "2021-01-01"), 409)["detail"]
    assert_problem(outcome(client, "M8", "met", "2021-01-01"), 409)


def test_answers_at_an_earlier_position_stay_as_they_were(client: TestClient) -> None:
    assert record(client, "3.1", "started", "2017-01-10").status_code == 201
    then = log_head(client)
    assert record(client, "3.1", "delivered", "2018-12-20", evidence=EVIDENCE).status_code == 201
    assert outcome(client, "M1", "met", "2017-04-20").status_code == 201
    at_then = delivery(client, "3.1", "2019", at=then)
    assert (at_then["status"], at_then["position"], len(at_then["history"])) == ("started", then, 1)
    assert at_then["late"]
    assert milestone(client, "M1", "2019", at=then)["status"] == "overdue"
    assert delivery(client, "3.1", "2019")["status"] == "delivered"
    assert_problem(client.get("/workplan/milestones", params={"at": log_head(client) + 1}), 422, "at")


def test_a_delivery_recorded_in_error_is_withdrawn_and_the_right_one_recorded(client: TestClient) -> None:
    assert record(client, "4.1", "started", "2017-03-01").status_code == 201
    assert record(client, "4.1", "delivered", "2018-05-02", evidence=EVIDENCE).status_code == 201
    recorded = log_head(client)
    # Once delivered, nothing else can be recorded of it ...
    assert_problem(record(client, "4.1", "delivered", "2019-05-02", evidence=EVIDENCE), 409)

    # ... until the record made in error is withdrawn, saying why.
    withdrawn = withdraw(client, "4.1", "delivered", "Wrong year: it was 2019")
    assert withdrawn.status_code == 201, withdrawn.text
    assert withdrawn.headers["Location"] == "/workplan/deliverables/4.1"
    answer = withdrawn.json()
    assert (answer["status"], answer["delivered_on"], answer["evidence"]) == ("started", None, None)
    assert answer["position"] == log_head(client) == recorded + 1
    delivered = answer["history"][1]
    assert delivered["event"] == "delivered" and delivered["on"] == "2018-05-02"
    assert delivered["withdrawn"]["position"] == recorded + 1
    assert delivered["withdrawn"]["reason"] == "Wrong year: it was 2019"
    assert delivered["withdrawn"]["principal"] == "test-programme-manager"
    assert answer["history"][0]["withdrawn"] is None

    assert record(client, "4.1", "delivered", "2019-05-02", evidence=EVIDENCE).status_code == 201
    now = delivery(client, "4.1", "2018-12-31")
    assert (now["status"], now["delivered_on"]) == ("started", None)
    assert delivery(client, "4.1", "2019-12-31")["delivered_on"] == "2019-05-02"
    assert [(f["event"], f["on"], f["withdrawn"] is not None) for f in now["history"]] == [
        ("started", "2017-03-01", False),
        ("delivered", "2018-05-02", True),
        ("delivered", "2019-05-02", False),
    ]
    # As known before the withdrawal, the first delivery stands.
    then = delivery(client, "4.1", "2018-12-31", at=recorded)
    assert (then["status"], then["delivered_on"]) == ("delivered", "2018-05-02")
    assert then["history"][1]["withdrawn"] is None
    listed = read(client, "/workplan/deliverables", as_of="2018-12-31", at=recorded)
    assert {item["code"]: item["status"] for item in listed["items"]}["4.1"] == "delivered"


def test_a_started_or_dropped_record_is_withdrawn_and_the_deliverable_reopens(client: TestClient) -> None:
    assert record(client, "5.1", "started", "2017-06-01").status_code == 201
    assert record(client, "5.1", "dropped", "2018-01-10", reason="No funding").status_code == 201
    reopened = withdraw(client, "5.1", "dropped", "Funding was found").json()
    assert (reopened["status"], reopened["dropped_on"], reopened["reason"]) == ("started", None, None)
    unstarted = withdraw(client, "5.1", "started", "Wrong deliverable").json()
    assert (unstarted["status"], unstarted["started_on"]) == ("not_started", None)
    assert record(client, "5.1", "started", "2017-09-01").status_code == 201
    assert delivery(client, "5.1", "2018")["started_on"] == "2017-09-01"


def test_a_milestone_outcome_recorded_in_error_is_withdrawn(client: TestClient) -> None:
    assert outcome(client, "M1", "met", "2017-04-28").status_code == 201
    assert_problem(outcome(client, "M1", "missed", "2017-05-02"), 409)
    withdrawn = withdraw(client, "M1", "met", "It was only planned")
    assert withdrawn.status_code == 201, withdrawn.text
    assert withdrawn.headers["Location"] == "/workplan/milestones/M1"
    answer = withdrawn.json()
    assert (answer["status"], answer["met_on"], answer["note"]) == ("overdue", None, None)
    assert answer["history"][0]["withdrawn"]["reason"] == "It was only planned"
    assert outcome(client, "M1", "missed", "2017-05-02").status_code == 201
    assert milestone(client, "M1", "2017-06")["status"] == "missed"


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/workplan/deliverables/6.1/withdrawal", {"record": "delivered", "reason": "x"}, 409, "nothing is recorded"),
        ("/workplan/deliverables/2.1/withdrawal", {"record": "dropped", "reason": "x"}, 409, "started on 2017-02-15"),
        ("/workplan/milestones/M2/withdrawal", {"outcome": "met", "reason": "x"}, 409, "no met outcome"),
        ("/workplan/deliverables/2.11/withdrawal", {"record": "started", "reason": "x"}, 404, "'2.1'"),
        ("/workplan/milestones/M81/withdrawal", {"outcome": "met", "reason": "x"}, 404, "'M8'"),
        ("/workplan/deliverables/2.1/withdrawal", {"record": "started", "reason": "  "}, 422, "reason"),
        ("/workplan/deliverables/2.1/withdrawal", {"record": "started", "reason": ""}, 422, "reason"),
        ("/workplan/deliverables/2.1/withdrawal", {"record": "finished", "reason": "x"}, 422, "record"),
        ("/workplan/deliverables/2.1/withdrawal", {"record": "started"}, 422, "reason"),
        ("/workplan/milestones/M1/withdrawal", {"outcome": "late", "reason": "x"}, 422, "outcome"),
    ],
)
def test_a_withdrawal_of_nothing_or_malformed_is_refused_and_records_nothing(
    client: TestClient, path: str, body: dict[str, Any], status: int, says: str
) -> None:
    assert record(client, "2.1", "started", "2017-02-15").status_code == 201
    head = log_head(client)
    problem = assert_problem(client.post(path, json=body), status, *([f"/{says}"] if status == 422 else []))
    if status != 422:
        assert says in problem["detail"]
    assert log_head(client) == head


def test_the_same_idempotency_key_records_once(client: TestClient) -> None:
    headers = {"Idempotency-Key": "deliver-5.2-once"}
    body = {"status": "started", "on": "2017-01-20"}
    first = client.post("/workplan/deliverables/5.2/status", json=body, headers=headers)
    again = client.post("/workplan/deliverables/5.2/status", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert len(delivery(client, "5.2", "2019")["history"]) == 1


def test_only_the_programme_management_team_records_and_everyone_reads(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    for role in (Role.COUNTRY_OFFICE, Role.AUDITOR, Role.REPORTING):
        refused = client.post(
            "/workplan/deliverables/1.1/status",
            json={"status": "started", "on": "2018-01-01"},
            headers=bearer(tokens[role]),
        )
        assert_problem(refused, 403)
        withdrawal = {"record": "started", "reason": "x"}
        assert_problem(
            client.post("/workplan/deliverables/1.1/withdrawal", json=withdrawal, headers=bearer(tokens[role])), 403
        )
        assert client.get("/workplan/milestones", headers=bearer(tokens[role])).status_code == 200
