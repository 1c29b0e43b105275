"""Valid request bodies for tests to start from and break one field at a time."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.common.access import Role


class ActingInTheRoleNeeded(httpx.Auth):
    """Sends the key of the role an endpoint is for: the programme manager's
    for benchmark and scope changes, the office's for observation writes, the
    auditor's (who reads everything) for reads. A request that carries its
    own Authorization header keeps it."""

    def __init__(self, tokens: dict[Role, str]) -> None:
        self.tokens = tokens

    def role_for(self, method: str, path: str) -> Role:
        if method == "GET":
            return Role.AUDITOR
        if path.startswith("/observations"):
            return Role.COUNTRY_OFFICE
        return Role.PROGRAMME_MANAGER

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self.tokens[self.role_for(request.method, request.url.path)]}"
        yield request


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def benchmark_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "CA2-INSPECTION",
        "assumption": "CA2",
        "title": "Share of workplaces inspected",
        "description": "Test benchmark",
        "measure": "percentage",
        "ascending": True,
        "unit_label": "%",
        "baseline": {"value": 10, "date": "2017-01-01"},
        "targets": [
            {"value": 20, "date": "2019-12-31", "label": "mid-term"},
            {"value": 30, "date": "2021-12-31", "label": "final"},
        ],
        "combination": "mean",
        "disaggregations": ["sex"],
        "deliverables": ["2.4"],
        "pb_indicators": ["2018-19:7.1"],
    }
    body.update(overrides)
    return body


def criteria(met: bool = True) -> dict[str, Any]:
    return {
        name: {"met": met, "evidence": f"test evidence for {name}"}
        for name in ("decent_work_deficits", "political_commitment", "ilo_presence")
    }


def country_body(iso3: str = "BGD", region: str = "asia_pacific") -> dict[str, Any]:
    return {"iso3": iso3, "region": region, "criteria": criteria()}


def observation_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "benchmark": "CA2-INSPECTION",
        "country": "BGD",
        "period": "2019-Q2",
        "value": 12.5,
        "disaggregations": [{"dimension": "sex", "category": "female", "value": 11}],
        "evidence": [{"title": "Inspection report", "url": "https://example.org/report.pdf"}],
        "comment": "test",
    }
    body.update(overrides)
    return body


def set_up_programme(client: TestClient, countries: tuple[str, ...] = ("BGD", "VNM")) -> None:
    """A benchmark and selected countries, ready for observations."""
    assert client.post("/benchmarks", json=benchmark_body()).status_code == 201
    for iso3 in countries:
        assert client.post("/scope/countries", json=country_body(iso3)).status_code == 201
    assert (
        client.post("/scope/sectors", json={"code": "garments", "name": "Garments", "rationale": "test"}).status_code
        == 201
    )


def assert_problem(response: Any, status: int, *pointers: str) -> dict[str, Any]:
    """The response is problem+json with this status, naming these fields."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("/problems/")
    assert problem["title"] and problem["detail"]
    named = {e.get("pointer") or e.get("parameter") for e in problem.get("errors", [])}
    for pointer in pointers:
        assert pointer in named, f"{pointer} not in {named}: {problem}"
    return problem


def if_match(client: TestClient, observation_id: str) -> dict[str, str]:
    """The If-Match header of a change based on the observation as it is now."""
    return {"If-Match": client.get(f"/observations/{observation_id}").headers["ETag"]}


def stored_observations(client: TestClient) -> list[dict[str, Any]]:
    """Every observation the API lists (tests store at most 500)."""
    response = client.get("/observations", params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def log_head(client: TestClient) -> int:
    return int(client.get("/log", params={"limit": 1}).json()["head"])
