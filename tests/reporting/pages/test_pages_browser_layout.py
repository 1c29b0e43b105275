"""The pages on a phone and at 200% zoom, and by keyboard, in a real browser
(Debian's Chromium), on both stores: at 375 CSS pixels wide and two device
pixels per CSS pixel (what a 750-pixel window shows at 200% zoom) no page
needs scrolling sideways (wide tables scroll inside their own box); every
link, button and field is reached with Tab, and shows where the focus is."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.reporting.pages.conftest import screenshot, sign_in_in_browser

PAGES = [
    "/?as_of=2019-12-31",
    "/assumptions/CA2?as_of=2019-12-31",
    "/upload",
    "/countries/BGD",
    "/editions",
    "/export-files",
]

# Every element a person can act on, as the browser's Tab order finds them.
INTERACTIVE = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])"

NUMBER_THEM = """selector => {
  const visible = element => element.getClientRects().length > 0 || element.classList.contains("skip");
  const all = [...document.querySelectorAll(selector)].filter(visible);
  all.forEach((element, index) => element.setAttribute("data-tab", String(index)));
  return all.length;
}"""

FOCUSED = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    tab: element.getAttribute("data-tab"),
    name: element.outerHTML.slice(0, 80),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    shadow: style.boxShadow !== "none",
  };
}"""


@pytest.mark.parametrize("address", PAGES)
def test_no_page_needs_scrolling_sideways_on_a_phone_or_at_200_percent_zoom(
    phone: Page, office_key: str, address: str, request: pytest.FixtureRequest
) -> None:
    sign_in_in_browser(phone, office_key)
    phone.goto(address)
    width = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    screenshot(phone, request, "phone")
    assert width[0] <= width[1], f"{address} is {width[0]} CSS pixels wide in a {width[1]}-pixel window"


def _tab_through(page: Page, count: int) -> list[dict[str, Any]]:
    """What has the focus after each press of Tab, until it has gone round once
    (a date field takes one press per part: day, month, year)."""
    reached: list[dict[str, Any]] = []
    for _ in range(3 * count + 5):
        page.keyboard.press("Tab")
        focused: dict[str, Any] = page.evaluate(FOCUSED)
        if focused["tab"] is None and reached:  # the focus left the page: round once
            break
        reached.append(focused)
    return reached


@pytest.mark.parametrize("address", PAGES)
def test_every_interactive_element_is_reached_with_tab_and_shows_its_focus(
    page: Page, office_key: str, address: str
) -> None:
    sign_in_in_browser(page, office_key)
    page.goto(address)
    count = page.evaluate(NUMBER_THEM, INTERACTIVE)
    reached = [item for item in _tab_through(page, count) if item["tab"] is not None]
    assert {int(item["tab"]) for item in reached} == set(range(count)), address
    unseen = [item["name"] for item in reached if not (item["outline"] or item["shadow"])]
    assert unseen == [], f"no visible focus on {address}: {unseen}"
