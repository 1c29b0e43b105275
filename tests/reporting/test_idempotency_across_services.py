"""Idempotency keys are scoped per service (and per principal): the same
`Idempotency-Key` sent by one key once to measurement and once to reporting
is two requests, each of which a retry replays. Both services store their
records in the one store (see conftest.py), so this is what keeps them apart."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.common.idempotency import IdempotencyRecords
from services.measurement.bootstrap import MeasurementServices
from tests.support import benchmark_body, set_up_programme


def test_the_same_key_on_both_services_is_two_requests_each_replayed_on_retry(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    set_up_programme(client)
    headers = {**manager, "Idempotency-Key": "stocktake-2019"}
    body = benchmark_body(code="CA3-DIALOGUE", assumption="CA3")

    defined = client.post("/benchmarks", json=body, headers=headers)
    made = reporting.post("/reports", json={"kind": "mid-term"}, headers=headers)
    assert defined.status_code == 201, defined.text
    assert made.status_code == 201, made.text
    assert "Idempotent-Replayed" not in made.headers

    defined_again = client.post("/benchmarks", json=body, headers=headers)
    made_again = reporting.post("/reports", json={"kind": "mid-term"}, headers=headers)
    assert defined_again.status_code == made_again.status_code == 201
    assert defined_again.headers["Idempotent-Replayed"] == made_again.headers["Idempotent-Replayed"] == "true"
    assert defined_again.json() == defined.json() and made_again.json()["id"] == made.json()["id"]
    assert len(reporting.get("/reports", headers=manager).json()["items"]) == 1


def test_a_namespace_is_a_word_that_no_principal_name_can_hold(services: MeasurementServices) -> None:
    for namespace in ("Reporting", "reporting/x", "a b", "x" * 64):
        with pytest.raises(ValueError, match="not an idempotency namespace"):
            IdempotencyRecords(services.database, namespace)
