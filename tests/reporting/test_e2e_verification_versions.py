"""Verifying an edition made by another generator or rendered with another
template than this service's (real HTTP to measurement, on SQLite and
PostgreSQL): an edition of a generator whose rules are kept is made again by
those rules; one rendered with another template has its content (the JSON
rendering) verified and says why the rest was not made again; one of a
generator whose rules are gone answers "cannot verify", naming both
generators, never a mismatch.

The older editions are stored through the service's own store (`Editions.add`),
as the generator of their version made them: generator 3 made the content
generator 4 makes, less the workplan (None), and generator 2 that of 3, less
the checkpoint in the pins (domain/editions.py)."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.database import Database
from services.reporting.adapters.editions import Editions
from services.reporting.domain.content import canonical_json
from services.reporting.domain.editions import GENERATOR_VERSION
from services.reporting.rendering import TEMPLATE_VERSION, Format, render
from tests.support import set_up_programme

FORMATS = ("json", "html", "csv", "xlsx")
GENERATOR_2 = "stocktake-reporting/2"
GENERATOR_3 = "stocktake-reporting/3"


@pytest.fixture
def editions(database_url: str) -> Iterator[Editions]:
    database = Database(database_url)
    yield Editions(database)
    database.dispose()


def _made_now(client: TestClient, reporting: TestClient, manager: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """An edition made by this service, and its content."""
    set_up_programme(client)
    for country, period, value in (("BGD", "2019-Q2", 14), ("VNM", "2019-Q1", 18.25)):
        body = {"benchmark": "CA2-INSPECTION", "country": country, "period": period, "value": value}
        assert client.post("/observations", json=body).status_code == 201
    made = reporting.post("/reports", json={"kind": "mid-term"}, headers=manager)
    assert made.status_code == 201, made.text
    edition_id = made.json()["id"]
    content = reporting.get(f"/reports/{edition_id}/renderings/json", headers=manager).json()
    return edition_id, content


def _store_older(
    editions: Editions, edition_id: str, content: dict[str, Any], generator: str, template: str
) -> tuple[str, dict[str, str]]:
    """The edition `edition_id` stored again as `generator` and `template`
    made it (its content given); returns its id and stored digests."""
    made = editions.get(edition_id)
    assert made is not None
    older = replace(made, id=str(uuid.uuid4()), generator_version=generator, template_version=template)
    if "checkpoint" not in content["edition"]:
        older = replace(older, checkpoint=None)
    data = canonical_json(content)  # type: ignore[arg-type]
    if template == TEMPLATE_VERSION:
        rendered = {fmt: render(content, Format(fmt)) for fmt in FORMATS}  # type: ignore[arg-type]
    else:  # another layout's bytes, which this service cannot make
        rendered = {fmt: f"template {template} {fmt}".encode() for fmt in FORMATS}
    digests = {fmt: hashlib.sha256(rendered[fmt]).hexdigest() for fmt in FORMATS}
    digests["json"] = hashlib.sha256(data).hexdigest()
    editions.add(older, data, {fmt: (sha, 1) for fmt, sha in digests.items()})
    return older.id, digests


def _as_generator_3(content: dict[str, Any], template: str) -> dict[str, Any]:
    older = copy.deepcopy(content)
    older["workplan"] = None
    older["edition"].update(generator_version=GENERATOR_3, template_version=template)
    return older


def _as_generator_2(content: dict[str, Any], template: str) -> dict[str, Any]:
    older = _as_generator_3(content, template)
    del older["edition"]["checkpoint"]
    older["edition"]["generator_version"] = GENERATOR_2
    return older


def _verification(reporting: TestClient, edition_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = reporting.get(f"/reports/{edition_id}/verification", headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_edition_of_a_kept_generator_and_an_older_template_has_its_content_verified(
    client: TestClient, reporting: TestClient, manager: dict[str, str], editions: Editions
) -> None:
    edition_id, content = _made_now(client, reporting, manager)
    older_id, digests = _store_older(editions, edition_id, _as_generator_2(content, "1"), GENERATOR_2, "1")
    answer = _verification(reporting, older_id, manager)
    assert answer["status"] == "content_match" and answer["match"] is None, answer
    assert f"made by generator {GENERATOR_2}; this service is generator {GENERATOR_VERSION}" in answer["detail"]
    assert f"rendered with template 1; this service renders template {TEMPLATE_VERSION}" in answer["detail"]
    assert "HTML, CSV, XLSX renderings need the template they were made with" in answer["detail"]
    checks = {check["format"]: check for check in answer["formats"]}
    assert checks["json"] == {
        "format": "json",
        "stored": digests["json"],
        "regenerated": digests["json"],
        "match": True,
    }
    for fmt in ("html", "csv", "xlsx"):
        assert checks[fmt] == {"format": fmt, "stored": digests[fmt], "regenerated": None, "match": None}
    assert answer["first_difference"] is None and answer["checkpoint"]["pinned"] is None
    assert answer["generator_version"] == {"pinned": GENERATOR_2, "current": GENERATOR_VERSION}


def test_an_edition_of_a_kept_generator_that_differs_is_a_mismatch_naming_where_and_why(
    client: TestClient, reporting: TestClient, manager: dict[str, str], editions: Editions
) -> None:
    edition_id, content = _made_now(client, reporting, manager)
    altered = _as_generator_2(content, "1")
    benchmark = next(b for a in altered["assumptions"] for b in a["benchmarks"] if b["code"] == "CA2-INSPECTION")
    benchmark["cells"][0]["value"] = 99
    older_id, _ = _store_older(editions, edition_id, altered, GENERATOR_2, "1")
    answer = _verification(reporting, older_id, manager)
    assert answer["status"] == "mismatch" and answer["match"] is False, answer
    assert answer["first_difference"].startswith("assumptions/CA2/benchmarks/CA2-INSPECTION")
    assert answer["first_difference"] in answer["detail"]
    assert f"made by generator {GENERATOR_2}; this service is generator {GENERATOR_VERSION}" in answer["detail"]


def test_an_edition_of_the_generator_before_workplans_is_made_again_by_its_rules_and_matches(
    client: TestClient, reporting: TestClient, manager: dict[str, str], editions: Editions
) -> None:
    edition_id, content = _made_now(client, reporting, manager)
    assert content["workplan"] is not None
    older_id, _ = _store_older(
        editions, edition_id, _as_generator_3(content, TEMPLATE_VERSION), GENERATOR_3, TEMPLATE_VERSION
    )
    answer = _verification(reporting, older_id, manager)
    assert answer["status"] == "match" and answer["match"] is True, answer
    assert f"(made by generator {GENERATOR_3}; this service is generator {GENERATOR_VERSION})" in answer["detail"]
    assert all(check["match"] is True for check in answer["formats"])


def test_an_edition_of_this_generator_and_an_older_template_has_its_content_verified(
    client: TestClient, reporting: TestClient, manager: dict[str, str], editions: Editions
) -> None:
    edition_id, content = _made_now(client, reporting, manager)
    older = copy.deepcopy(content)
    older["edition"]["template_version"] = "2"
    older_id, _ = _store_older(editions, edition_id, older, GENERATOR_VERSION, "2")
    answer = _verification(reporting, older_id, manager)
    assert answer["status"] == "content_match", answer
    assert "made by generator" not in answer["detail"] and "rendered with template 2" in answer["detail"]
    assert answer["checkpoint"]["match"] is True


@pytest.mark.parametrize("generator", ["stocktake-reporting/1", "stocktake-reporting/5"])
def test_an_edition_of_a_generator_whose_rules_are_not_kept_cannot_be_verified_and_says_why(
    client: TestClient, reporting: TestClient, manager: dict[str, str], editions: Editions, generator: str
) -> None:
    # 1: older than any kept; 5: newer than this service (one not yet upgraded, as in a rolling deploy).
    edition_id, content = _made_now(client, reporting, manager)
    older = copy.deepcopy(content)
    older["edition"]["generator_version"] = generator
    older_id, digests = _store_older(editions, edition_id, older, generator, TEMPLATE_VERSION)
    answer = _verification(reporting, older_id, manager)
    assert answer["status"] == "cannot_verify" and answer["match"] is None, answer
    assert answer["detail"].startswith(
        f"Cannot verify: made by generator {generator}; this service is generator {GENERATOR_VERSION}"
    )
    assert GENERATOR_2 in answer["detail"] and answer["first_difference"] is None
    assert [check["match"] for check in answer["formats"]] == [None] * len(FORMATS)
    assert [check["stored"] for check in answer["formats"]] == [digests[fmt] for fmt in FORMATS]
    # Its stored content is still served as it was made.
    served = reporting.get(f"/reports/{older_id}/renderings/json", headers=manager)
    assert json.loads(served.content) == older


def test_an_edition_of_this_generator_and_template_still_matches(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    edition_id, _ = _made_now(client, reporting, manager)
    answer = _verification(reporting, edition_id, manager)
    assert answer["status"] == "match" and answer["match"] is True, answer
    assert answer["detail"].startswith("Match: every rendering made again")
    assert "made by generator" not in answer["detail"]
    assert all(check["match"] is True for check in answer["formats"])
