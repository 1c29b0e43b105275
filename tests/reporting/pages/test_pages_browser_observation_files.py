"""The form to download observations, in a real browser (Debian's
Chromium), on both stores: filled in and sent with the Enter key, it
downloads measurement's CSV for the fields given, or its SDMX structure (every field is reached
with Tab: test_pages_browser_layout.py); the Exports page with the form has
no serious or critical accessibility violation."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from tests.reporting.pages.conftest import screenshot, sign_in_in_browser
from tests.support import observation_body


def test_an_office_downloads_its_observations_as_of_a_date(
    page: Page, office_key: str, programme: TestClient, tmp_path: Path
) -> None:
    for period in ("2019-Q2", "2019-Q3"):
        assert programme.post("/observations", json=observation_body(period=period)).status_code == 201
    sign_in_in_browser(page, office_key)
    page.goto("/export-files")
    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Valid date (default: today)").fill("2019-06-30")
    page.get_by_label("Country, ISO 3166 alpha-3 (optional, e.g. BGD)").fill("bgd")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download observations").press("Enter")
    download = downloading.value
    assert download.suggested_filename.startswith("observations-2019-06-30-at-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(row["country"], row["period"]) for row in rows] == [("BGD", "2019-Q2")]


def test_an_office_downloads_the_sdmx_structure_from_the_same_form(
    page: Page, office_key: str, programme: TestClient, tmp_path: Path
) -> None:
    assert programme.post("/observations", json=observation_body(period="2019-Q2")).status_code == 201
    sign_in_in_browser(page, office_key)
    page.goto("/export-files")
    page.get_by_label("Format").select_option(label="SDMX structure (XML)")
    page.get_by_label("Country, ISO 3166 alpha-3 (optional, e.g. BGD)").fill("bgd")  # does not apply to it
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download observations").press("Enter")
    download = downloading.value
    assert download.suggested_filename.startswith("observations-structure-at-")
    assert download.suggested_filename.endswith(".xml")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text()
    assert "DF_STOCKTAKE_OBSERVATIONS" in text and "CA2-INSPECTION" in text


def test_the_exports_page_has_no_serious_or_critical_accessibility_violation(
    page: Page, office_key: str, request: pytest.FixtureRequest
) -> None:
    sign_in_in_browser(page, office_key)
    page.goto("/export-files")
    screenshot(page, request, "axe")
    violations = Axe().run(page).response["violations"]
    grave = [(v["id"], v["impact"], v["help"]) for v in violations if v["impact"] in ("serious", "critical")]
    assert grave == []
