"""The front door (issue 12): `/` is an index, not a 404 (JSON for an API
client, a small page for a browser), and `/health` and `/version` answer
without a key."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.measurement.bootstrap import MeasurementServices
from services.measurement.entrypoints.http.app import create_app
from tests.support import log_head

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
LINKS = {"docs", "redoc", "openapi", "health", "version"}


@pytest.fixture
def anonymous(services: MeasurementServices) -> Iterator[TestClient]:
    """A client that sends no key, on a service that knows where the pages are."""
    settings = services.settings.model_copy(update={"pages_url": "http://127.0.0.1:8001/"})
    with TestClient(create_app(services=dataclasses.replace(services, settings=settings))) as test_client:
        yield test_client


def test_the_index_links_to_the_docs_health_version_and_pages(anonymous: TestClient) -> None:
    for accept in ("application/json", "*/*", ""):
        answer = anonymous.get("/", headers={"Accept": accept})
        assert (answer.status_code, answer.headers["content-type"]) == (200, "application/json"), accept
        links = answer.json()["links"]
        assert set(links) == LINKS | {"pages"} and links["pages"] == "http://127.0.0.1:8001/"
    for name in LINKS:
        assert anonymous.get(links[name]).status_code == 200, name


def test_a_browser_gets_the_index_as_a_page(anonymous: TestClient) -> None:
    page = anonymous.get("/", headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for href in ('href="/docs"', 'href="/redoc"', 'href="/health"', 'href="/version"', 'href="http://127.0.0.1:8001/"'):
        assert href in page.text
    assert anonymous.get("/", headers={"Accept": "text/html;q=0.5, application/json"}).json()["links"]


def test_without_a_pages_address_the_index_does_not_link_them(client: TestClient) -> None:
    assert "pages" not in client.get("/").json()["links"]


def test_health_names_the_head_and_version_the_package(anonymous: TestClient, client: TestClient) -> None:
    health = anonymous.get("/health")
    assert health.json() == {"status": "ok", "position": log_head(client)}
    assert health.headers["Stocktake-Log-Position"] == str(log_head(client))
    version = anonymous.get("/version").json()
    assert version["version"] == "0.1.0" and version["api_version"] == "0.1.0"
