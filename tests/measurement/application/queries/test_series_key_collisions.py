"""Cells sharing a series key (projections/series_keys.py: about 1 in 2**48
per pair of codes) keep their own values in force.

The key function is replaced, while the events are projected, by one that
gives every cell the same key, so that each lookup's walk passes over the
other cells' rows: every answer (states, their series, the roll-up with and
without a sector, the country profile) must be the one the cells give with
keys of their own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.measurement.application.commands import Measurement
from services.measurement.projections import handlers
from tests.support import benchmark_body, country_body, set_up_programme

OTHER = "CA2-OTHER"
# (benchmark, country, sector, period, value): each cell's latest value is
# not the latest of all, so a walk that took another cell's row would say so.
OBSERVATIONS = [
    ("CA2-INSPECTION", "BGD", None, "2019-Q2", 10),
    ("CA2-INSPECTION", "VNM", None, "2019-Q3", 30),
    ("CA2-INSPECTION", "BGD", "garments", "2019-Q4", 50),
    ("CA2-INSPECTION", "BGD", "electronics", "2019-Q1", 20),
    (OTHER, "BGD", None, "2020-Q1", 70),
    (OTHER, "VNM", "garments", "2019-Q2", 40),
]
QUERIES = [
    ("/benchmarks/CA2-INSPECTION/state", {"as_of": "2019-12-31"}),
    ("/benchmarks/CA2-INSPECTION/state", {"as_of": "2019-09-30"}),
    ("/benchmarks/CA2-INSPECTION/state", {"as_of": "2019-12-31", "sector": "garments"}),
    (f"/benchmarks/{OTHER}/state", {"as_of": "2020-06-30"}),
    ("/benchmarks/CA2-INSPECTION/series", {"start": "2019-Q1", "end": "2020-Q1", "step": "quarter"}),
    ("/progress/assumptions", {"as_of": "2019-12-31"}),
    ("/progress/assumptions", {"as_of": "2020-06-30"}),
    ("/progress/assumptions", {"as_of": "2019-12-31", "sector": "garments"}),
    ("/progress/assumptions", {"as_of": "2019-12-31", "sector": ""}),
    ("/progress/countries/BGD", {"as_of": "2020-06-30"}),
]


def _history(client: TestClient) -> None:
    set_up_programme(client)
    assert client.post("/scope/sectors", json={"code": "electronics", "name": "E", "rationale": "t"}).status_code == 201
    assert client.post("/benchmarks", json=benchmark_body(code=OTHER, disaggregations=[])).status_code == 201
    for benchmark, country, sector, period, value in OBSERVATIONS:
        body = {"benchmark": benchmark, "country": country, "sector": sector, "period": period, "value": value}
        response = client.post("/observations", json=body)
        assert response.status_code == 201, response.text
    assert client.post("/scope/countries", json=country_body("ETH")).status_code == 201


def _answers(client: TestClient) -> list[dict[str, Any]]:
    answers = []
    for url, params in QUERIES:
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def _cells(state: dict[str, Any]) -> list[tuple[str, str | None, Any]]:
    return [(cell["country"], cell["sector"], cell["value"]) for cell in state["countries"]]


def test_cells_sharing_one_series_key_keep_their_own_values(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "series_key", lambda benchmark, country, sector="": 4242)
    _history(client)
    answers = _answers(client)

    state = answers[0]
    assert _cells(state) == [("BGD", None, 10), ("BGD", "electronics", 20), ("BGD", "garments", 50), ("VNM", None, 30)]
    assert state["combined"] == 27.5
    assert _cells(answers[1]) == [("BGD", None, 10), ("BGD", "electronics", 20), ("VNM", None, 30)]
    assert _cells(answers[2]) == [("BGD", "garments", 50)]
    assert _cells(answers[3]) == [("BGD", None, 70), ("VNM", "garments", 40)]
    rollup = {b["benchmark"]: b for item in answers[5]["assumptions"] for b in item["benchmarks"]}
    assert (rollup["CA2-INSPECTION"]["combined"], rollup["CA2-INSPECTION"]["cells_reporting"]) == (27.5, 4)
    assert (rollup[OTHER]["combined"], rollup[OTHER]["cells_reporting"]) == (40.0, 1)
    later = {b["benchmark"]: b for item in answers[6]["assumptions"] for b in item["benchmarks"]}
    assert (later[OTHER]["combined"], later[OTHER]["cells_reporting"]) == (55.0, 2)


def test_answers_are_the_same_when_every_cell_shares_one_series_key(
    client: TestClient, measurement: Measurement
) -> None:
    """The history's answers with a key per cell, then with the rows'
    keys made one and the same: every answer stays, byte for byte."""
    _history(client)
    own_keys = _answers(client)
    with measurement.database.transaction() as connection:
        connection.execute(text("UPDATE observation_values SET series_key = 4242"))
        connection.execute(text("UPDATE value_cells SET series_key = 4242"))
    assert _answers(client) == own_keys
