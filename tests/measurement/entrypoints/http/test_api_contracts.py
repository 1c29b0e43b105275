"""Exact contracts (issue 12): what a retry, a pinned read and a precondition
promise, held to the letter, and no input or stored value that answers 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from services.common.access import Principal, Role
from services.common.api_keys import ApiKeys
from services.common.idempotency import RETENTION
from services.common.tables import idempotency_records
from services.measurement.adapters.tables import benchmark_revisions, observation_values
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import catalogue
from tests.support import (
    assert_problem,
    bearer,
    benchmark_body,
    log_head,
    observation_body,
    set_up_programme,
    stored_observations,
)


def _age_idempotency_records(measurement: Measurement, by: timedelta) -> None:
    with measurement.database.transaction() as connection:
        connection.execute(update(idempotency_records).values(created_at=datetime.now(UTC) - by))


def test_a_key_reused_after_its_24_hours_records_the_new_request_under_a_new_id(
    client: TestClient, measurement: Measurement
) -> None:
    set_up_programme(client)
    headers = {"Idempotency-Key": "k-yesterday"}
    first = client.post("/observations", json=observation_body(value=12.5), headers=headers)
    assert first.status_code == 201
    _age_idempotency_records(measurement, RETENTION + timedelta(minutes=1))

    later = client.post("/observations", json=observation_body(value=40), headers=headers)

    assert later.status_code == 201, later.text
    assert "Idempotent-Replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    stored = {o["id"]: o["value"] for o in stored_observations(client)}
    assert stored == {first.json()["id"]: 12.5, later.json()["id"]: 40}
    # Within its 24 hours the new request is replayed as ever.
    again = client.post("/observations", json=observation_body(value=40), headers=headers)
    assert (again.headers["Idempotent-Replayed"], again.json()["id"]) == ("true", later.json()["id"])


def test_a_replay_is_answered_only_to_a_key_that_may_see_it(
    client: TestClient, api_keys: ApiKeys, tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    headers = {"Idempotency-Key": "k-bgd"}
    first = client.post("/observations", json=observation_body(country="BGD"), headers=headers)
    assert first.status_code == 201
    head = log_head(client)
    vnm_only = api_keys.issue("test-office", Role.COUNTRY_OFFICE, ["VNM"], None, "tests").token

    replayed = client.post(
        "/observations", json=observation_body(country="BGD"), headers={**headers, **bearer(vnm_only)}
    )

    assert_problem(replayed, 403)
    assert first.json()["id"] not in replayed.text
    assert "Location" not in replayed.headers
    assert log_head(client) == head


STATE = "/benchmarks/CA2-INSPECTION/state"
PINNED_READS = (STATE, "/benchmarks/CA2-INSPECTION/series", "/progress/assumptions", "/progress/countries/BGD")


def test_log_head_names_the_last_position_and_when_it_was_recorded(client: TestClient) -> None:
    set_up_programme(client)
    head = client.get("/log/head")
    assert head.status_code == 200
    assert head.json()["position"] == log_head(client) == int(head.headers["Stocktake-Log-Position"])
    last = client.get("/log", params={"after": log_head(client) - 1}).json()["events"][0]
    assert datetime.fromisoformat(head.json()["recorded_at"]) == datetime.fromisoformat(last["recorded_at"])


def test_a_known_at_after_the_last_event_is_refused_naming_the_head(client: TestClient) -> None:
    set_up_programme(client)
    head = client.get("/log/head").json()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for path in PINNED_READS:
        problem = assert_problem(client.get(path, params={"known_at": future}), 422, "known_at")
        assert f"position {head['position']}" in problem["detail"]
        assert head["recorded_at"][:19] in problem["detail"]
    at_head = client.get(STATE, params={"known_at": head["recorded_at"]})
    assert (at_head.status_code, at_head.json()["position"]) == (200, head["position"])


def test_a_known_at_before_the_first_event_is_the_empty_log(client: TestClient) -> None:
    set_up_programme(client)
    rollup = client.get("/progress/assumptions", params={"known_at": "2017-01-01T00:00:00Z"})
    assert rollup.status_code == 200, rollup.text
    assert rollup.json()["position"] == 0
    # The empty log knows no framework, so no assumption either.
    assert (rollup.json()["framework_version"], rollup.json()["assumptions"]) == (None, [])


def test_known_at_and_as_of_are_dates_not_numbers_and_extreme_offsets_are_refused(client: TestClient) -> None:
    set_up_programme(client)
    for path in PINNED_READS:
        for known_at in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "0.5", "1e9", "yesterday"):
            assert_problem(client.get(path, params={"known_at": known_at}), 422, "known_at")
        assert_problem(client.get(path, params={"at": 1, "known_at": "2019-01-01T00:00:00Z"}), 422, "at")
    for path in (STATE, "/progress/assumptions", "/progress/countries/BGD"):
        assert_problem(client.get(path, params={"as_of": "0"}), 422, "as_of")


def test_as_of_is_a_day_month_quarter_or_year(client: TestClient) -> None:
    set_up_programme(client)
    for as_of, valid_date in (
        ("2019-06-30", "2019-06-30"),
        ("2019-Q2", "2019-06-30"),
        ("2019-06", "2019-06-30"),
        ("2019", "2019-12-31"),
    ):
        state = client.get(STATE, params={"as_of": as_of})
        assert (state.status_code, state.json()["as_of"]) == (200, valid_date), state.text


def _recorded(client: TestClient) -> dict:
    set_up_programme(client)
    response = client.post("/observations", json=observation_body())
    assert response.status_code == 201
    recorded: dict = response.json()
    return recorded


def test_if_match_compares_strongly(client: TestClient) -> None:
    observation = _recorded(client)
    path = f"/observations/{observation['id']}/corrections"
    weak = client.post(path, json={"value": 13, "reason": "typo"}, headers={"If-Match": 'W/"1"'})
    assert_problem(weak, 412)
    assert client.get(f"/observations/{observation['id']}").json()["version"] == 1


def test_a_change_to_a_retracted_observation_is_a_409_with_or_without_if_match(client: TestClient) -> None:
    observation = _recorded(client)
    retracted = client.post(
        f"/observations/{observation['id']}/retraction", json={"reason": "duplicate"}, headers={"If-Match": '"1"'}
    )
    assert retracted.status_code == 200
    head = log_head(client)
    for headers in ({}, {"If-Match": '"2"'}, {"If-Match": '"1"'}):
        for change, body in (("corrections", {"value": 1, "reason": "r"}), ("retraction", {"reason": "r"})):
            answer = client.post(f"/observations/{observation['id']}/{change}", json=body, headers=headers)
            assert_problem(answer, 409)
    assert log_head(client) == head


def test_a_correction_answers_at_its_own_log_position(
    client: TestClient, measurement: Measurement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when another event lands between the correction's commit and the
    read of its answer (the read models are then past the correction)."""
    observation = _recorded(client)
    head = log_head(client)
    read_answer = catalogue.observation_or_404
    meanwhile: list[int] = []

    def another_office_records_meanwhile(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if not meanwhile:
            recorded = measurement.record_observation(
                benchmark="CA2-INSPECTION", country="VNM", sector=None, period="2019-Q3", value=20,
                disaggregations=[], evidence=[], comment=None, actor=Principal.office("office-vnm", ["VNM"]),
            )  # fmt: skip
            meanwhile.append(recorded["position"])
        return read_answer(*args, **kwargs)

    monkeypatch.setattr(catalogue, "observation_or_404", another_office_records_meanwhile)
    corrected = client.post(
        f"/observations/{observation['id']}/corrections",
        json={"value": 13, "reason": "typo"},
        headers={"If-Match": '"1"'},
    )
    monkeypatch.undo()
    assert corrected.status_code == 200, corrected.text
    assert (meanwhile, log_head(client)) == ([head + 2], head + 2)
    history = client.get(f"/observations/{observation['id']}/history").json()["events"]
    assert corrected.json()["position"] == int(corrected.headers["Stocktake-Log-Position"]) == head + 1
    assert [event["position"] for event in history][-1] == head + 1


def test_get_on_the_batch_import_is_a_405_allowing_post(client: TestClient) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS"):  # OPTIONS was Allow: DELETE, GET, PATCH, POST, PUT
        answer = client.request(method, "/observations/batch")
        assert_problem(answer, 405)
        assert answer.headers["Allow"] == "POST", method


HUGE = 10**400
WORKERS = "CA2-WORKERS"


def _set_up_counts(client: TestClient) -> None:
    set_up_programme(client)
    counts = benchmark_body(code=WORKERS, measure="unit", unit_label="workers", combination="sum", disaggregations=[])
    assert client.post("/benchmarks", json=counts).status_code == 201


def test_values_are_finite_and_within_their_measures_range(client: TestClient) -> None:
    _set_up_counts(client)
    head = log_head(client)
    for value in (1.7e308, HUGE, 10**12 + 1, -1):
        answer = client.post("/observations", json=observation_body(benchmark=WORKERS, value=value, disaggregations=[]))
        assert_problem(answer, 422, "/value")
    for value in (HUGE, 100.5, -0.1):
        assert_problem(client.post("/observations", json=observation_body(value=value)), 422, "/value")
    baseline = benchmark_body(
        code="CA2-HUGE", measure="unit", combination="sum", baseline={"value": HUGE, "date": "2017-01-01"}
    )
    assert_problem(client.post("/benchmarks", json=baseline), 422, "/baseline/value")
    targets = benchmark_body(code="CA2-HUGE", targets=[{"value": HUGE, "date": "2019-12-31"}])
    assert_problem(client.post("/benchmarks", json=targets), 422, "/targets/0/value")
    assert log_head(client) == head
    at_bound = observation_body(benchmark=WORKERS, value=10**12, disaggregations=[])
    assert client.post("/observations", json=at_bound).status_code == 201


def _every_read_of_the_counts(client: TestClient) -> list:
    return [
        client.get(f"/benchmarks/{WORKERS}/state"),
        client.get(f"/benchmarks/{WORKERS}/series"),
        client.get("/progress/assumptions"),
        client.get("/progress/countries/BGD"),
    ]


def test_no_stored_value_turns_a_read_into_a_500(client: TestClient, measurement: Measurement) -> None:
    """Values written around the input checks (stored before them, or straight into the store)."""
    _set_up_counts(client)
    for country in ("BGD", "VNM"):
        body = observation_body(benchmark=WORKERS, country=country, value=5, disaggregations=[])
        assert client.post("/observations", json=body).status_code == 201
    with measurement.database.transaction() as connection:
        connection.execute(update(observation_values).values(number=1.7e308))
    for answer in _every_read_of_the_counts(client):
        problem = assert_problem(answer, 409)
        assert WORKERS in problem["detail"] and "range" in problem["detail"]

    with measurement.database.transaction() as connection:
        connection.execute(update(observation_values).values(number=5))
        revisions = benchmark_revisions.c
        for row in connection.execute(
            select(revisions.known_from, revisions.state).where(revisions.benchmark == WORKERS)
        ):
            state = {**row.state, "baseline": {**row.state["baseline"], "value": HUGE}}
            connection.execute(
                update(benchmark_revisions)
                .where(revisions.benchmark == WORKERS, revisions.known_from == row.known_from)
                .values(state=state)
            )
    for answer in _every_read_of_the_counts(client):
        assert_problem(answer, 409)


def _post(client: TestClient, path: str, body: dict) -> Response:
    """A JSON body as escaped ASCII, as a client may send a lone surrogate."""
    response: Response = client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    return response


def test_text_with_control_characters_or_lone_surrogates_is_refused_naming_the_field(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    for unfit in ("\x00", "\x07", "\x1b[31m", "\ud800", "\udfff"):
        assert_problem(_post(client, "/observations", observation_body(comment=f"a{unfit}b")), 422, "/comment")
        evidence = [{"title": f"report{unfit}", "url": "https://example.org/r.pdf"}]
        assert_problem(_post(client, "/observations", observation_body(evidence=evidence)), 422, "/evidence/0/title")
        batch = {"observations": [observation_body(comment=unfit)]}
        assert_problem(_post(client, "/observations/batch", batch), 422, "/observations/0/comment")
    assert_problem(client.get("/observations", params={"benchmark": "CA2\x07"}), 422, "benchmark")
    assert log_head(client) == head
    kept = client.post("/observations", json=observation_body(comment="line one\n\tline two\r\n"))
    assert (kept.status_code, kept.json()["comment"]) == (201, "line one\n\tline two\r\n")
