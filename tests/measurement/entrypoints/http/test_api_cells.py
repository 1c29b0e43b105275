"""Cells and precedence through HTTP: a value counts once per (country,
sector) cell; among a cell's observations for the same valid date the one
first recorded last stands, whatever is corrected; the state, the roll-up and
the country profile can be narrowed to one sector."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import benchmark_body, if_match, set_up_programme

CODE = "CA2-INSPECTION"
AS_OF = "2019-12-31"


def _record(client: TestClient, country: str, period: str, value: Any, sector: str | None = None) -> str:
    body = {"benchmark": CODE, "country": country, "period": period, "value": value, "sector": sector}
    response = client.post("/observations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _correct(client: TestClient, observation_id: str, value: Any) -> None:
    response = client.post(
        f"/observations/{observation_id}/corrections",
        json={"value": value, "reason": "re-counted"},
        headers=if_match(client, observation_id),
    )
    assert response.status_code == 200, response.text


def _state(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(f"/benchmarks/{CODE}/state", params={"as_of": AS_OF, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cells(state: dict[str, Any]) -> list[tuple[str, str | None, Any]]:
    return [(c["country"], c["sector"], c["value"]) for c in state["countries"]]


def test_the_observation_first_recorded_last_stands_and_corrections_never_move_it(client: TestClient) -> None:
    set_up_programme(client)
    older = _record(client, "BGD", "2019-Q2", 10)
    newer = _record(client, "BGD", "2019-Q2", 20)
    assert _cells(_state(client)) == [("BGD", None, 20)]

    _correct(client, older, 10)  # repeats its value: no answer changes
    assert _cells(_state(client)) == [("BGD", None, 20)]
    _correct(client, older, 15)  # a new value, but not a new precedence
    assert _cells(_state(client)) == [("BGD", None, 20)]

    response = client.post(f"/observations/{newer}/retraction", json={"reason": "dup"}, headers=if_match(client, newer))
    assert response.status_code == 200, response.text
    state = _state(client)
    assert _cells(state) == [("BGD", None, 15)]  # the retraction uncovers the one before
    assert state["countries"][0]["first_recorded"] < state["countries"][0]["known_at"]


def test_each_sector_of_a_country_is_a_cell_of_its_own(client: TestClient) -> None:
    set_up_programme(client)
    response = client.post("/scope/sectors", json={"code": "electronics", "name": "Electronics", "rationale": "t"})
    assert response.status_code == 201, response.text
    _record(client, "BGD", "2019-Q2", 10, "garments")
    _record(client, "BGD", "2019-Q2", 30, "electronics")
    _record(client, "VNM", "2019-Q2", 50)

    state = _state(client)
    assert _cells(state) == [("BGD", "electronics", 30), ("BGD", "garments", 10), ("VNM", None, 50)]
    assert (state["combined"], state["countries_reporting"], state["cells_reporting"]) == (30, 2, 3)

    garments = _state(client, sector="garments")
    assert (_cells(garments), garments["combined"]) == ([("BGD", "garments", 10)], 10)
    no_sector = _state(client, sector="")
    assert (_cells(no_sector), no_sector["combined"]) == ([("VNM", None, 50)], 50)

    rollup = client.get("/progress/assumptions", params={"as_of": AS_OF, "sector": "electronics"}).json()
    (ca2,) = [a for a in rollup["assumptions"] if a["assumption"] == "CA2"]
    assert rollup["sector"] == "electronics"
    assert [(b["benchmark"], b["combined"], b["cells_reporting"]) for b in ca2["benchmarks"]] == [(CODE, 30, 1)]

    profile = client.get("/progress/countries/BGD", params={"as_of": AS_OF}).json()
    (item,) = profile["benchmarks"]
    assert item["value"] is None  # two cells: see `cells`
    assert [(c["sector"], c["value"]) for c in item["cells"]] == [("electronics", 30), ("garments", 10)]
    one = client.get("/progress/countries/BGD", params={"as_of": AS_OF, "sector": "garments"}).json()
    assert (one["sector"], one["benchmarks"][0]["value"], one["benchmarks"][0]["programme_combined"]) == (
        "garments",
        10,
        10,
    )


def test_a_count_meeting_a_threshold_counts_cells(client: TestClient) -> None:
    set_up_programme(client)
    response = client.post(
        "/benchmarks",
        json=benchmark_body(
            code="CA2-COUNT",
            combination="count_meeting_threshold",
            threshold=15,
            baseline={"value": 0, "date": "2017-01-01"},
            targets=[{"value": 3, "date": "2021-12-31", "label": "final"}],
        ),
    )
    assert response.status_code == 201, response.text
    for sector, value in (("garments", 20), (None, 16), (None, 5)):
        body = {"benchmark": "CA2-COUNT", "country": "BGD", "period": "2019-Q2", "value": value, "sector": sector}
        assert client.post("/observations", json=body).status_code == 201
    state = client.get("/benchmarks/CA2-COUNT/state", params={"as_of": AS_OF}).json()
    # BGD's garments cell (20) and its cell without a sector (5, recorded last) are two cells: one meets 15.
    assert (state["combined"], state["cells_reporting"]) == (1, 2)
