"""What the reporting service reads from measurement: who a key belongs to
(`GET /me`), and the bulk read a whole report is made from
(`GET /progress/report`), which agrees with the per-benchmark states."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.common.access import Role
from services.common.api_keys import ApiKeys
from tests.support import assert_problem, bearer, benchmark_body, log_head, set_up_programme

CODE = "CA2-INSPECTION"


def _record(client: TestClient, country: str, period: str, value: Any) -> None:
    body = {"benchmark": CODE, "country": country, "period": period, "value": value}
    response = client.post("/observations", json=body)
    assert response.status_code == 201, response.text


def _programme(client: TestClient) -> None:
    set_up_programme(client)
    _record(client, "BGD", "2019-Q2", 14)
    _record(client, "VNM", "2019-Q1", 18)


def test_me_names_the_principal_role_and_countries_of_any_valid_key(
    client: TestClient, tokens: dict[Role, str], api_keys: ApiKeys
) -> None:
    office = api_keys.issue("office-bgd", Role.COUNTRY_OFFICE, ["VNM", "BGD"], None, "tests").token
    answer = client.get("/me", headers=bearer(office))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "principal": "office-bgd",
        "role": "country-office",
        "countries": ["BGD", "VNM"],
        "permissions": ["read:framework", "read:observations", "read:progress", "read:reports", "record:observations"],
    }
    reporting = client.get("/me", headers=bearer(tokens[Role.REPORTING])).json()
    assert (reporting["role"], reporting["countries"]) == ("reporting", [])


def test_me_without_a_valid_key_is_a_401(client: TestClient) -> None:
    assert_problem(client.get("/me", headers={"Authorization": "Bearer stk_nope"}), 401)


def test_the_bulk_read_gives_each_benchmark_as_its_own_state_does(client: TestClient) -> None:
    _programme(client)
    assert client.post("/benchmarks", json=benchmark_body(code="CA3-OTHER", assumption="CA3")).status_code == 201
    at = log_head(client)
    report = client.get("/progress/report", params={"as_of": "2019-10-31", "at": at, "series": True})
    assert report.status_code == 200, report.text
    body = report.json()
    assert report.headers["Stocktake-Log-Position"] == str(at) == str(body["position"])
    assert [b["benchmark"] for b in body["benchmarks"]] == ["CA2-INSPECTION", "CA3-OTHER"]
    assert body["framework"] == {"code": "GSC-POA-2017-21", "version": 2}  # the default framework file is v2
    assert body["countries_selected"] == ["BGD", "VNM"]
    assert body["status_rule"] == {"on_track_tolerance": 0.1, "at_risk_tolerance": 0.25}
    state = client.get(f"/benchmarks/{CODE}/state", params={"as_of": "2019-10-31", "at": at}).json()
    entry = body["benchmarks"][0]
    # The bulk read names its framework once, at the top; a state names it too.
    assert state.pop("framework_version") == body["framework"]["version"]
    assert {key: entry[key] for key in state} == state
    assert [t["value"] for t in entry["targets"]] == [20, 30]
    assert [p["date"] for p in entry["series"]][:2] == ["2017-03-31", "2017-06-30"]
    last = entry["series"][-1]
    assert (last["date"], last["combined"]) == ("2019-09-30", 16.0)
    assert entry["series"][0]["combined"] is None


def test_a_country_office_sees_its_own_cells_and_the_combined_figures(client: TestClient, api_keys: ApiKeys) -> None:
    _programme(client)
    office = api_keys.issue("office-bgd", Role.COUNTRY_OFFICE, ["BGD"], None, "tests").token
    everyone = client.get("/progress/report", params={"as_of": "2019-10-31"}).json()["benchmarks"][0]
    own = client.get("/progress/report", params={"as_of": "2019-10-31"}, headers=bearer(office)).json()
    entry = own["benchmarks"][0]
    assert [c["country"] for c in entry["countries"]] == ["BGD"]
    assert [c["country"] for c in everyone["countries"]] == ["BGD", "VNM"]
    assert entry["combined"] == everyone["combined"] == 16.0


def test_the_bulk_read_refuses_a_position_beyond_the_head(client: TestClient) -> None:
    _programme(client)
    response = client.get("/progress/report", params={"as_of": "2019-10-31", "at": log_head(client) + 1})
    assert_problem(response, 422, "at")
