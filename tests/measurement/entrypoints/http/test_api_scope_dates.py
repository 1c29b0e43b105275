"""Scope decisions with dates over HTTP (issue 11, point 4): a country or a
sector is selected from a valid date and may be deselected from a later one,
with a reason, and selected again; observations outside the scope at their
valid date are refused naming the dates in scope; as-of answers combine the
cells in scope at D as known at P."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, benchmark_body, country_body, log_head, observation_body

CODE = "CA2-INSPECTION"
BGD_LEAVES = {"valid_from": "2019-Q3", "reason": "Country office closed the project"}


def post(client: TestClient, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(path, json=body, headers=headers)


def created(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = post(client, path, body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def record(client: TestClient, country: str, period: str, value: float, **fields: Any) -> Any:
    body = {"benchmark": CODE, "country": country, "period": period, "value": value, **fields}
    return client.post("/observations", json=body)


def recorded(client: TestClient, country: str, period: str, value: float, **fields: Any) -> dict[str, Any]:
    response = record(client, country, period, value, **fields)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def country_periods(client: TestClient, iso3: str, **params: Any) -> list[dict[str, Any]]:
    (country,) = [c for c in get(client, "/scope", **params)["countries"] if c["iso3"] == iso3]
    periods: list[dict[str, Any]] = country["periods"]
    return periods


@pytest.fixture
def programme(client: TestClient) -> TestClient:
    """A mean-of-percentages benchmark, BGD and VNM selected from the programme's start, one sector."""
    created(client, "/benchmarks", benchmark_body(disaggregations=[]))
    for iso3 in ("BGD", "VNM"):
        created(client, "/scope/countries", country_body(iso3))
    created(client, "/scope/sectors", {"code": "garments", "name": "Garments", "rationale": "test"})
    return client


def test_a_deselected_country_shows_its_period_in_scope_and_the_reason(programme: TestClient) -> None:
    before = log_head(programme)
    answer = created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)

    assert answer["position"] == log_head(programme) == before + 1
    expected = [{"first_day": "2017-01-01", "last_day": "2019-06-30", "ended_because": BGD_LEAVES["reason"]}]
    assert country_periods(programme, "BGD") == expected
    # As known before the deselection, BGD was (and stays) in scope with no end.
    assert country_periods(programme, "BGD", at=before) == [
        {"first_day": "2017-01-01", "last_day": None, "ended_because": None}
    ]


def test_an_observation_outside_the_scope_at_its_valid_date_is_refused_naming_the_dates(programme: TestClient) -> None:
    created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)
    head = log_head(programme)

    problem = assert_problem(record(programme, "BGD", "2020-Q1", 14), 422, "/country")

    assert "BGD is in the programme's scope from 2017-01-01 to 2019-06-30" in problem["detail"]
    assert "2020-Q1" in problem["detail"]
    assert log_head(programme) == head
    # Its last day in scope still takes observations.
    assert recorded(programme, "BGD", "2019-Q2", 12)["country"] == "BGD"


def test_a_batch_row_outside_the_scope_is_rejected_and_the_others_imported(programme: TestClient) -> None:
    created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)
    rows = [
        observation_body(country="BGD", period="2019-Q4", disaggregations=[]),
        observation_body(country="VNM", period="2019-Q4", disaggregations=[]),
    ]
    response = programme.post("/observations/batch", json={"observations": rows})
    assert response.status_code in (200, 207), response.text
    summary = response.json()

    assert [row["outcome"] for row in summary["rows"]] == ["rejected", "imported"]
    (error,) = summary["rows"][0]["errors"]
    assert error["pointer"] == "/observations/0/country"
    assert "from 2017-01-01 to 2019-06-30" in error["detail"]


def test_a_csv_row_outside_the_scope_is_rejected_naming_its_column(programme: TestClient) -> None:
    created(programme, "/scope/countries/VNM/deselection", {"valid_from": "2018", "reason": "Left the programme"})
    csv = f"benchmark,country,period,value\n{CODE},VNM,2019-Q1,14\n{CODE},BGD,2019-Q1,15\n"
    response = programme.post("/observations/batch/csv", content=csv.encode(), headers={"Content-Type": "text/csv"})
    summary = response.json()

    assert [row["outcome"] for row in summary["rows"]] == ["rejected", "imported"], summary
    (error,) = summary["rows"][0]["errors"]
    assert error["column"] == "country"
    assert "VNM is in the programme's scope from 2017-01-01 to 2017-12-31" in error["detail"]


def test_a_sector_out_of_scope_at_the_valid_date_is_refused(programme: TestClient) -> None:
    created(programme, "/scope/sectors/garments/deselection", {"valid_from": "2020-01-01", "reason": "Merged"})

    problem = assert_problem(record(programme, "BGD", "2020-Q1", 14, sector="garments"), 422, "/sector")

    assert "'garments' is in the programme's scope from 2017-01-01 to 2019-12-31" in problem["detail"]
    assert recorded(programme, "BGD", "2019-Q4", 14, sector="garments")["sector"] == "garments"


def test_a_selection_takes_effect_from_its_valid_date(programme: TestClient) -> None:
    created(programme, "/scope/countries", {**country_body("ETH", "africa"), "valid_from": "2019-Q2"})

    assert country_periods(programme, "ETH") == [{"first_day": "2019-04-01", "last_day": None, "ended_because": None}]
    problem = assert_problem(record(programme, "ETH", "2019-Q1", 14), 422, "/country")
    assert "from 2019-04-01" in problem["detail"]
    assert recorded(programme, "ETH", "2019-Q2", 14)["country"] == "ETH"


def test_a_country_selected_again_has_two_periods_in_scope(programme: TestClient) -> None:
    created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)
    created(programme, "/scope/countries", {**country_body("BGD"), "valid_from": "2020-Q1"})

    assert [(p["first_day"], p["last_day"]) for p in country_periods(programme, "BGD")] == [
        ("2017-01-01", "2019-06-30"),
        ("2020-01-01", None),
    ]
    problem = assert_problem(record(programme, "BGD", "2019-Q4", 14), 422, "/country")
    assert "from 2017-01-01 to 2019-06-30 and from 2020-01-01" in problem["detail"]
    assert recorded(programme, "BGD", "2020-Q1", 14)["country"] == "BGD"


def test_the_combination_at_a_date_leaves_out_the_cells_out_of_scope_then(programme: TestClient) -> None:
    recorded(programme, "BGD", "2019-Q2", 12)
    recorded(programme, "VNM", "2019-Q2", 18)
    before = log_head(programme)
    created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)

    after = get(programme, f"/benchmarks/{CODE}/state", as_of="2019-09-30")
    assert (after["combined"], after["countries_selected"]) == (18, 1)
    assert [cell["country"] for cell in after["countries"]] == ["VNM"]
    # On its last day in scope BGD still counts; and as known before the deselection, always.
    assert get(programme, f"/benchmarks/{CODE}/state", as_of="2019-06-30")["combined"] == 15
    pinned = get(programme, f"/benchmarks/{CODE}/state", as_of="2019-09-30", at=before)
    assert (pinned["combined"], pinned["countries_selected"]) == (15, 2)

    series = get(programme, f"/benchmarks/{CODE}/series", start="2019-Q2", end="2019-Q3")
    assert [point["combined"] for point in series["points"]] == [15, 18]

    rollup = get(programme, "/progress/assumptions", as_of="2019-09-30")
    (summary,) = [b for a in rollup["assumptions"] for b in a["benchmarks"] if b["benchmark"] == CODE]
    assert (summary["combined"], summary["countries_reporting"]) == (18, 1)

    profile = get(programme, "/progress/countries/BGD", as_of="2019-09-30")
    assert profile["in_scope"] is False
    assert [p["last_day"] for p in profile["scope_periods"]] == ["2019-06-30"]
    (item,) = profile["benchmarks"]
    # Its value is still shown, but the programme's figure is VNM's alone.
    assert (item["value"], item["programme_combined"]) == (12, 18)
    assert get(programme, "/progress/countries/BGD", as_of="2019-06-30")["in_scope"] is True


def test_a_deselected_sector_leaves_its_cells_out_of_the_combination(programme: TestClient) -> None:
    recorded(programme, "BGD", "2019-Q2", 10, sector="garments")
    recorded(programme, "BGD", "2019-Q2", 20)
    created(programme, "/scope/sectors/garments/deselection", {"valid_from": "2019-07-01", "reason": "Merged"})

    assert get(programme, f"/benchmarks/{CODE}/state", as_of="2019-06-30")["combined"] == 15
    state = get(programme, f"/benchmarks/{CODE}/state", as_of="2019-07-01")
    assert [(c["country"], c["sector"]) for c in state["countries"]] == [("BGD", None)]
    assert state["combined"] == 20


def test_four_sectors_at_the_same_time_counting_their_dates(client: TestClient) -> None:
    for code in ("garments", "electronics", "agri-food", "automotive"):
        created(client, "/scope/sectors", {"code": code, "name": code, "rationale": "test"})
    created(client, "/scope/sectors/automotive/deselection", {"valid_from": "2019-07-01", "reason": "Done"})

    # From 2019-07-01 three are in scope: a fourth may join then, not before.
    problem = assert_problem(
        post(client, "/scope/sectors", {"code": "cocoa", "name": "Cocoa", "rationale": "t", "valid_from": "2019-06"}),
        409,
    )
    assert "automotive" in problem["detail"] and "para. 8" in problem["detail"]
    created(client, "/scope/sectors", {"code": "cocoa", "name": "Cocoa", "rationale": "t", "valid_from": "2019-Q3"})
    assert_problem(
        post(client, "/scope/sectors", {"code": "mining", "name": "Mining", "rationale": "t", "valid_from": "2021"}),
        409,
    )


@pytest.mark.parametrize(
    ("path", "body", "status", "pointer"),
    [
        ("/scope/countries/ETH/deselection", BGD_LEAVES, 404, None),
        ("/scope/countries/BGD/deselection", {"valid_from": "2016-12-31", "reason": "x"}, 422, "/valid_from"),
        ("/scope/countries/BGD/deselection", {"valid_from": "2017-01-01", "reason": "x"}, 422, "/valid_from"),
        ("/scope/countries/BGD/deselection", {"valid_from": "2019-Q5", "reason": "x"}, 422, "/valid_from"),
        ("/scope/countries/BGD/deselection", {"valid_from": 2019, "reason": "x"}, 422, "/valid_from"),
        ("/scope/countries/BGD/deselection", {"valid_from": "2019"}, 422, "/reason"),
        ("/scope/countries/BGD/deselection", {"valid_from": "2019", "reason": ""}, 422, "/reason"),
        ("/scope/countries/BGD/deselection", {"reason": "x"}, 422, "/valid_from"),
        ("/scope/countries/XYZ/deselection", BGD_LEAVES, 422, None),
        ("/scope/sectors/mining/deselection", BGD_LEAVES, 404, None),
        ("/scope/sectors", {"code": "cocoa", "name": "C", "rationale": "t", "valid_from": "June"}, 422, "/valid_from"),
    ],
)
def test_a_bad_scope_decision_is_refused_and_nothing_recorded(
    programme: TestClient, path: str, body: dict[str, Any], status: int, pointer: str | None
) -> None:
    head = log_head(programme)

    problem = assert_problem(post(programme, path, body), status, *([pointer] if pointer else []))

    assert problem["detail"]
    assert log_head(programme) == head


def test_a_country_deselected_twice_is_a_conflict_and_reselection_cannot_go_back(programme: TestClient) -> None:
    created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)

    problem = assert_problem(post(programme, "/scope/countries/BGD/deselection", BGD_LEAVES), 409)
    assert "from 2017-01-01 to 2019-06-30" in problem["detail"]
    again = {**country_body("BGD"), "valid_from": "2019-Q1"}
    problem = assert_problem(post(programme, "/scope/countries", again), 422, "/valid_from")
    assert "2019-07-01" in problem["detail"]


def test_a_deselection_retried_with_its_key_is_recorded_once(programme: TestClient) -> None:
    first = post(programme, "/scope/countries/BGD/deselection", BGD_LEAVES, key="leave-bgd")
    head = log_head(programme)
    again = post(programme, "/scope/countries/BGD/deselection", BGD_LEAVES, key="leave-bgd")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert log_head(programme) == head


def test_a_country_office_may_not_decide_the_scope(programme: TestClient, tokens: dict[Any, str]) -> None:
    from services.common.access import Role

    headers = {"Authorization": f"Bearer {tokens[Role.COUNTRY_OFFICE]}"}
    response = programme.post("/scope/countries/BGD/deselection", json=BGD_LEAVES, headers=headers)

    assert_problem(response, 403)


def test_the_bulk_report_read_uses_the_scope_at_its_date(programme: TestClient) -> None:
    recorded(programme, "BGD", "2019-Q2", 12)
    recorded(programme, "VNM", "2019-Q2", 18)
    created(programme, "/scope/countries/BGD/deselection", BGD_LEAVES)

    report = get(programme, "/progress/report", as_of="2019-09-30")
    state = get(programme, f"/benchmarks/{CODE}/state", as_of="2019-09-30")

    assert report["countries_selected"] == ["VNM"]
    (entry,) = [b for b in report["benchmarks"] if b["benchmark"] == CODE]
    assert (
        (entry["combined"], entry["countries_selected"]) == (state["combined"], state["countries_selected"]) == (18, 1)
    )
    assert get(programme, "/progress/report", as_of="2019-06-30")["countries_selected"] == ["BGD", "VNM"]
