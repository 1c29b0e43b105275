"""Measurement's exports of observations downloaded from the pages (over
HTTP, both apps on real stores): the form on the Exports page, the bytes and
pins of measurement's own export, a country office's countries only, and a
bad field shown as a readable page, never a 500."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from tests.reporting.conftest import ServedMeasurement
from tests.reporting.pages.conftest import sign_in
from tests.support import bearer, observation_body

SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "sdmx-csv": ".sdmx.csv"}
FILES = {
    "csv": "/exports/observations.csv",
    "xlsx": "/exports/observations.xlsx",
    "sdmx-csv": "/exports/observations.sdmx.csv",
}


@pytest.fixture
def recorded(programme: TestClient) -> TestClient:
    """An observation in each selected country."""
    for country, value in (("BGD", 12.5), ("VNM", 30)):
        response = programme.post("/observations", json=observation_body(country=country, value=value))
        assert response.status_code == 201, response.text
    return programme


def _measurement_export(served: ServedMeasurement, token: str, path: str, params: dict[str, str]) -> httpx.Response:
    response = httpx.get(served.url + path, params=params, headers=bearer(token), timeout=30)
    assert response.status_code == 200, response.text
    return response


def _countries(data: bytes) -> set[str]:
    return {row["country"] for row in csv.DictReader(io.StringIO(data.decode()))}


@pytest.mark.parametrize("file", sorted(FILES))
def test_each_download_is_measurement_s_own_export_with_its_pins(
    pages: TestClient, recorded: TestClient, served_measurement: ServedMeasurement, tokens: dict[Role, str], file: str
) -> None:
    manager = tokens[Role.PROGRAMME_MANAGER]
    sign_in(pages, manager)
    listing = pages.get("/export-files")
    assert 'action="/observation-files"' in listing.text and 'for="observations_as_of"' in listing.text
    download = pages.get(
        "/observation-files", params={"file": file, "as_of": "2019-12-31", "benchmark": "", "country": ""}
    )
    assert download.status_code == 200, download.text
    position = download.headers["stocktake-log-position"]
    own = _measurement_export(served_measurement, manager, FILES[file], {"as_of": "2019-12-31", "at": position})
    assert download.content == own.content and len(download.content) > 0
    for header in ("content-type", "content-disposition", "stocktake-as-of", "stocktake-checkpoint-root-hash"):
        assert download.headers[header] == own.headers[header], header
    assert download.headers["stocktake-as-of"] == "2019-12-31"
    assert (
        download.headers["content-disposition"]
        == f'attachment; filename="observations-2019-12-31-at-{position}{SUFFIXES[file]}"'
    )


def test_the_sdmx_structure_is_measurement_s_own_at_the_position_and_ignores_the_data_filters(
    pages: TestClient, recorded: TestClient, served_measurement: ServedMeasurement, tokens: dict[Role, str]
) -> None:
    manager = tokens[Role.PROGRAMME_MANAGER]
    sign_in(pages, manager)
    assert '<option value="sdmx-structure">' in pages.get("/export-files").text
    structure = "/exports/observations.sdmx-structure.xml"
    own = _measurement_export(served_measurement, manager, structure, {})
    position = own.headers["stocktake-log-position"]
    # The form sends every field; the data's filters do not narrow the structure's codelists.
    fields = {"file": "sdmx-structure", "as_of": "2019-12-31", "benchmark": "CA2-INSPECTION", "country": "vnm"}
    download = pages.get("/observation-files", params=fields)
    assert download.status_code == 200, download.text
    assert download.content == own.content and b"<mes:Structure" in download.content
    assert download.headers["content-type"] == own.headers["content-type"]
    assert download.headers["stocktake-log-position"] == position
    assert download.headers["content-disposition"] == f'attachment; filename="observations-structure-at-{position}.xml"'
    assert b"BGD" in download.content and b"VNM" in download.content  # both countries' codes, whatever was asked
    # The position is the structure's own: an earlier one is passed on, and answered at it.
    earlier = pages.get("/observation-files", params={"file": "sdmx-structure", "at": "1"})
    assert earlier.status_code == 200, earlier.text
    assert earlier.headers["stocktake-log-position"] == "1"
    assert earlier.content == _measurement_export(served_measurement, manager, structure, {"at": "1"}).content
    bad = pages.get("/observation-files", params={"file": "sdmx-structure", "at": "-1"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")


def test_the_filters_and_pins_are_passed_to_measurement(
    pages: TestClient, recorded: TestClient, served_measurement: ServedMeasurement, tokens: dict[Role, str]
) -> None:
    manager = tokens[Role.PROGRAMME_MANAGER]
    sign_in(pages, manager)
    head = _measurement_export(served_measurement, manager, FILES["csv"], {"as_of": "2019-12-31"})
    at = head.headers["stocktake-log-position"]
    fields = {"file": "csv", "as_of": "2019-12-31", "at": at, "benchmark": "CA2-INSPECTION", "country": "vnm"}
    download = pages.get("/observation-files", params=fields)
    assert download.status_code == 200, download.text
    assert download.headers["stocktake-log-position"] == at
    assert _countries(download.content) == {"VNM"}
    own = _measurement_export(
        served_measurement, manager, FILES["csv"], {"as_of": "2019-12-31", "at": at, "country": "VNM"}
    )
    assert download.content == own.content
    everything = pages.get("/observation-files", params={"file": "csv", "as_of": "2019-12-31", "at": at})
    assert _countries(everything.content) == {"BGD", "VNM"}


def test_a_country_office_s_download_holds_its_countries_only(
    pages: TestClient, recorded: TestClient, office_key: str
) -> None:
    sign_in(pages, office_key)
    download = pages.get("/observation-files", params={"file": "csv", "as_of": "2019-12-31"})
    assert download.status_code == 200, download.text
    assert _countries(download.content) == {"BGD"}
    asked_for_another = pages.get("/observation-files", params={"file": "csv", "country": "VNM"})
    assert asked_for_another.status_code == 403
    assert asked_for_another.headers["content-type"].startswith("text/html")


def test_a_bad_field_is_a_readable_page_never_a_500(
    pages: TestClient, recorded: TestClient, tokens: dict[Role, str]
) -> None:
    sign_in(pages, tokens[Role.PROGRAMME_MANAGER])
    for fields in ({"file": "csv", "as_of": "2019-13-45"}, {"file": "pdf"}, {"file": "csv", "at": "-1"}):
        response = pages.get("/observation-files", params=fields)
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1" in response.text
    bad_date = pages.get("/observation-files", params={"file": "csv", "as_of": "2019-13-45"})
    assert "as_of" in bad_date.text


def test_a_role_that_reads_no_observations_sees_no_form_and_a_readable_refusal(
    pages: TestClient, tokens: dict[Role, str]
) -> None:
    sign_in(pages, tokens[Role.REPORTING])
    assert 'action="/observation-files"' not in pages.get("/export-files").text
    refused = pages.get("/observation-files", params={"file": "csv"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")


def test_without_a_session_the_download_asks_to_sign_in(pages: TestClient) -> None:
    response = pages.get("/observation-files", params={"file": "csv"})
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
