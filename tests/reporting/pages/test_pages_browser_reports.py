"""Report editions and audit in a real browser (Debian's Chromium), on both
stores: a programme manager double-clicks "make" and one edition is
recorded, approves it, downloads each format (the bytes the API gives) and
verifies it; an auditor sees the latest checkpoint and proves an
observation is in the log. The tabs fail on any console error (a
Content-Security-Policy violation is one) and on any request that leaves
the host (conftest.open_tab)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from services.common.access import Role
from services.reporting.rendering import Format
from tests.reporting.pages.conftest import screenshot, sign_in_in_browser
from tests.support import bearer, observation_body


def test_a_manager_double_clicks_make_approves_downloads_each_format_and_verifies(
    page: Page, tokens: dict[Role, str], request: pytest.FixtureRequest
) -> None:
    manager = bearer(tokens[Role.PROGRAMME_MANAGER])
    sign_in_in_browser(page, tokens[Role.PROGRAMME_MANAGER])
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report editions")
    page.get_by_label("Kind").select_option("custom")
    page.get_by_label("As of (custom editions only)").fill("2019-12-31")
    screenshot(page, request, "editions")
    page.get_by_role("button", name="Make a draft edition").dblclick()
    expect(page.get_by_role("button", name="Approve this edition")).to_be_visible()
    time.sleep(0.5)  # let a second request, if one was sent, finish
    editions = page.request.get("/reports", headers=manager).json()["items"]
    assert [(e["kind"], e["as_of"], e["status"]) for e in editions] == [("custom", "2019-12-31", "draft")]
    assert page.url.endswith(f"/editions/{editions[0]['id']}")
    screenshot(page, request, "edition-draft")

    page.get_by_role("button", name="Approve this edition").click()
    expect(page.locator("main")).to_contain_text("approved by test-programme-manager")
    expect(page.get_by_role("button", name="Approve this edition")).to_have_count(0)

    for fmt in Format:
        with page.expect_download() as download:
            page.get_by_role("link", name=fmt.value.upper(), exact=True).click()
        api = page.request.get(f"/reports/{editions[0]['id']}/renderings/{fmt.value}", headers=manager)
        assert Path(download.value.path()).read_bytes() == api.body(), fmt

    page.get_by_role("link", name="Verify this edition").click()
    expect(page.get_by_role("status")).to_contain_text("Match: every rendering")
    screenshot(page, request, "verification")


def test_an_auditor_sees_the_latest_checkpoint_and_proves_an_observation_is_in_the_log(
    page: Page, tokens: dict[Role, str], programme: TestClient, request: pytest.FixtureRequest
) -> None:
    recorded = programme.post("/observations", json=observation_body(period="2019-Q3", value=15))
    assert recorded.status_code == 201, recorded.text
    checkpoint = programme.get("/transparency/checkpoint", headers={"Accept": "application/json"}).json()
    sign_in_in_browser(page, tokens[Role.AUDITOR])
    page.get_by_role("link", name="Audit").click()
    expect(page.locator("dl.facts")).to_contain_text(checkpoint["root_hash"])
    page.get_by_label("Observation id").fill(recorded.json()["id"])
    page.get_by_role("button", name="Prove it is in the log").click()
    expect(page.get_by_role("status")).to_contain_text("Proven: every event of this observation is in the log")
    expect(page.locator("main table tbody tr")).to_have_count(1)
    screenshot(page, request, "audit-proven")
