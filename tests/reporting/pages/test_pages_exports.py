"""The exports pages over HTTP (no browser), on both stores: a programme
manager makes a contribution and an IATI activity (once, however often the
form is sent); each download is byte for byte the API's rendering; other
roles see no form and are refused if they post one; what cannot be made is
a readable page, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from tests.reporting.pages.conftest import sign_in
from tests.support import bearer

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _key(page_html: str) -> str:
    found = KEY.search(page_html)
    assert found, "no idempotency_key on the form"
    return found.group(1)


def _exports(pages: TestClient, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = pages.get("/exports", headers=bearer(token)).json()["items"]
    return items


def test_a_programme_manager_makes_each_export_once_and_downloads_the_api_s_bytes(
    pages: TestClient, tokens: dict[Role, str]
) -> None:
    manager = tokens[Role.PROGRAMME_MANAGER]
    csrf = sign_in(pages, manager)
    assert 'href="/export-files"' in pages.get("/").text
    listing = pages.get("/export-files")
    assert "No export yet." in listing.text and '<option value="2018-19">' in listing.text
    form = {"kind": "pi-contribution", "biennium": "2018-19", "as_of": "", "csrf_token": csrf}
    form["idempotency_key"] = _key(listing.text)
    first, second = pages.post("/export-files", data=form), pages.post("/export-files", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    iati = {"kind": "iati-activity", "biennium": "2016-17", "as_of": "2019-12-31", "csrf_token": csrf}
    iati["idempotency_key"] = _key(pages.get("/export-files").text)
    made_iati = pages.post("/export-files", data=iati)
    assert made_iati.status_code == 303, made_iati.text
    made = _exports(pages, manager)
    assert [(e["kind"], e["biennium"], e["as_of"]) for e in made] == [
        ("pi-contribution", "2018-19", "2019-12-31"),
        ("iati-activity", None, "2019-12-31"),
    ]
    assert first.headers["location"] == f"/export-files/{made[0]['id']}"
    for export in made:
        page = pages.get(f"/export-files/{export['id']}")
        assert page.status_code == 200 and export["title"] in page.text
        for fmt in export["formats"]:
            download = pages.get(f"/export-files/{export['id']}/download/{fmt}")
            api = pages.get(f"/exports/{export['id']}/renderings/{fmt}", headers=bearer(manager))
            assert download.status_code == 200 and download.content == api.content
            assert download.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.REPORTING, Role.COUNTRY_OFFICE])
def test_other_roles_see_no_form_to_make_an_export_and_are_refused_posting_one(
    pages: TestClient, tokens: dict[Role, str], role: Role
) -> None:
    csrf = sign_in(pages, tokens[role])
    listing = pages.get("/export-files")
    assert listing.status_code == 200 and 'action="/export-files"' not in listing.text
    form = {"kind": "pi-contribution", "biennium": "2018-19", "csrf_token": csrf, "idempotency_key": "by-hand"}
    response = pages.post("/export-files", data=form)
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert _exports(pages, tokens[Role.PROGRAMME_MANAGER]) == []


def test_what_cannot_be_made_or_found_is_a_readable_page(pages: TestClient, tokens: dict[Role, str]) -> None:
    csrf = sign_in(pages, tokens[Role.PROGRAMME_MANAGER])
    form = {"kind": "iati-activity", "biennium": "", "as_of": "", "csrf_token": csrf, "idempotency_key": "no-date"}
    response = pages.post("/export-files", data=form)
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "needs" in response.text and "as_of" in response.text
    missing = pages.get("/export-files/no-such-export")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert pages.get("/export-files/no-such-export/download/xml").status_code == 404
