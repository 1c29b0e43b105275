"""The pages' sessions and CSRF over HTTP (no browser), on both stores:
sign-in exchanges a key for a signed, expiring, HttpOnly, SameSite=Strict
cookie; a changing form without its token is refused; a revoked key ends its
sessions at their next request; each page has a JSON twin; errors are pages."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import create_engine, select, update

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.common.database import normalise_url
from services.common.http.offline_docs import DOCS_POLICY
from services.reporting.adapters.tables import reporting_sessions
from services.reporting.entrypoints.pages.security import PAGE_POLICY
from tests.reporting.pages.conftest import csrf_token, sign_in
from tests.support import assert_problem, bearer

CSV_ROWS = "benchmark,country,period,value\nCA2-INSPECTION,BGD,2019-Q3,15\n"


def test_without_a_session_a_page_sends_to_sign_in_and_its_json_twin_answers_401(pages: TestClient) -> None:
    response = pages.get("/assumptions/CA2")
    assert response.status_code == 303 and response.headers["location"].startswith("/sign-in?next=/assumptions/CA2")
    assert_problem(pages.get("/assumptions/CA2.json"), 401)


def test_sign_in_sets_a_signed_expiring_http_only_strict_cookie(pages: TestClient, office_key: str) -> None:
    form = pages.get("/sign-in")
    response = pages.post("/sign-in", data={"api_key": office_key, "csrf_token": csrf_token(form.text)})
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "stocktake_session=" in v)
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert any(flag.startswith("max-age=") for flag in flags)
    assert "secure" not in flags  # served over plain HTTP here; over HTTPS the cookie is Secure
    assert office_key not in cookie  # the key is encrypted in the cookie, never readable


def test_the_cookie_is_secure_over_https(pages: TestClient, office_key: str) -> None:
    form = pages.get("https://testserver/sign-in")
    response = pages.post(
        "https://testserver/sign-in", data={"api_key": office_key, "csrf_token": csrf_token(form.text)}
    )
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "stocktake_session=" in v)
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_a_wrong_key_is_told_and_no_session_is_made(pages: TestClient) -> None:
    form = pages.get("/sign-in")
    response = pages.post("/sign-in", data={"api_key": "stk_nope_nope", "csrf_token": csrf_token(form.text)})
    assert response.status_code == 401 and "does not accept this key" in response.text
    assert "stocktake_session" not in pages.cookies


def test_sign_in_without_its_csrf_token_is_refused(pages: TestClient, office_key: str) -> None:
    pages.get("/sign-in")
    response = pages.post("/sign-in", data={"api_key": office_key})
    assert response.status_code == 403 and "csrf_token" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_a_forged_cookie_is_no_session(pages: TestClient) -> None:
    pages.cookies.set("stocktake_session", "gAAAAAforged")
    assert pages.get("/").status_code == 303


def test_a_changing_form_without_its_csrf_token_is_refused_and_changes_nothing(
    pages: TestClient, office_key: str, programme: TestClient
) -> None:
    token = sign_in(pages, office_key)
    before = programme.get("/log", params={"limit": 1}).json()["head"]
    for data in ({}, {"csrf_token": "not-the-token"}):
        response = pages.post("/upload/confirm", data={"csv_text": CSV_ROWS, "idempotency_key": "k1", **data})
        assert response.status_code == 403 and "csrf_token" in response.text
    assert programme.get("/log", params={"limit": 1}).json()["head"] == before
    response = pages.post("/sign-out", data={})
    assert response.status_code == 403
    assert pages.get("/").status_code == 200  # still signed in
    assert pages.post("/sign-out", data={"csrf_token": token}).status_code == 303


def test_sign_out_ends_the_session(pages: TestClient, office_key: str) -> None:
    token = sign_in(pages, office_key)
    response = pages.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and 'stocktake_session=""' in response.headers["set-cookie"]
    assert pages.get("/").status_code == 303


def test_sign_out_ends_the_session_on_the_server_so_a_copy_of_its_cookie_is_refused(
    pages: TestClient, office_key: str
) -> None:
    token = sign_in(pages, office_key)
    copied = pages.cookies["stocktake_session"]
    assert pages.post("/sign-out", data={"csrf_token": token}).status_code == 303
    pages.cookies.set("stocktake_session", copied)
    response = pages.get("/")
    assert response.status_code == 303 and response.headers["location"].endswith("ended=1")
    assert_problem(pages.get("/.json"), 401)


def test_a_session_the_server_holds_expired_is_refused_whatever_its_cookie_says(
    pages: TestClient, office_key: str, database_url: str
) -> None:
    sign_in(pages, office_key)
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:
        stored = connection.execute(select(reporting_sessions.c.id_sha256)).scalars().all()
        connection.execute(update(reporting_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    engine.dispose()
    assert len(stored) == 1 and len(stored[0]) == 64  # a digest, not the id the cookie holds
    assert pages.cookies["stocktake_session"].find(stored[0]) == -1
    assert pages.get("/").status_code == 303


def test_a_revoked_key_ends_its_session_at_the_next_request(
    pages: TestClient, api_keys: ApiKeys, office_key: str
) -> None:
    sign_in(pages, office_key)
    key_id = office_key.split("_")[1]
    api_keys.revoke(key_id, "test-operator", "laptop lost")
    response = pages.get("/")
    assert response.status_code == 303 and response.headers["location"].endswith("ended=1")
    assert 'stocktake_session=""' in response.headers["set-cookie"]


def test_the_dashboard_has_its_json_twin_at_the_same_address(pages: TestClient, office_key: str) -> None:
    sign_in(pages, office_key)
    page = pages.get("/", params={"as_of": "2019-12-31"})
    twin = pages.get("/.json", params={"as_of": "2019-12-31"}).json()
    assert pages.get("/", params={"as_of": "2019-12-31", "format": "json"}).json() == twin
    assert [card["assumption"] for card in twin["assumptions"]] == [f"CA{n}" for n in range(1, 11)]
    assert twin["as_of"] == "2019-12-31"
    for card in twin["assumptions"]:
        assert card["assumption"] in page.text and card["colour_label"] in page.text


def test_a_twin_may_be_read_with_a_bearer_key(pages: TestClient, tokens: dict[Role, str]) -> None:
    response = pages.get("/assumptions/CA2.json", headers=bearer(tokens[Role.AUDITOR]))
    assert response.status_code == 200 and response.json()["code"] == "CA2"


def test_an_auditor_sees_no_upload_form_and_posting_one_is_refused(
    pages: TestClient, tokens: dict[Role, str], programme: TestClient
) -> None:
    token = sign_in(pages, tokens[Role.AUDITOR])
    assert 'type="file"' not in pages.get("/upload").text
    before = programme.get("/log", params={"limit": 1}).json()["head"]
    files = {"file": ("sheet.csv", CSV_ROWS.encode(), "text/csv")}
    response = pages.post("/upload", data={"csrf_token": token}, files=files)
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    confirm = {"csrf_token": token, "csv_text": CSV_ROWS, "idempotency_key": "k1"}
    assert pages.post("/upload/confirm", data=confirm).status_code == 403
    assert programme.get("/log", params={"limit": 1}).json()["head"] == before


def test_confirming_twice_records_once(pages: TestClient, office_key: str, programme: TestClient) -> None:
    token = sign_in(pages, office_key)
    files = {"file": ("sheet.csv", CSV_ROWS.encode(), "text/csv")}
    preview = pages.post("/upload", data={"csrf_token": token}, files=files)
    assert preview.status_code == 200 and "would be recorded" in preview.text
    key = next(line for line in preview.text.splitlines() if 'name="idempotency_key"' in line).split('value="')[1]
    confirm = {"csrf_token": token, "csv_text": CSV_ROWS, "idempotency_key": key.split('"')[0]}
    first, second = pages.post("/upload/confirm", data=confirm), pages.post("/upload/confirm", data=confirm)
    assert first.status_code == second.status_code == 200
    recorded = programme.get("/observations", params={"country": "BGD"}).json()["items"]
    assert [(o["period"], o["value"]) for o in recorded] == [("2019-Q3", 15)]


def test_an_error_of_a_page_is_a_page_and_of_its_twin_a_problem(pages: TestClient, office_key: str) -> None:
    sign_in(pages, office_key)
    page = pages.get("/countries/VNM")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "<h1>" in page.text
    assert_problem(pages.get("/countries/VNM.json"), 403)


def test_docs_and_redoc_are_served_without_a_cdn(pages: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = pages.get(path).text
        assert "/docs-assets/" in html and "cdn." not in html and "fonts.googleapis" not in html
    assert pages.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert pages.get("/docs-assets/redoc.standalone.js").status_code == 200


def test_measurements_docs_and_redoc_are_served_without_a_cdn(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "/docs-assets/" in html and "cdn." not in html and "fonts.googleapis" not in html
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_an_xlsx_sheet_is_previewed_as_the_csv_it_holds(pages: TestClient, office_key: str) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["benchmark", "country", "period", "value"], ["CA2-INSPECTION", "BGD", "2019-Q3", 15.0]):
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    token = sign_in(pages, office_key)
    files = {"file": ("sheet.xlsx", data.getvalue(), "application/octet-stream")}
    preview = pages.post("/upload?format=json", data={"csrf_token": token}, files=files)
    assert preview.status_code == 200, preview.text
    view = preview.json()
    assert view["csv"] == "benchmark,country,period,value\nCA2-INSPECTION,BGD,2019-Q3,15\n"
    assert [row["outcome"] for row in view["rows"]] == ["imported"]
    page = pages.post("/upload", data={"csrf_token": token}, files=files)
    assert "would import" in page.text and ">imported<" not in page.text  # a dry run records nothing


def test_a_file_that_is_no_workbook_is_refused_as_a_page(pages: TestClient, office_key: str) -> None:
    token = sign_in(pages, office_key)
    files = {"file": ("sheet.xlsx", b"PK\x03\x04 not really", "application/octet-stream")}
    response = pages.post("/upload", data={"csrf_token": token}, files=files)
    assert response.status_code == 422 and "XLSX" in response.text
    assert response.headers["content-type"].startswith("text/html")


def test_every_page_its_twin_and_its_errors_carry_the_security_headers(pages: TestClient, office_key: str) -> None:
    expected = {
        "content-security-policy": PAGE_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "x-frame-options": "DENY",
    }
    assert "'unsafe-inline'" not in PAGE_POLICY and "script-src 'self'" in PAGE_POLICY
    responses = [pages.get("/sign-in")]
    sign_in(pages, office_key)
    responses += [pages.get(path) for path in ("/", "/.json", "/upload", "/countries/VNM", "/editions/nope")]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 403, 404]
    for response in responses:
        assert {name: response.headers.get(name) for name in expected} == expected, response.url
    assert pages.get("/docs").headers["content-security-policy"] == DOCS_POLICY  # Swagger UI keeps its own


def test_recent_submissions_are_the_latest_even_past_the_first_500(
    pages: TestClient, office_key: str, programme: TestClient
) -> None:
    days = [date(2017, 1, 1) + timedelta(days=n) for n in range(505)]
    rows = "".join(f"CA2-INSPECTION,BGD,{day},{n % 90}\n" for n, day in enumerate(days))
    sheet = "benchmark,country,period,value\n" + rows
    imported = programme.post("/observations/batch/csv", content=sheet.encode(), headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.json()["counts"]["imported"] == 505, imported.text
    sign_in(pages, office_key)
    recent = pages.get("/countries/BGD.json").json()["recent"]
    assert [o["period"] for o in recent] == [d.isoformat() for d in days[::-1][:10]]
