"""Exact contracts (issue 12): what a retry, a pinned read and a precondition
promise, held to the letter, and no input or stored value that answers 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.common.idempotency import RETENTION
from services.common.tables import idempotency_records
from services.measurement.application.commands import Measurement
from tests.support import assert_problem, bearer, log_head, observation_body, set_up_programme, stored_observations


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
