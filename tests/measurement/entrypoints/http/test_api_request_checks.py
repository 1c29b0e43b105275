"""The order in which a POST /observations is checked, whatever dependencies
the route is built from: unfit text first, then the key and its role, then
the Idempotency-Key header and the body; and each path still reaches its own
route, however the routes are matched."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from tests.support import assert_problem, bearer, log_head, observation_body, set_up_programme

MALFORMED_KEY = {"Idempotency-Key": " padded "}


def _post(client: TestClient, headers: dict[str, str], body: Any = None) -> Any:
    return client.post("/observations", json=observation_body() if body is None else body, headers=headers, auth=None)


def test_without_a_key_the_answer_is_401_before_the_idempotency_key_or_the_body_is_read(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    problem = assert_problem(_post(client, MALFORMED_KEY, {"value": "x" * 5000}), 401)
    assert problem["type"] == "/problems/unauthenticated"
    assert log_head(client) == head


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.REPORTING])
def test_a_role_that_may_not_record_is_a_403_before_the_idempotency_key_is_read(
    client: TestClient, tokens: dict[Role, str], role: Role
) -> None:
    set_up_programme(client)
    head = log_head(client)
    problem = assert_problem(_post(client, {**bearer(tokens[role]), **MALFORMED_KEY}), 403)
    assert problem["type"] == "/problems/forbidden"
    assert log_head(client) == head


def test_unfit_text_is_refused_before_the_key_is_asked_for(client: TestClient) -> None:
    set_up_programme(client)
    problem = assert_problem(_post(client, {}, observation_body(comment="a\u0000b")), 422, "/comment")
    assert "U+0000" in problem["detail"]


def test_with_a_key_a_malformed_idempotency_key_and_a_bad_body_are_named_together(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    set_up_programme(client)
    body = observation_body(value=True)
    response = _post(client, {**bearer(tokens[Role.COUNTRY_OFFICE]), **MALFORMED_KEY}, body)
    assert_problem(response, 422, "Idempotency-Key", "/value")


def test_a_keyed_post_by_the_office_is_recorded(client: TestClient, tokens: dict[Role, str]) -> None:
    set_up_programme(client)
    headers = {**bearer(tokens[Role.COUNTRY_OFFICE]), "Idempotency-Key": "checks-1"}
    first = _post(client, headers)
    assert first.status_code == 201, first.text
    again = _post(client, headers)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", "/health", 200),
        ("GET", "/problems/validation-error", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/observations", 200),
        ("GET", "/observations/batch", 405),
        ("PUT", "/observations", 405),
        ("GET", "/observations/not-an-id", 422),
        ("GET", "/observations/00000000-0000-0000-0000-000000000000", 404),
        ("GET", "/nowhere", 404),
    ],
)
def test_each_path_reaches_its_own_route(client: TestClient, method: str, path: str, status: int) -> None:
    assert client.request(method, path).status_code == status
