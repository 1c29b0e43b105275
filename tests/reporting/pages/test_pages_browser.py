"""The pages in a real browser (Debian's Chromium, driven by Playwright), on
both stores, as people use them: a country office uploads a sheet, sees the
error at its row, fixes it and records it; a double click records once; an
auditor cannot upload; forms without their CSRF token are refused; the
session cookie's flags; nothing is fetched from outside the host (every
tab refuses and reports any such request); no serious or critical axe
violation. Each page looked at is saved as a screenshot in test-artifacts/pages/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from playwright.sync_api import FilePayload, Page, expect

from services.common.access import Role
from tests.reporting.pages.conftest import screenshot, sign_in_in_browser

HEADER = "benchmark,country,sector,period,value\n"
WITH_A_BAD_ROW = HEADER + "CA2-INSPECTION,BGD,,2019-Q2,14\nCA2-INSPECTION,BGD,,2019-Q3,150\n"
FIXED = HEADER + "CA2-INSPECTION,BGD,,2019-Q2,14\nCA2-INSPECTION,BGD,,2019-Q3,18\n"
AS_OF = "/?as_of=2019-12-31"


def _upload(page: Page, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    page.goto("/upload")
    page.get_by_label("CSV or XLSX file").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check before recording")


def _recorded(programme: TestClient) -> list[tuple[str, float]]:
    items = programme.get("/observations", params={"country": "BGD"}).json()["items"]
    return sorted((o["period"], o["value"]) for o in items)


def test_an_office_uploads_fixes_a_bad_row_confirms_and_sees_the_new_state(
    page: Page, office_key: str, programme: TestClient, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sign_in_in_browser(page, office_key)
    page.goto(AS_OF)
    ca2 = page.locator(".card", has=page.get_by_role("heading", name="CA2"))
    expect(ca2).to_contain_text("No data")
    screenshot(page, request, "dashboard-before")

    _upload(page, tmp_path, "sheet.csv", WITH_A_BAD_ROW)
    bad = page.locator("#line-3")
    expect(bad).to_contain_text("rejected")
    expect(bad.locator("td.has-error")).to_contain_text("Error in value")
    expect(page.locator("#line-2")).not_to_contain_text("rejected")
    screenshot(page, request, "preview-with-error")

    _upload(page, tmp_path, "sheet-fixed.csv", FIXED)
    expect(page.locator("td.has-error")).to_have_count(0)
    page.get_by_role("button", name="Record 2 rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recorded")
    screenshot(page, request, "recorded")
    assert _recorded(programme) == [("2019-Q2", 14), ("2019-Q3", 18)]

    page.goto(AS_OF)
    expect(ca2).not_to_contain_text("No data")
    expect(ca2.locator("tbody tr").first).to_contain_text("18")
    screenshot(page, request, "dashboard-after")
    page.goto("/assumptions/CA2?as_of=2019-12-31")
    expect(page.locator("figure.chart svg")).to_have_count(1)
    screenshot(page, request, "assumption")
    page.goto("/countries/BGD?as_of=2019-12-31")
    expect(page.get_by_role("heading", name="Recent submissions")).to_be_visible()
    screenshot(page, request, "country")


def test_a_double_clicked_confirm_records_once(
    page: Page, office_key: str, programme: TestClient, tmp_path: Path
) -> None:
    sign_in_in_browser(page, office_key)
    _upload(page, tmp_path, "sheet.csv", FIXED)
    page.get_by_role("button", name="Record 2 rows").dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recorded")
    time.sleep(0.5)  # let a second request, if one was sent, finish
    assert _recorded(programme) == [("2019-Q2", 14), ("2019-Q3", 18)]
    page.reload()  # the browser resubmits the form: still recorded once
    assert _recorded(programme) == [("2019-Q2", 14), ("2019-Q3", 18)]


def test_an_auditor_sees_no_upload_form_and_is_refused_when_posting_one(
    page: Page, tokens: dict[Role, str], programme: TestClient
) -> None:
    sign_in_in_browser(page, tokens[Role.AUDITOR])
    page.goto("/upload")
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("may not record observations")
    token = page.locator("form[action='/sign-out'] input[name=csrf_token]").get_attribute("value")
    files: FilePayload = {"name": "sheet.csv", "mimeType": "text/csv", "buffer": FIXED.encode()}
    response = page.request.post("/upload", multipart={"csrf_token": token or "", "file": files})
    assert response.status == 403
    confirm: dict[str, str | float | bool] = {"csrf_token": token or "", "csv_text": FIXED, "idempotency_key": "a1"}
    assert page.request.post("/upload/confirm", form=confirm).status == 403
    assert _recorded(programme) == []


def test_a_post_without_the_csrf_token_is_refused(page: Page, office_key: str, programme: TestClient) -> None:
    sign_in_in_browser(page, office_key)
    response = page.request.post("/upload/confirm", form={"csv_text": FIXED, "idempotency_key": "no-csrf"})
    assert response.status == 403 and "csrf_token" in response.text()
    assert page.request.post("/sign-out", form={}).status == 403
    assert _recorded(programme) == []


def test_the_session_cookie_is_http_only_strict_and_expires(page: Page, office_key: str) -> None:
    sign_in_in_browser(page, office_key)
    cookie = next(c for c in page.context.cookies() if c["name"] == "stocktake_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain HTTP on 127.0.0.1; Secure over HTTPS (see test_pages_http)
    assert time.time() < cookie["expires"] <= time.time() + 8 * 3600 + 60
    assert page.evaluate("document.cookie") == ""  # no script can read it


@pytest.mark.parametrize("address", ["/?as_of=2019-12-31", "/assumptions/CA2?as_of=2019-12-31", "/upload"])
def test_no_serious_or_critical_accessibility_violation(
    page: Page, office_key: str, address: str, request: pytest.FixtureRequest
) -> None:
    sign_in_in_browser(page, office_key)
    page.goto(address)
    screenshot(page, request, "axe")
    violations = Axe().run(page).response["violations"]
    grave = [(v["id"], v["impact"], v["help"]) for v in violations if v["impact"] in ("serious", "critical")]
    assert grave == []


def test_the_api_docs_of_reporting_work_offline(page: Page, request: pytest.FixtureRequest) -> None:
    page.goto("/docs")
    expect(page.locator(".swagger-ui")).to_contain_text("Stocktake reporting service")
    screenshot(page, request, "swagger")
    page.goto("/redoc")
    expect(page.locator("h1")).to_contain_text("Stocktake reporting service")
    page.wait_for_load_state("networkidle")  # ReDoc's vendor logo would be asked for by now
    screenshot(page, request, "redoc")
