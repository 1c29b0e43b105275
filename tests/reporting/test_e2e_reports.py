"""The reporting service end to end, with real HTTP to measurement (see
conftest.py), on SQLite and PostgreSQL: editions are byte-reproducible, a
late correction leaves an old edition verifying and is restated in the
next, and a key gets from reporting the refusals it gets from measurement."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.reporting.domain.editions import KIND_AS_OF, EditionKind
from services.reporting.entrypoints.http.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from tests.support import assert_problem, bearer, benchmark_body, if_match, log_head, set_up_programme

FORMATS = ("json", "html", "csv", "xlsx")
CODE = "CA2-INSPECTION"


def _record(client: TestClient, country: str, period: str, value: Any) -> str:
    body = {"benchmark": CODE, "country": country, "period": period, "value": value}
    response = client.post("/observations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _programme(client: TestClient) -> dict[str, str]:
    """Two countries' inspections, and a second benchmark without data."""
    set_up_programme(client)
    assert client.post("/benchmarks", json=benchmark_body(code="CA3-DIALOGUE", assumption="CA3")).status_code == 201
    return {
        "bgd-2018": _record(client, "BGD", "2018", 12),
        "bgd-2019q2": _record(client, "BGD", "2019-Q2", 14),
        "vnm-2019q1": _record(client, "VNM", "2019-Q1", 18.25),
    }


def _create(reporting: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = reporting.post("/reports", json={"kind": "mid-term", **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"/reports/{created['id']}"
    return created


def _rendering(reporting: TestClient, edition: str, fmt: str, headers: dict[str, str]) -> bytes:
    response = reporting.get(f"/reports/{edition}/renderings/{fmt}", headers=headers)
    assert response.status_code == 200, response.text
    data: bytes = response.content
    return data


def _benchmark(content: dict[str, Any], code: str) -> dict[str, Any]:
    return next(b for a in content["assumptions"] for b in a["benchmarks"] if b["code"] == code)


def test_the_same_edition_made_twice_gives_the_same_bytes_in_every_format(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    first, second = _create(reporting, manager), _create(reporting, manager)
    assert first["id"] != second["id"]
    assert first["sha256"] == second["sha256"] and set(first["sha256"]) == set(FORMATS)
    for fmt in FORMATS:
        assert _rendering(reporting, first["id"], fmt, manager) == _rendering(reporting, second["id"], fmt, manager)
    content = reporting.get(f"/reports/{first['id']}/renderings/json", headers=manager).json()
    assert content["edition"]["as_of"] == "2019-10-31" and content["edition"]["position"] == log_head(client)
    assert [a["code"] for a in content["assumptions"]] == [f"CA{n}" for n in range(1, 11)]
    inspection = _benchmark(content, CODE)
    assert [(c["country"], c["value"]) for c in inspection["cells"]] == [("BGD", 14.0), ("VNM", 18.25)]
    # The mean of 14 and 18.25 (16.125), as measurement gives it: to 2 decimals.
    assert inspection["combined"] == 16.12 and inspection["colour"] in ("green", "amber", "red")
    assert _benchmark(content, "CA3-DIALOGUE")["colour"] == "grey"
    verification = reporting.get(f"/reports/{first['id']}/verification", headers=manager).json()
    assert verification["match"] is True and verification["first_difference"] is None


def test_a_late_correction_leaves_the_old_edition_verifying_and_is_restated_in_the_next(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    ids = _programme(client)
    old = _create(reporting, manager)
    correction = {"value": 15, "reason": "re-counted"}
    response = client.post(
        f"/observations/{ids['bgd-2019q2']}/corrections", json=correction, headers=if_match(client, ids["bgd-2019q2"])
    )
    assert response.status_code == 200, response.text

    verification = reporting.get(f"/reports/{old['id']}/verification", headers=manager).json()
    assert verification["match"] is True, verification
    new = _create(reporting, manager)
    assert new["previous"] == {"id": old["id"], "as_of": "2019-10-31", "position": old["position"]}
    content = reporting.get(f"/reports/{new['id']}/renderings/json", headers=manager).json()
    [restatement] = content["restatements"]
    assert restatement["benchmark"] == CODE and restatement["country"] == "BGD"
    assert restatement["reason"] == "correction"
    assert (restatement["before"]["value"], restatement["after"]["value"]) == (14.0, 15.0)
    assert _benchmark(content, CODE)["trend"]["change"] == 0.5

    diff = reporting.get(f"/reports/{new['id']}/diff", params={"against": old["id"]}, headers=manager).json()
    [assumption] = diff["assumptions"]
    [changed] = assumption["benchmarks"]
    assert (assumption["code"], changed["code"]) == ("CA2", CODE)
    assert [cell["country"] for cell in changed["cells"]] == ["BGD"]
    assert changed["fields"]["combined"] == {"before": 16.12, "after": 16.62}


def test_a_late_observation_and_a_retraction_are_restated_with_their_reasons(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    ids = _programme(client)
    old = _create(reporting, manager)
    _record(client, "VNM", "2019-Q3", 19)
    retraction = client.post(
        f"/observations/{ids['bgd-2019q2']}/retraction",
        json={"reason": "duplicate"},
        headers=if_match(client, ids["bgd-2019q2"]),
    )
    assert retraction.status_code == 200, retraction.text
    content = reporting.get(f"/reports/{_create(reporting, manager)['id']}/renderings/json", headers=manager).json()
    reasons = {(r["country"], r["reason"]) for r in content["restatements"]}
    assert reasons == {("BGD", "retraction"), ("VNM", "new_observation")}
    assert reporting.get(f"/reports/{old['id']}/verification", headers=manager).json()["match"] is True


def test_a_second_observation_for_the_same_period_is_restated_as_new_not_as_a_correction(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    """Measurement names each value's observation (`first_recorded`), so a
    restatement tells another observation for the same quarter, which stands
    as recorded last, from a correction of the one that stood."""
    _programme(client)
    old = _create(reporting, manager)
    second = _record(client, "BGD", "2019-Q2", 16)
    content = reporting.get(f"/reports/{_create(reporting, manager)['id']}/renderings/json", headers=manager).json()
    [restatement] = content["restatements"]
    assert (restatement["country"], restatement["reason"]) == ("BGD", "new_observation")
    assert (restatement["before"]["value"], restatement["after"]["value"]) == (14.0, 16.0)
    assert restatement["before"]["valid_date"] == restatement["after"]["valid_date"] == "2019-06-30"

    # Retracting it uncovers the first observation again: a retraction, as against the second edition.
    retracted = client.post(
        f"/observations/{second}/retraction", json={"reason": "duplicate"}, headers=if_match(client, second)
    )
    assert retracted.status_code == 200, retracted.text
    third = reporting.get(f"/reports/{_create(reporting, manager)['id']}/renderings/json", headers=manager).json()
    assert [(r["country"], r["reason"]) for r in third["restatements"]] == [("BGD", "retraction")]
    assert reporting.get(f"/reports/{old['id']}/verification", headers=manager).json()["match"] is True


def test_a_key_without_the_role_is_refused_by_reporting_as_by_measurement(
    client: TestClient, reporting: TestClient, tokens: dict[Role, str], api_keys: ApiKeys
) -> None:
    _programme(client)
    for role in (Role.REPORTING, Role.AUDITOR, Role.COUNTRY_OFFICE):
        key = bearer(tokens[role])
        refused = assert_problem(reporting.post("/reports", json={"kind": "mid-term"}, headers=key), 403)
        assert "manage:reports" in refused["detail"] and role.value in refused["detail"]
        assert_problem(client.post("/benchmarks", json=benchmark_body(code="X-1"), headers=key), 403)
    office = bearer(api_keys.issue("office-bgd", Role.COUNTRY_OFFICE, ["BGD"], None, "tests").token)
    edition = _create(reporting, bearer(tokens[Role.PROGRAMME_MANAGER]))
    assert_problem(reporting.get(f"/reports/{edition['id']}/verification", headers=office), 403)
    seen = reporting.get(f"/reports/{edition['id']}/renderings/json", headers=office).json()
    assert [c["country"] for c in _benchmark(seen, CODE)["cells"]] == ["BGD"]
    assert _benchmark(seen, CODE)["combined"] == 16.12


def test_verification_needs_a_key_that_reads_every_country(
    client: TestClient, reporting: TestClient, tokens: dict[Role, str], api_keys: ApiKeys
) -> None:
    """An office's key would make the edition again with its own countries'
    cells only, which never matches what was stored: it is refused, saying
    why, and reads its own view instead; every role reading every country
    verifies the same edition as matching."""
    _programme(client)
    edition = _create(reporting, bearer(tokens[Role.PROGRAMME_MANAGER]))
    office = bearer(api_keys.issue("office-bgd", Role.COUNTRY_OFFICE, ["BGD"], None, "tests").token)
    refused = assert_problem(reporting.get(f"/reports/{edition['id']}/verification", headers=office), 403)
    assert "needs a key that reads every country" in refused["detail"] and "BGD only" in refused["detail"]
    assert _rendering(reporting, edition["id"], "json", office)
    for role in (Role.PROGRAMME_MANAGER, Role.AUDITOR, Role.REPORTING):
        verification = reporting.get(f"/reports/{edition['id']}/verification", headers=bearer(tokens[role]))
        assert verification.status_code == 200 and verification.json()["match"] is True, verification.text


def test_without_a_valid_key_reporting_answers_measurement_s_401(reporting: TestClient) -> None:
    assert_problem(reporting.get("/reports"), 401)
    problem = assert_problem(reporting.get("/reports", headers=bearer("stk_000000000000_" + "A" * 43)), 401)
    assert problem["type"] == "/problems/unauthenticated"


def test_an_edition_before_the_programme_or_beyond_the_head_is_a_422_saying_why(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    early = reporting.post("/reports", json={"kind": "custom", "as_of": "2016-06-30"}, headers=manager)
    detail = assert_problem(early, 422, "/as_of")["detail"]
    assert "outside the programme's window, 2017-01-01 to 2022-10-31" in detail
    beyond = reporting.post("/reports", json={"kind": "mid-term", "known_at": log_head(client) + 5}, headers=manager)
    assert "beyond the head" in assert_problem(beyond, 422, "/known_at")["detail"]
    fixed = reporting.post("/reports", json={"kind": "mid-term", "as_of": "2019-12-31"}, headers=manager)
    assert_problem(fixed, 422, "/as_of")
    assert reporting.get("/reports", headers=manager).json()["items"] == []


def test_an_edition_pinned_to_an_earlier_position_reads_what_was_known_then(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    then = log_head(client)
    _record(client, "BGD", "2019-Q3", 30)
    edition = _create(reporting, manager, kind="custom", as_of="2019-09-30", known_at=then)
    content = reporting.get(f"/reports/{edition['id']}/renderings/json", headers=manager).json()
    assert content["edition"]["position"] == then
    assert [c["value"] for c in _benchmark(content, CODE)["cells"]] == [14.0, 18.25]


def test_approved_editions_cannot_be_deleted_and_drafts_can(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    draft, approved = _create(reporting, manager), _create(reporting, manager)
    answer = reporting.post(f"/reports/{approved['id']}/approval", headers=manager)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "approved" and answer.json()["approved_by"] == "test-programme-manager"
    assert_problem(reporting.post(f"/reports/{approved['id']}/approval", headers=manager), 409)
    assert_problem(reporting.delete(f"/reports/{approved['id']}", headers=manager), 409)
    assert reporting.delete(f"/reports/{draft['id']}", headers=manager).status_code == 204
    assert_problem(reporting.get(f"/reports/{draft['id']}", headers=manager), 404)
    revision = _create(reporting, manager, supersedes=approved["id"])
    assert reporting.get(f"/reports/{approved['id']}", headers=manager).json()["superseded_by"] == [revision["id"]]


def test_a_retried_creation_with_its_idempotency_key_makes_one_edition(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    headers = {**manager, "Idempotency-Key": "mid-term-2019"}
    first = reporting.post("/reports", json={"kind": "mid-term"}, headers=headers)
    again = reporting.post("/reports", json={"kind": "mid-term"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert len(reporting.get("/reports", headers=manager).json()["items"]) == 1


def test_the_kinds_dates_are_the_roadmap_s_milestones(
    served_measurement: Any, reporting: TestClient, tokens: dict[Role, str], client: TestClient
) -> None:
    milestones = {m["code"]: m for m in client.get("/framework").json()["milestones"]}
    # Framework version 2 has one mid-term milestone (M8, para. 9: November
    # 2019) that notes para. 12's October 2019: the edition is as of para. 12's.
    (para_12,) = milestones["M8"]["also_in"]
    assert KIND_AS_OF[EditionKind.MID_TERM].isoformat() == para_12["period"]["end"]
    assert milestones["M8"]["period"]["start"] <= para_12["period"]["end"] <= milestones["M8"]["period"]["end"]
    assert KIND_AS_OF[EditionKind.FINAL_ASSESSMENT].isoformat() == milestones["M9"]["period"]["end"]
    assert KIND_AS_OF[EditionKind.FINAL].isoformat() == milestones["M10"]["period"]["end"]


def test_an_unreachable_measurement_is_a_503(database_url: str, tokens: dict[Role, str]) -> None:
    settings = ReportingSettings(database_url=database_url, measurement_url="http://127.0.0.1:9")
    with TestClient(create_reporting_app(settings)) as reporting:
        problem = assert_problem(reporting.get("/reports", headers=bearer(tokens[Role.AUDITOR])), 503)
    assert problem["type"] == "/problems/service-unavailable" and "measurement" in problem["detail"]
