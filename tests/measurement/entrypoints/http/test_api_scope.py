"""Programme scope over HTTP: at most four sectoral supply chains (para. 8),
countries with the three selection criteria, GSC focal points (para. 11)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, country_body, criteria, log_head

POSITION = "Stocktake-Log-Position"
SECTORS = ("garments", "electronics", "agri-food", "automotive")
MENSAH = {"region": "africa", "name": "A. Mensah", "email": "mensah@ilo.org"}
# A selection without a valid_from takes effect at the programme's start.
SINCE_THE_START = [{"first_day": "2017-01-01", "last_day": None, "ended_because": None}]


def sector_body(code: str) -> dict[str, Any]:
    return {"code": code, "name": code.title(), "rationale": f"Decent work deficits documented in {code}"}


def scope(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/scope", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert int(response.headers[POSITION]) == body["position"]
    return body


def test_an_empty_scope_is_read_at_the_head(client: TestClient) -> None:
    assert scope(client) == {"sectors": [], "countries": [], "focal_points": [], "position": log_head(client)}


def test_four_sectors_are_selected_and_a_fifth_is_refused(client: TestClient) -> None:
    for code in SECTORS:
        response = client.post("/scope/sectors", json=sector_body(code))
        assert response.status_code == 201, response.text
        assert int(response.headers[POSITION]) == response.json()["position"] == log_head(client)
    head = log_head(client)

    problem = assert_problem(client.post("/scope/sectors", json=sector_body("cocoa")), 409)

    assert "para. 8" in problem["detail"] and "4" in problem["detail"]
    assert log_head(client) == head
    assert [s["code"] for s in scope(client)["sectors"]] == list(SECTORS)


def test_a_sector_already_selected_is_a_conflict(client: TestClient) -> None:
    assert client.post("/scope/sectors", json=sector_body("garments")).status_code == 201
    head = log_head(client)

    assert_problem(client.post("/scope/sectors", json={**sector_body("garments"), "name": "Textiles"}), 409)

    assert log_head(client) == head
    assert scope(client)["sectors"] == [{**sector_body("garments"), "periods": SINCE_THE_START}]


INVALID_SECTORS: dict[str, tuple[dict[str, Any], str]] = {
    "missing code": ({"name": "Garments", "rationale": "evidence"}, "/code"),
    "empty rationale": ({**sector_body("garments"), "rationale": ""}, "/rationale"),
    "a name of spaces": ({**sector_body("garments"), "name": " \t "}, "/name"),
    "code with a space": ({**sector_body("garments"), "code": "gar ments"}, "/code"),
    "unknown field": ({**sector_body("garments"), "size": 3}, "/size"),
}


def test_an_invalid_sector_is_refused(client: TestClient, subtests: pytest.Subtests) -> None:
    for case, (body, pointer) in INVALID_SECTORS.items():
        with subtests.test(msg=case):
            head = log_head(client)
            assert_problem(client.post("/scope/sectors", json=body), 422, pointer)
            assert log_head(client) == head
            assert scope(client)["sectors"] == []


def test_a_country_is_selected_with_its_name_region_and_criteria(client: TestClient) -> None:
    response = client.post("/scope/countries", json=country_body("BGD"))

    assert response.status_code == 201, response.text
    assert response.json()["countries"] == [
        {
            "iso3": "BGD",
            "name": "Bangladesh",
            "region": "asia_pacific",
            "criteria": criteria(),
            "periods": SINCE_THE_START,
        }
    ]
    assert scope(client)["countries"] == response.json()["countries"]


def test_a_country_selected_twice_is_a_conflict(client: TestClient) -> None:
    assert client.post("/scope/countries", json=country_body("BGD")).status_code == 201
    head = log_head(client)

    problem = assert_problem(client.post("/scope/countries", json=country_body("BGD", region="africa")), 409)

    assert "BGD" in problem["detail"]
    assert log_head(client) == head
    assert [c["region"] for c in scope(client)["countries"]] == ["asia_pacific"]


def _country_without(criterion: str) -> dict[str, Any]:
    body = country_body("VNM")
    del body["criteria"][criterion]
    return body


def _with_criterion(name: str, criterion: dict[str, Any]) -> dict[str, Any]:
    return {**country_body(), "criteria": {**criteria(), name: criterion}}


INVALID_COUNTRIES: dict[str, tuple[dict[str, Any], str]] = {
    "not a country": (country_body("XXX"), "/iso3"),
    "digit": (country_body("B6D"), "/iso3"),
    "two letters, no country's": (country_body("QQ"), "/iso3"),
    "four letters": (country_body("BGDX"), "/iso3"),
    "unknown region": (country_body("BGD", region="oceania"), "/region"),
    "no ilo presence": (_country_without("ilo_presence"), "/criteria/ilo_presence"),
    "no decent work deficits": (_country_without("decent_work_deficits"), "/criteria/decent_work_deficits"),
    "no criteria": ({"iso3": "BGD", "region": "asia_pacific"}, "/criteria"),
    "met as text": (
        _with_criterion("political_commitment", {"met": "yes", "evidence": "e"}),
        "/criteria/political_commitment/met",
    ),
    "empty evidence": (
        _with_criterion("ilo_presence", {"met": True, "evidence": ""}),
        "/criteria/ilo_presence/evidence",
    ),
    "fourth criterion": (_with_criterion("trade_volume", {"met": True, "evidence": "e"}), "/criteria/trade_volume"),
}


def test_an_invalid_country_selection_is_refused(client: TestClient, subtests: pytest.Subtests) -> None:
    for case, (body, pointer) in INVALID_COUNTRIES.items():
        with subtests.test(msg=case):
            head = log_head(client)
            assert_problem(client.post("/scope/countries", json=body), 422, pointer)
            assert log_head(client) == head
            assert scope(client)["countries"] == []


def test_a_focal_point_is_nominated_per_region(client: TestClient) -> None:
    response = client.post("/scope/focal-points", json=MENSAH)

    assert response.status_code == 201, response.text
    assert scope(client)["focal_points"] == [MENSAH]


INVALID_FOCAL_POINTS: dict[str, tuple[dict[str, Any], str]] = {
    "no at sign": ({**MENSAH, "email": "not-an-email"}, "/email"),
    "no domain": ({**MENSAH, "email": "mensah@ilo"}, "/email"),
    "space": ({**MENSAH, "email": "a mensah@ilo.org"}, "/email"),
    "empty name": ({**MENSAH, "name": ""}, "/name"),
    "a name of spaces": ({**MENSAH, "name": "   "}, "/name"),
    "unknown region": ({**MENSAH, "region": "antarctica"}, "/region"),
    "missing email": ({"region": "africa", "name": "A. Mensah"}, "/email"),
}


def test_an_invalid_focal_point_is_refused(client: TestClient, subtests: pytest.Subtests) -> None:
    for case, (body, pointer) in INVALID_FOCAL_POINTS.items():
        with subtests.test(msg=case):
            head = log_head(client)
            assert_problem(client.post("/scope/focal-points", json=body), 422, pointer)
            assert log_head(client) == head
            assert scope(client)["focal_points"] == []


def test_the_scope_as_known_at_an_earlier_position_stays_as_it_was(client: TestClient) -> None:
    empty_at = log_head(client)
    client.post("/scope/sectors", json=sector_body("garments"))
    one_sector_at = log_head(client)
    client.post("/scope/countries", json=country_body("BGD"))
    client.post("/scope/sectors", json=sector_body("electronics"))

    earlier = scope(client, at=one_sector_at)
    assert earlier["position"] == one_sector_at
    assert [s["code"] for s in earlier["sectors"]] == ["garments"]
    assert earlier["countries"] == []

    assert scope(client, at=empty_at)["sectors"] == []
    now = scope(client)
    assert [s["code"] for s in now["sectors"]] == ["garments", "electronics"]
    assert [c["iso3"] for c in now["countries"]] == ["BGD"]
    assert scope(client, at=now["position"] + 50) == now


def test_a_bad_scope_position_is_refused_naming_the_parameter(client: TestClient) -> None:
    assert_problem(client.get("/scope", params={"at": -1}), 422, "at")
    assert_problem(client.get("/scope", params={"at": "latest"}), 422, "at")
