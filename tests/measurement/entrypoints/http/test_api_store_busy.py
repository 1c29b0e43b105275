"""A write that cannot get the SQLite store's write lock in time (another
process holds it) is a 503 that says to retry, and records nothing; the
retry, once the lock is free, records once."""

from __future__ import annotations

import fcntl
import os
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from services.measurement.bootstrap import MeasurementServices
from tests.support import assert_problem, log_head, observation_body, set_up_programme


# The lock file is SQLite's: PostgreSQL's writers wait on its advisory lock instead.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_waiting_too_long_for_the_sqlite_write_lock_is_a_503_and_records_nothing(
    client: TestClient, services: MeasurementServices
) -> None:
    set_up_programme(client)
    lock = services.database._write_lock
    assert lock is not None
    lock.timeout = 0.3
    head = log_head(client)
    key = {"Idempotency-Key": str(uuid4())}
    other_process = os.open(lock.path, os.O_RDWR)  # a descriptor of its own: as another process holds it
    try:
        fcntl.flock(other_process, fcntl.LOCK_EX)
        refused = client.post("/observations", json=observation_body(), headers=key)
        problem = assert_problem(refused, 503)
        assert problem["type"] == "/problems/storage-unavailable"
        assert refused.headers["Retry-After"] == "2"
    finally:
        os.close(other_process)  # releases the lock
    assert log_head(client) == head
    retried = client.post("/observations", json=observation_body(), headers=key)
    assert retried.status_code == 201, retried.text
    assert log_head(client) == head + 1
