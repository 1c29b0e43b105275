"""The report editions and audit pages over HTTP (no browser), on both
stores: a programme manager makes an edition (once, however often the form
is sent) and approves it; other roles see no form and are refused if they
post one; every download is byte for byte the API's rendering; verification
shows a match. Audit shows the latest signed checkpoint and proves an
observation's events are in the log; an unknown, malformed or tampered one
is a readable page, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.common.access import Role
from services.common.database import normalise_url
from services.reporting.rendering import Format
from tests.reporting.pages.conftest import sign_in
from tests.support import bearer, observation_body

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
CUSTOM = {"kind": "custom", "as_of": "2019-12-31"}


def _make_form(page_html: str) -> str:
    found = KEY.search(page_html)
    assert found, "no idempotency_key on the form"
    return found.group(1)


def _editions(pages: TestClient, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = pages.get("/reports", headers=bearer(token)).json()["items"]
    return items


def _made_by_api(pages: TestClient, token: str) -> str:
    response = pages.post("/reports", json=CUSTOM, headers=bearer(token))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_programme_manager_makes_an_edition_once_however_often_the_form_is_sent_and_approves_it(
    pages: TestClient, tokens: dict[Role, str]
) -> None:
    manager = tokens[Role.PROGRAMME_MANAGER]
    csrf = sign_in(pages, manager)
    listing = pages.get("/editions")
    assert "No edition yet." in listing.text and "Make a draft edition" in listing.text
    form = {**CUSTOM, "csrf_token": csrf, "idempotency_key": _make_form(listing.text)}
    first, second = pages.post("/editions", data=form), pages.post("/editions", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    made = _editions(pages, manager)
    assert [(e["kind"], e["as_of"], e["status"]) for e in made] == [("custom", "2019-12-31", "draft")]
    assert first.headers["location"] == f"/editions/{made[0]['id']}"
    assert made[0]["title"] in pages.get("/editions").text

    page = pages.get(first.headers["location"])
    assert page.status_code == 200 and "Approve this edition" in page.text
    approved = pages.post(f"{first.headers['location']}/approval", data={"csrf_token": csrf})
    assert approved.status_code == 303
    page = pages.get(first.headers["location"])
    assert "approved by test-programme-manager" in page.text and "Approve this edition" not in page.text
    assert _editions(pages, manager)[0]["status"] == "approved"


def test_the_same_key_for_another_edition_is_a_readable_refusal(pages: TestClient, tokens: dict[Role, str]) -> None:
    csrf = sign_in(pages, tokens[Role.PROGRAMME_MANAGER])
    key = _make_form(pages.get("/editions").text)
    assert pages.post("/editions", data={**CUSTOM, "csrf_token": csrf, "idempotency_key": key}).status_code == 303
    other = {"kind": "custom", "as_of": "2020-06-30", "csrf_token": csrf, "idempotency_key": key}
    response = pages.post("/editions", data=other)
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert len(_editions(pages, tokens[Role.PROGRAMME_MANAGER])) == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.REPORTING, Role.COUNTRY_OFFICE])
def test_other_roles_see_no_form_to_make_an_edition_and_are_refused_posting_one(
    pages: TestClient, tokens: dict[Role, str], role: Role
) -> None:
    csrf = sign_in(pages, tokens[role])
    listing = pages.get("/editions")
    assert listing.status_code == 200 and 'action="/editions"' not in listing.text
    form = {**CUSTOM, "csrf_token": csrf, "idempotency_key": "edition-by-hand"}
    response = pages.post("/editions", data=form)
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert _editions(pages, tokens[Role.PROGRAMME_MANAGER]) == []


def test_others_may_not_approve_an_edition(pages: TestClient, tokens: dict[Role, str]) -> None:
    edition = _made_by_api(pages, tokens[Role.PROGRAMME_MANAGER])
    csrf = sign_in(pages, tokens[Role.AUDITOR])
    assert "Approve this edition" not in pages.get(f"/editions/{edition}").text
    assert pages.post(f"/editions/{edition}/approval", data={"csrf_token": csrf}).status_code == 403
    assert _editions(pages, tokens[Role.PROGRAMME_MANAGER])[0]["status"] == "draft"


def test_each_download_is_byte_for_byte_the_apis_rendering(pages: TestClient, tokens: dict[Role, str]) -> None:
    edition = _made_by_api(pages, tokens[Role.PROGRAMME_MANAGER])
    sign_in(pages, tokens[Role.AUDITOR])
    page = pages.get(f"/editions/{edition}")
    for fmt in Format:
        assert f'href="/editions/{edition}/download/{fmt.value}"' in page.text
        download = pages.get(f"/editions/{edition}/download/{fmt.value}")
        api = pages.get(f"/reports/{edition}/renderings/{fmt.value}", headers=bearer(tokens[Role.AUDITOR]))
        assert download.status_code == api.status_code == 200
        assert download.content == api.content and download.content
        assert download.headers["content-type"] == api.headers["content-type"]
        assert download.headers["content-disposition"].startswith("attachment; filename=")


def test_verification_shows_a_match(pages: TestClient, tokens: dict[Role, str]) -> None:
    edition = _made_by_api(pages, tokens[Role.PROGRAMME_MANAGER])
    sign_in(pages, tokens[Role.AUDITOR])
    page = pages.get(f"/editions/{edition}/verification")
    assert page.status_code == 200 and "Match: every rendering" in page.text
    assert page.text.count("<td>yes</td>") == len(Format) and "<td>NO</td>" not in page.text
    twin = pages.get(f"/editions/{edition}/verification.json").json()
    assert twin["match"] is True and {f["format"] for f in twin["formats"]} == {fmt.value for fmt in Format}


def test_an_unknown_edition_is_a_readable_404(pages: TestClient, tokens: dict[Role, str]) -> None:
    sign_in(pages, tokens[Role.AUDITOR])
    for path in ("/editions/no-such-edition", "/editions/no-such-edition/verification"):
        response = pages.get(path)
        assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert pages.get("/editions/no-such-edition/download/pdf").status_code == 422


def _recorded(programme: TestClient, period: str = "2019-Q3") -> dict[str, Any]:
    response = programme.post("/observations", json=observation_body(period=period, value=15))
    assert response.status_code == 201, response.text
    return dict(programme.get(f"/observations/{response.json()['id']}").json())


def test_audit_shows_the_latest_checkpoint_and_proves_an_observation_is_in_the_log(
    pages: TestClient, tokens: dict[Role, str], programme: TestClient
) -> None:
    observation = _recorded(programme)
    checkpoint = programme.get("/transparency/checkpoint", headers={"Accept": "application/json"}).json()
    sign_in(pages, tokens[Role.AUDITOR])
    page = pages.get("/audit")
    assert page.status_code == 200
    assert checkpoint["root_hash"] in page.text and f"<dd>{checkpoint['size']}</dd>" in page.text
    proof = pages.get("/audit", params={"observation": observation["id"]})
    assert proof.status_code == 200 and "Proven: every event" in proof.text
    twin = pages.get("/audit.json", params={"observation": observation["id"]}).json()
    assert twin["proof"]["proven"] is True
    assert [e["position"] for e in twin["proof"]["events"]] == [observation["recorded_position"]]


def _delete_the_leaf_of(database_url: str, position: int) -> None:
    """As the superuser, with the log's guard switched off (as an attacker would)."""
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS merkle_nodes_no_delete"))
        connection.execute(
            text('DELETE FROM merkle_nodes WHERE level = 0 AND "index" = :index'), {"index": position - 1}
        )
    engine.dispose()


def test_an_unknown_malformed_or_tampered_observation_is_a_readable_page(
    pages: TestClient, tokens: dict[Role, str], programme: TestClient, database_url: str
) -> None:
    earlier, observation = _recorded(programme, "2019-Q2"), _recorded(programme)
    sign_in(pages, tokens[Role.AUDITOR])
    unknown = pages.get("/audit", params={"observation": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 404 and "There is no observation" in unknown.text
    malformed = pages.get("/audit", params={"observation": "12; DROP TABLE"})
    assert malformed.status_code == 422 and "observation" in malformed.text
    _delete_the_leaf_of(database_url, earlier["recorded_position"])
    holed = pages.get("/audit", params={"observation": earlier["id"]})
    assert holed.status_code == 409 and "audit verify" in holed.text
    _delete_the_leaf_of(database_url, observation["recorded_position"])
    tampered = pages.get("/audit", params={"observation": observation["id"]})
    # The observation is the log's last event: without its leaf the tree ends before it.
    assert tampered.status_code == 422 and "is not in the tree" in tampered.text
    for response in (unknown, malformed, tampered, holed):
        assert response.headers["content-type"].startswith("text/html") and "<h1>" in response.text


def test_a_country_office_is_told_audit_is_not_for_its_key(pages: TestClient, office_key: str) -> None:
    sign_in(pages, office_key)
    response = pages.get("/audit")
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
