"""The pages, on both stores: the reporting app (with its pages) reading a
measurement served by uvicorn on a real port (tests/reporting/conftest.py),
a programme to look at (one benchmark, BGD and VNM selected), and keys of
each role, among them a country office for BGD only."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect, sync_playwright

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.reporting.entrypoints.http.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from tests.reporting.conftest import ServedApp, ServedMeasurement
from tests.support import set_up_programme

# How long an `expect` waits for the page to get there: 15 s rather than Playwright's 5 s, since the
# machines are shared (Swagger UI once took over 5 s to render reporting's docs with the CPUs busy).
expect.set_options(timeout=15_000)

NONCE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def programme(client: TestClient) -> TestClient:
    set_up_programme(client)
    return client


@pytest.fixture
def office_key(api_keys: ApiKeys) -> str:
    return api_keys.issue("office-bgd", Role.COUNTRY_OFFICE, frozenset({"BGD"}), None, "tests").token


def reporting_settings(database_url: str, served: ServedMeasurement, data_dir: Path) -> ReportingSettings:
    return ReportingSettings(database_url=database_url, measurement_url=served.url, data_dir=data_dir)


@pytest.fixture
def pages(
    database_url: str, served_measurement: ServedMeasurement, programme: TestClient, tmp_path: Path
) -> Iterator[TestClient]:
    """The reporting app with its pages; a browser-like client that keeps
    cookies and does not follow redirects (tests look at them)."""
    settings = reporting_settings(database_url, served_measurement, tmp_path)
    with TestClient(create_reporting_app(settings), follow_redirects=False) as pages_client:
        yield pages_client


def csrf_token(html: str) -> str:
    found = NONCE.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(pages: TestClient, key: str) -> str:
    """Signs in with `key`; the session's CSRF token (from the dashboard)."""
    form = pages.get("/sign-in")
    response = pages.post("/sign-in", data={"api_key": key, "csrf_token": csrf_token(form.text), "next": "/"})
    assert response.status_code == 303, response.text
    dashboard = pages.get("/")
    assert dashboard.status_code == 200, dashboard.text
    return csrf_token(dashboard.text)


@pytest.fixture
def served_pages(
    database_url: str, served_measurement: ServedMeasurement, programme: TestClient, tmp_path: Path
) -> Iterator[ServedApp]:
    """The reporting app with its pages on a real port, for a browser."""
    settings = reporting_settings(database_url, served_measurement, tmp_path)
    with ServedApp(create_reporting_app(settings)) as served:
        yield served


# -- the browser ----------------------------------------------------------------

CHROMIUM = os.environ.get("STOCKTAKE_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("STOCKTAKE_REQUIRE_BROWSER", "") in ("1", "true", "yes")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "pages"
_browser_skipped: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_BROWSER and not Path(CHROMIUM).exists():
        raise pytest.UsageError(
            f"STOCKTAKE_REQUIRE_BROWSER is set but there is no Chromium at {CHROMIUM} "
            "(apt-get install -y chromium; never `playwright install`)."
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _browser_skipped:
        terminalreporter.write_sep(
            "!", f"Browser tests SKIPPED: no Chromium at {CHROMIUM} (apt-get install -y chromium)", yellow=True
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        _browser_skipped.append(CHROMIUM)
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (the browser tests were skipped)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def outside_requests() -> list[str]:
    return []


# Swagger UI and ReDoc have a policy of their own, which refuses ReDoc's vendor logo on purpose (offline_docs.py).
OWN_POLICY_PAGES = ("/docs", "/redoc")


@pytest.fixture
def console_errors() -> list[str]:
    return []


def note_console_errors(tab: Page, errors: list[str]) -> None:
    """Notes each error the page's console reports (a Content-Security-Policy
    violation is one) and each uncaught script error."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and urlsplit(tab.url).path not in OWN_POLICY_PAGES:
            errors.append(f"{tab.url}: {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: errors.append(f"{tab.url}: {error}"))


def open_tab(browser: Browser, url: str, outside: list[str], errors: list[str], **options: Any) -> Iterator[Page]:
    """A fresh browser tab (in a context made with `options`) on `url`; any
    request to a host other than 127.0.0.1 is refused and noted, and so is
    any error in the page's console, such as a Content-Security-Policy
    violation (the test fails on either)."""
    context = browser.new_context(base_url=url, **options)

    def only_this_host(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_host)
    tab = context.new_page()
    note_console_errors(tab, errors)
    yield tab
    context.close()
    assert outside == [], f"requests left the host: {outside}"
    assert errors == [], f"the browser's console reported errors: {errors}"


@pytest.fixture
def page(
    browser: Browser, served_pages: ServedApp, outside_requests: list[str], console_errors: list[str]
) -> Iterator[Page]:
    """A tab of a desktop browser (open_tab)."""
    yield from open_tab(browser, served_pages.url, outside_requests, console_errors)


@pytest.fixture
def phone(
    browser: Browser, served_pages: ServedApp, outside_requests: list[str], console_errors: list[str]
) -> Iterator[Page]:
    """A tab 375 CSS pixels wide at two device pixels per CSS pixel (a phone;
    also what a 750-pixel window shows at 200% zoom), by keyboard and touch."""
    options: dict[str, Any] = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "has_touch": True}
    yield from open_tab(browser, served_pages.url, outside_requests, console_errors, **options)


def screenshot(page: Page, request: pytest.FixtureRequest, name: str) -> Path:
    """A full-page screenshot in test-artifacts/pages/ (git-ignored), named by test, store and page."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{request.node.name}-{name}")
    path = ARTIFACTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in_in_browser(page: Page, key: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Your API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
