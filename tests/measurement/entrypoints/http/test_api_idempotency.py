"""Safe retries: Idempotency-Key on POST /observations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from services.common.access import Principal
from services.common.http.idempotency import fingerprint, request_name
from services.common.idempotency import PURGE_EVERY, RETENTION, Claimed, IdempotencyRecords
from services.common.tables import idempotency_records
from services.measurement.application.commands import Measurement
from services.measurement.entrypoints.http.routes.observations import observation_id_for
from services.measurement.entrypoints.http.schemas.observations import ObservationCreate
from tests.support import (
    assert_problem,
    benchmark_body,
    country_body,
    log_head,
    observation_body,
    set_up_programme,
    stored_observations,
)


def _count(client: TestClient) -> int:
    return len(stored_observations(client))


def test_the_same_post_sent_twice_with_one_key_records_one_observation(client: TestClient) -> None:
    set_up_programme(client)
    headers = {"Idempotency-Key": "office-bgd-2019-q2-001"}
    first = client.post("/observations", json=observation_body(), headers=headers)
    head = log_head(client)
    again = client.post("/observations", json=observation_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (log_head(client), _count(client)) == (head, 1)


def test_a_keyed_answer_is_the_observation_as_read_and_as_replayed(client: TestClient) -> None:
    """The answer with a key is drafted before its save and completed with the position and time the
    save assigned: it is the observation as GET reads it, field for field, and its replay is it again."""
    set_up_programme(client)
    first = client.post("/observations", json=observation_body(comment="drafted"), headers={"Idempotency-Key": "k-d"})
    assert first.status_code == 201
    answer = first.json()
    read = client.get(first.headers["Location"])
    assert answer == read.json()
    assert answer["recorded_position"] == answer["last_position"] == answer["position"] == log_head(client)
    assert answer["recorded_at"] == answer["updated_at"] != "1970-01-01T00:00:00Z"
    assert first.headers["Stocktake-Log-Position"] == str(answer["position"])
    assert first.headers["ETag"] == read.headers["ETag"] == '"1"'
    again = client.post("/observations", json=observation_body(comment="drafted"), headers={"Idempotency-Key": "k-d"})
    assert again.content == first.content
    for name in ("Location", "ETag", "Stocktake-Log-Position"):
        assert again.headers[name] == first.headers[name]
    unkeyed = client.post("/observations", json=observation_body(comment="drafted", period="2018-Q1")).json()
    assert list(unkeyed) == list(answer)


def test_a_keyed_post_on_copies_another_process_made_stale_is_checked_again(
    client: TestClient, measurement: Measurement
) -> None:
    """A keyed POST is checked first against the copies of its benchmark and scope already read (no
    query); when another process (a second application on the store) has retired the benchmark since,
    the save is refused under the log's lock and the recording checked again against fresh reads:
    refused (409), nothing recorded, the key free again."""
    set_up_programme(client)
    assert client.post("/observations", json=observation_body(), headers={"Idempotency-Key": "k-s1"}).status_code == 201
    other = Measurement(measurement.database, measurement.country_name)
    try:
        other.retire_benchmark("CA2-INSPECTION", "replaced", "pm")
    finally:
        other.close()
    head = log_head(client)
    body = observation_body(period="2018-Q1")
    for _ in range(2):  # refused, so the key stays free: the retry is checked anew
        problem = assert_problem(client.post("/observations", json=body, headers={"Idempotency-Key": "k-s2"}), 409)
        assert "retired" in problem["detail"]
    assert (log_head(client), _count(client)) == (head, 1)


def test_the_same_key_with_another_payload_is_refused_and_records_nothing(client: TestClient) -> None:
    set_up_programme(client)
    headers = {"Idempotency-Key": "k-1"}
    assert client.post("/observations", json=observation_body(), headers=headers).status_code == 201
    head = log_head(client)
    problem = assert_problem(client.post("/observations", json=observation_body(value=40), headers=headers), 422)
    assert problem["type"] == "/problems/idempotency-key-reused"
    assert (log_head(client), _count(client)) == (head, 1)


def test_a_retry_while_the_first_request_runs_is_a_409(client: TestClient) -> None:
    set_up_programme(client)
    body = observation_body()
    request_fingerprint = fingerprint("POST", "/observations", ObservationCreate.model_validate(body))
    _idempotency(client).claim("test-office", "k-running", request_fingerprint)
    problem = assert_problem(client.post("/observations", json=body, headers={"Idempotency-Key": "k-running"}), 409)
    assert problem["type"] == "/problems/idempotency-request-in-progress"
    assert _count(client) == 0


def test_a_refused_request_frees_its_key(client: TestClient) -> None:
    set_up_programme(client)
    headers = {"Idempotency-Key": "k-refused"}
    assert_problem(client.post("/observations", json=observation_body(country="ETH"), headers=headers), 422, "/country")
    assert (
        client.post(
            "/scope/countries",
            json={
                "iso3": "ETH",
                "region": "africa",
                "criteria": {
                    name: {"met": True, "evidence": "e"}
                    for name in ("decent_work_deficits", "political_commitment", "ilo_presence")
                },
            },
        ).status_code
        == 201
    )
    assert client.post("/observations", json=observation_body(country="ETH"), headers=headers).status_code == 201


def _first_attempt_cut_off_after_its_commit(client: TestClient, measurement: Measurement, key: str, body: dict) -> dict:
    """The first attempt claimed the key and committed its observation, then
    its process stopped: the claim is abandoned, the observation is stored."""
    claim = _idempotency(client).claim(
        "test-office", key, fingerprint("POST", "/observations", ObservationCreate.model_validate(body))
    )
    assert isinstance(claim, Claimed)
    claimed_at = claim.generation - timedelta(minutes=5)
    with measurement.database.transaction() as connection:
        connection.execute(update(idempotency_records).values(created_at=claimed_at))
    recorded = measurement.record_observation(
        observation_id=observation_id_for(request_name("test-office", key, claimed_at)),
        benchmark=body["benchmark"],
        country=body["country"],
        sector=None,
        period=body["period"],
        value=body["value"],
        disaggregations=body["disaggregations"],
        evidence=body["evidence"],
        comment=body["comment"],
        actor=Principal.office("test-office", ["BGD"]),
    )
    return recorded


def test_a_retry_after_an_attempt_cut_off_after_its_commit_records_nothing_twice(
    client: TestClient, measurement: Measurement
) -> None:
    set_up_programme(client)
    key, body = "k-cut-off", observation_body()
    recorded = _first_attempt_cut_off_after_its_commit(client, measurement, key, body)
    retried = client.post("/observations", json=body, headers={"Idempotency-Key": key})
    assert retried.status_code == 201
    assert retried.json()["id"] == str(recorded["id"])
    assert _count(client) == 1


def test_a_retry_after_a_cut_off_attempt_finds_its_observation_even_once_the_benchmark_is_retired(
    client: TestClient, measurement: Measurement
) -> None:
    """The first attempt committed, its answer was lost, and the benchmark was
    retired before the office retried: the retry still gets its observation,
    not a refusal to record a new one."""
    set_up_programme(client)
    key, body = "k-cut-off-then-retired", observation_body()
    recorded = _first_attempt_cut_off_after_its_commit(client, measurement, key, body)
    retirement = client.post(f"/benchmarks/{body['benchmark']}/retirement", json={"reason": "replaced"})
    assert retirement.status_code == 200, retirement.text
    head = log_head(client)

    retried = client.post("/observations", json=body, headers={"Idempotency-Key": key})
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] == str(recorded["id"])
    assert (_count(client), log_head(client)) == (1, head)
    # A new observation for the retired benchmark is still refused.
    fresh = client.post("/observations", json=body, headers={"Idempotency-Key": "k-new"})
    assert fresh.status_code == 409


def test_a_malformed_key_is_a_422_naming_the_header(client: TestClient) -> None:
    set_up_programme(client)
    for key in ("", "x" * 256, " padded "):
        assert_problem(
            client.post("/observations", json=observation_body(), headers={"Idempotency-Key": key}),
            422,
            "Idempotency-Key",
        )
    assert _count(client) == 0


def test_every_creating_post_replays_its_first_answer_to_a_retry(client: TestClient) -> None:
    posts = (
        ("/benchmarks", benchmark_body()),
        ("/scope/countries", country_body("BGD")),
        ("/scope/sectors", {"code": "garments", "name": "Garments", "rationale": "evidence"}),
        ("/scope/focal-points", {"region": "africa", "name": "A. Person", "email": "a.person@example.org"}),
    )
    for path, body in posts:
        headers = {"Idempotency-Key": f"retry{path}"}
        first = client.post(path, json=body, headers=headers)
        head = log_head(client)
        again = client.post(path, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201), (path, again.text)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert log_head(client) == head, path


def _records(measurement: Measurement) -> list[str]:
    with measurement.database.snapshot() as connection:
        return sorted(connection.execute(select(idempotency_records.c.key)).scalars())


def test_records_past_their_retention_are_deleted_by_the_next_purge(
    client: TestClient, measurement: Measurement
) -> None:
    set_up_programme(client)
    for key, period in (("old", "2019-Q1"), ("recent", "2019-Q2")):
        body = observation_body(period=period)
        assert client.post("/observations", json=body, headers={"Idempotency-Key": key}).status_code == 201
    with measurement.database.transaction() as connection:
        connection.execute(
            update(idempotency_records)
            .where(idempotency_records.c.key == "old")
            .values(created_at=datetime.now(UTC) - RETENTION - timedelta(minutes=1))
        )
    assert "old" in _records(measurement)

    # A process purges when it first claims a key, then at most every PURGE_EVERY.
    records = IdempotencyRecords(measurement.database)
    records.claim("someone-else", "first-claim", "f" * 64)
    assert _records(measurement) == ["first-claim", "recent"]
    with measurement.database.transaction() as connection:
        connection.execute(
            update(idempotency_records).values(created_at=datetime.now(UTC) - RETENTION - timedelta(minutes=1))
        )
    records.claim("someone-else", "second-claim", "f" * 64)
    assert "recent" in _records(measurement), "purged again before PURGE_EVERY had passed"
    assert records.purge(datetime.now(UTC) + PURGE_EVERY) == 2  # "recent" and "first-claim", aged
    assert _records(measurement) == ["second-claim"]

    # The key of a purged record is free: the same key with another payload is a new request.
    again = client.post("/observations", json=observation_body(period="2019-Q3"), headers={"Idempotency-Key": "old"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


def test_a_key_freed_while_it_is_being_claimed_is_claimed_again(client: TestClient, measurement: Measurement) -> None:
    """A retry that finds the key taken, reads it, and finds it gone (its
    first request failed and released it, or a purge removed it) claims it."""
    records = IdempotencyRecords(measurement.database)
    assert isinstance(records.claim("office", "k", "a" * 64), Claimed)
    original = records._claim_existing

    def released_in_between(*args):
        records.release("office", "k")
        return original(*args)

    records._claim_existing = released_in_between  # type: ignore[method-assign]
    assert isinstance(records.claim("office", "k", "b" * 64), Claimed)


def _idempotency(client: TestClient) -> IdempotencyRecords:
    """The running app's idempotency records (TestClient types its app as any ASGI app)."""
    assert isinstance(client.app, FastAPI)
    records: IdempotencyRecords = client.app.state.idempotency
    return records
