"""The reporting service's own health and version, for operators and for
`docker compose`'s health check: no key needed; degraded (not down) when
measurement does not answer, since stored editions can still be read."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from services.reporting.entrypoints.http.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings


def test_health_names_the_store_and_measurement(reporting: TestClient) -> None:
    answer = reporting.get("/health")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert body["editions"] == 0
    assert body["measurement"]["status"] == "ok"
    assert isinstance(body["measurement"]["position"], int) and body["measurement"]["position"] > 0


def test_health_is_degraded_when_measurement_does_not_answer(database_url: str) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = ReportingSettings(database_url=database_url, measurement_url=f"http://127.0.0.1:{port}")
    with TestClient(create_reporting_app(settings)) as reporting:
        answer = reporting.get("/health")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "degraded"
    assert answer.json()["measurement"] == {"status": "unreachable", "position": None}


def test_version_names_the_service(reporting: TestClient) -> None:
    answer = reporting.get("/version")
    assert answer.status_code == 200
    assert answer.json()["service"] == "Stocktake reporting service"
    assert answer.json()["api_version"] == reporting.app.version  # type: ignore[attr-defined]
