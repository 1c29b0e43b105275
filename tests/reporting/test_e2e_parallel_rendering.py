"""Editions made by a reporting app whose XLSX is rendered in a worker
process (as a served process does, `start_serving`) are the editions an app
rendering everything itself makes: the same digests, and each verifies on
the other, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.reporting.bootstrap import bootstrap
from services.reporting.entrypoints.http.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from tests.reporting.conftest import ServedMeasurement
from tests.reporting.test_e2e_reports import _create, _programme, _rendering

FORMATS = ("json", "html", "csv", "xlsx")


@pytest.fixture
def parallel(database_url: str, served_measurement: ServedMeasurement) -> Iterator[TestClient]:
    """A second reporting app on the same store, rendering XLSX in a worker process."""
    running = bootstrap(ReportingSettings(database_url=database_url, measurement_url=served_measurement.url))
    running.reporting.renderer.start()
    try:
        with TestClient(create_reporting_app(services=running)) as client:
            yield client
    finally:
        running.close()


def test_an_edition_rendered_in_a_worker_is_byte_identical_and_verifies_either_way(
    client: TestClient, reporting: TestClient, parallel: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    here, there = _create(reporting, manager), _create(parallel, manager)
    assert here["sha256"] == there["sha256"] and set(there["sha256"]) == set(FORMATS)
    for fmt in FORMATS:
        assert _rendering(parallel, there["id"], fmt, manager) == _rendering(reporting, here["id"], fmt, manager)
    for app, edition in ((parallel, here), (reporting, there)):
        verification = app.get(f"/reports/{edition['id']}/verification", headers=manager).json()
        assert verification["match"] is True, verification
        assert [item["format"] for item in verification["formats"]] == list(FORMATS)
