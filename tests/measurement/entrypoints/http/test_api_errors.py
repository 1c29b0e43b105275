"""Errors over HTTP: every one is an RFC 9457 problem whose `type` the
service documents."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, log_head, observation_body, set_up_programme

UNKNOWN_ID = "7a0c3f7e-2f3b-4f53-9d59-8e6a1c2b9f10"
UNKNOWN_ROUTES = ["/nothing-here", "/benchmarks/CA2-INSPECTION/comments", f"/observations/{UNKNOWN_ID}/comments"]


def test_an_unknown_route_is_a_404_problem(client: TestClient, subtests: pytest.Subtests) -> None:
    for path in UNKNOWN_ROUTES:
        with subtests.test(msg=path):
            problem = assert_problem(client.get(path), 404)
            assert problem["type"] == "/problems/not-found"
            assert problem["instance"] == path


WRONG_METHODS = [
    ("DELETE", "/observations"),
    ("PUT", "/benchmarks/CA2-INSPECTION"),
    ("PATCH", "/scope"),
    ("POST", "/log"),
]


def test_a_wrong_method_is_a_405_problem_and_changes_nothing(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    head = log_head(client)
    for method, path in WRONG_METHODS:
        with subtests.test(msg=f"{method} {path}"):
            response = client.request(method, path, json={})

            problem = assert_problem(response, 405)
            assert problem["type"] == "/problems/method-not-allowed"
            assert problem["instance"] == path
            assert response.headers["Allow"]
            assert method not in response.headers["Allow"]
            assert log_head(client) == head


def test_a_405_lists_every_method_the_resource_accepts(client: TestClient) -> None:
    response = client.delete("/observations")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}


CREATING_POSTS = [
    "/benchmarks",
    "/observations",
    "/scope/sectors",
    "/scope/countries",
    "/scope/focal-points",
    f"/observations/{UNKNOWN_ID}/corrections",
    "/benchmarks/CA2-INSPECTION/retirement",
]


def test_a_body_that_is_not_json_is_a_400_problem_and_nothing_is_stored(
    client: TestClient, subtests: pytest.Subtests
) -> None:
    set_up_programme(client)
    head = log_head(client)
    for path in CREATING_POSTS:
        with subtests.test(msg=path):
            response = client.post(path, content=b'{"value": 12.5,,}', headers={"Content-Type": "application/json"})

            problem = assert_problem(response, 400)
            assert problem["type"] == "/problems/malformed-body"
            assert log_head(client) == head


def _problem_of(client: TestClient, kind: str) -> Any:
    if kind == "validation-error":
        return client.post("/observations", json=observation_body(value=150))
    if kind == "malformed-body":
        return client.post("/observations", content=b"{", headers={"Content-Type": "application/json"})
    if kind == "not-found":
        return client.get(f"/observations/{UNKNOWN_ID}")
    if kind == "conflict":
        return client.post("/scope/sectors", json={"code": "garments", "name": "Garments", "rationale": "again"})
    return client.delete("/observations")


PROBLEM_STATUSES = {
    "validation-error": 422,
    "malformed-body": 400,
    "not-found": 404,
    "conflict": 409,
    "method-not-allowed": 405,
}


def test_each_problem_type_is_documented_at_its_uri(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    for kind, status in PROBLEM_STATUSES.items():
        with subtests.test(msg=kind):
            problem = assert_problem(_problem_of(client, kind), status)
            assert problem["type"] == f"/problems/{kind}"

            documentation = client.get(problem["type"])

            assert documentation.status_code == 200
            assert documentation.headers["content-type"].startswith("application/json")
            described = documentation.json()
            assert (described["type"], described["title"]) == (problem["type"], problem["title"])
            assert described["status"] == status
            assert described["description"]


def test_the_validation_error_type_explains_pointers_and_parameters(client: TestClient) -> None:
    described = client.get("/problems/validation-error").json()

    assert described["type"] == "/problems/validation-error"
    assert described["status"] == 422
    assert "pointer" in described["description"] and "parameter" in described["description"]


def test_an_unknown_problem_type_is_a_404_problem(client: TestClient) -> None:
    problem = assert_problem(client.get("/problems/teapot"), 404)
    assert "teapot" in problem["detail"]


def test_a_problem_lists_every_field_with_its_own_detail(client: TestClient) -> None:
    set_up_programme(client)
    body = {key: value for key, value in observation_body(country="XX", colour="red").items() if key != "value"}

    problem = assert_problem(client.post("/observations", json=body), 422, "/value", "/colour", "/country")

    assert len(problem["errors"]) == 3
    assert all(error["detail"] for error in problem["errors"])
    assert problem["instance"] == "/observations"


def test_a_nul_character_in_a_query_or_path_parameter_is_a_422_naming_it(client: TestClient) -> None:
    for url, parameter in (
        ("/observations?benchmark=a%00b", "benchmark"),
        ("/benchmarks/a%00b", "code"),
        ("/progress/countries/B%00D", "iso3"),
    ):
        assert_problem(client.get(url), 422, parameter)


def test_a_body_over_the_limit_is_a_413_problem_and_records_nothing(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    huge = observation_body(comment="x" * 1_100_000)
    response = client.post("/observations", json=huge)
    assert_problem(response, 413)
    chunks = (b'{"comment": "' + b"x" * 600_000, b"x" * 600_000 + b'"}')
    streamed = client.post("/observations", content=iter(chunks), headers={"content-type": "application/json"})
    assert_problem(streamed, 413)
    assert log_head(client) == head
