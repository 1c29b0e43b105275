"""What the lean write path (issue 17) must not change: a key revoked
elsewhere is refused within the documented bound, and unfit text is refused
however the body spells it."""

from __future__ import annotations

import json
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common.access import Role
from services.common.api_keys import REVOCATION_BOUND_SECONDS, ApiKeys
from services.common.database import Database
from services.measurement.adapters.countries import country_name
from tests.support import assert_problem, bearer, log_head, observation_body, set_up_programme


def _served_keys(client: TestClient) -> ApiKeys:
    assert isinstance(client.app, FastAPI)
    keys: ApiKeys = client.app.state.authenticator
    return keys


def test_a_key_revoked_by_another_process_is_refused_within_the_bound(
    client: TestClient, api_keys: ApiKeys, database_url: str
) -> None:
    issued = api_keys.issue("office-revoked-elsewhere", Role.COUNTRY_OFFICE, ["BGD"], None, "tests")
    assert client.get("/observations", headers=bearer(issued.token)).status_code == 200

    # Another process (the `stocktake keys revoke` command, another server) revokes it.
    elsewhere = Database(database_url)
    try:
        ApiKeys(elsewhere, country_name).revoke(issued.info.key_id, "tests", "laptop lost")
    finally:
        elsewhere.dispose()
    served = _served_keys(client)
    started = time.monotonic()
    served.clock = lambda: started + REVOCATION_BOUND_SECONDS * 0.9
    assert client.get("/observations", headers=bearer(issued.token)).status_code == 200  # within the bound
    served.clock = lambda: started + REVOCATION_BOUND_SECONDS
    problem = assert_problem(client.get("/observations", headers=bearer(issued.token)), 401)
    assert "revoked" in problem["detail"]


def test_a_key_revoked_through_the_serving_process_is_refused_at_once(client: TestClient) -> None:
    served = _served_keys(client)
    issued = served.issue("office-revoked-here", Role.COUNTRY_OFFICE, ["BGD"], None, "tests")
    assert client.get("/observations", headers=bearer(issued.token)).status_code == 200
    served.revoke(issued.info.key_id, "tests", "laptop lost")
    assert "revoked" in assert_problem(client.get("/observations", headers=bearer(issued.token)), 401)["detail"]


def test_the_revocation_bound_is_seconds() -> None:
    assert 0 < REVOCATION_BOUND_SECONDS <= 10


def test_unfit_text_is_refused_in_every_encoding_json_is_read_in(client: TestClient) -> None:
    """UTF-8 bytes of a lone surrogate, and UTF-16 or UTF-32 bodies (which hold no `\\u` escape a
    quick look for one would find), are refused as escaped ASCII is."""
    set_up_programme(client)
    head = log_head(client)
    headers = {"Content-Type": "application/json"}
    surrogate = json.dumps(observation_body(comment="a\ud800b"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert_problem(client.post("/observations", content=surrogate, headers=headers), 422, "/comment")
    for encoding in ("utf-16", "utf-32"):
        body = json.dumps(observation_body(comment="a\x00b"), ensure_ascii=False).encode(encoding)
        answer = client.post("/observations", content=body, headers=headers)
        assert answer.status_code == 422, (encoding, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert log_head(client) == head
