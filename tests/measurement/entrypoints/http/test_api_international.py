"""International-level action over HTTP (issue 11, point 3; roadmap para.
10): a benchmark declares its level; an international benchmark's
observations name no country and are recorded by the programme management
team; its state is its own series (the latest value as of D as known at P),
it has its own figure in the roll-up and no place in a country profile."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.common.access import Role
from tests.measurement.entrypoints.http.test_api_scope_dates import get
from tests.support import assert_problem, bearer, benchmark_body, country_body, log_head

GLOBAL = "CA5-GLOBAL-DIALOGUE"
NATIONAL = "CA2-INSPECTION"


def international_body(**overrides: Any) -> dict[str, Any]:
    international = {
        "code": GLOBAL,
        "assumption": "CA5",
        "title": "Multinational enterprises in global dialogue",
        "level": "international",
        "combination": "latest",
        "disaggregations": [],
    }
    return benchmark_body(**{**international, **overrides})


def define(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/benchmarks", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.fixture
def manager(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.PROGRAMME_MANAGER])


@pytest.fixture
def office(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.COUNTRY_OFFICE])


@pytest.fixture
def programme(client: TestClient) -> TestClient:
    define(client, international_body())
    define(client, benchmark_body(disaggregations=[]))
    assert client.post("/scope/countries", json=country_body("BGD")).status_code == 201
    return client


def international(period: str, value: float, **fields: Any) -> dict[str, Any]:
    return {"benchmark": GLOBAL, "period": period, "value": value, **fields}


def test_benchmarks_are_national_unless_declared_international(programme: TestClient) -> None:
    assert get(programme, f"/benchmarks/{NATIONAL}")["level"] == "national"
    assert get(programme, f"/benchmarks/{GLOBAL}")["level"] == "international"


def test_an_international_benchmark_combines_nothing_so_it_takes_latest(client: TestClient) -> None:
    problem = assert_problem(
        client.post("/benchmarks", json=international_body(combination="mean")), 422, "/combination"
    )

    assert "latest" in problem["detail"]
    assert_problem(client.post("/benchmarks", json=international_body(level="global")), 422, "/level")


def test_the_programme_manager_records_an_international_observation_without_a_country(
    programme: TestClient, manager: dict[str, str]
) -> None:
    response = programme.post("/observations", json=international("2019-Q2", 40), headers=manager)

    assert response.status_code == 201, response.text
    assert response.json()["country"] is None
    listed = get(programme, "/observations", benchmark=GLOBAL)["items"]
    assert [item["country"] for item in listed] == [None]


def test_a_country_office_may_not_record_an_international_observation(
    programme: TestClient, office: dict[str, str]
) -> None:
    head = log_head(programme)

    problem = assert_problem(programme.post("/observations", json=international("2019-Q2", 40), headers=office), 403)

    assert "programme management team" in problem["detail"]
    assert log_head(programme) == head


def test_the_programme_manager_does_not_record_national_observations(
    programme: TestClient, manager: dict[str, str]
) -> None:
    body = {"benchmark": NATIONAL, "country": "BGD", "period": "2019-Q2", "value": 12}

    problem = assert_problem(programme.post("/observations", json=body, headers=manager), 403)

    assert "country office" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "who"),
    [
        (international("2019-Q2", 40, country="BGD"), "manager"),  # international, with a country
        ({"benchmark": NATIONAL, "period": "2019-Q2", "value": 12}, "office"),  # national, without one
    ],
)
def test_the_country_must_match_the_benchmarks_level(
    programme: TestClient, body: dict[str, Any], who: str, manager: dict[str, str], office: dict[str, str]
) -> None:
    head = log_head(programme)
    headers = manager if who == "manager" else office

    assert_problem(programme.post("/observations", json=body, headers=headers), 422, "/country")

    assert log_head(programme) == head


def test_an_international_state_is_its_latest_value_as_known_then(
    programme: TestClient, manager: dict[str, str]
) -> None:
    for period, value in (("2018-Q4", 30), ("2019-Q2", 40)):
        assert programme.post("/observations", json=international(period, value), headers=manager).status_code == 201
    before = log_head(programme)
    assert programme.post("/observations", json=international("2019-Q3", 45), headers=manager).status_code == 201

    state = get(programme, f"/benchmarks/{GLOBAL}/state", as_of="2019-09-30")
    assert (state["level"], state["combined"], state["countries_reporting"], state["cells_reporting"]) == (
        "international",
        45,
        0,
        1,
    )
    assert [(c["country"], c["value"]) for c in state["countries"]] == [(None, 45)]
    assert get(programme, f"/benchmarks/{GLOBAL}/state", as_of="2019-06-30")["combined"] == 40
    assert get(programme, f"/benchmarks/{GLOBAL}/state", as_of="2019-09-30", at=before)["combined"] == 40
    series = get(programme, f"/benchmarks/{GLOBAL}/series", start="2018-Q4", end="2019-Q3")
    assert [point["combined"] for point in series["points"]] == [30, 30, 40, 45]


def test_the_rollup_shows_it_apart_and_country_profiles_leave_it_out(
    programme: TestClient, manager: dict[str, str], office: dict[str, str]
) -> None:
    assert programme.post("/observations", json=international("2019-Q2", 40), headers=manager).status_code == 201
    national = {"benchmark": NATIONAL, "country": "BGD", "period": "2019-Q2", "value": 12}
    assert programme.post("/observations", json=national, headers=office).status_code == 201

    rollup = get(programme, "/progress/assumptions", as_of="2019-06-30")
    by_code = {b["benchmark"]: b for a in rollup["assumptions"] for b in a["benchmarks"]}
    assert (by_code[GLOBAL]["level"], by_code[GLOBAL]["combined"]) == ("international", 40)
    assert (by_code[NATIONAL]["level"], by_code[NATIONAL]["combined"]) == ("national", 12)
    (ca5,) = [a for a in rollup["assumptions"] if a["assumption"] == "CA5"]
    assert [b["benchmark"] for b in ca5["benchmarks"]] == [GLOBAL]

    profile = get(programme, "/progress/countries/BGD", as_of="2019-06-30")
    assert [b["benchmark"] for b in profile["benchmarks"]] == [NATIONAL]


def test_an_international_csv_row_leaves_the_country_empty(programme: TestClient, manager: dict[str, str]) -> None:
    csv = f"benchmark,country,period,value\n{GLOBAL},,2019-Q2,40\n{GLOBAL},BGD,2019-Q3,41\n"
    headers = {**manager, "Content-Type": "text/csv"}
    summary = programme.post("/observations/batch/csv", content=csv.encode(), headers=headers).json()

    assert [row["outcome"] for row in summary["rows"]] == ["imported", "rejected"], summary
    assert summary["rows"][1]["errors"][0]["column"] == "country"
    # Sent again, the imported row is already present (not recorded twice).
    again = programme.post("/observations/batch/csv", content=csv.encode(), headers=headers).json()
    assert [row["outcome"] for row in again["rows"]] == ["already_present", "rejected"], again


def test_the_international_observation_is_corrected_by_its_recorder(
    programme: TestClient, manager: dict[str, str], office: dict[str, str]
) -> None:
    created = programme.post("/observations", json=international("2019-Q2", 40), headers=manager).json()
    path = f"/observations/{created['id']}/corrections"
    etag = {"If-Match": f'"{created["version"]}"'}

    assert_problem(programme.post(path, json={"value": 41, "reason": "typo"}, headers={**office, **etag}), 403)
    response = programme.post(path, json={"value": 41, "reason": "typo"}, headers={**manager, **etag})
    assert response.status_code == 200, response.text
    assert get(programme, f"/benchmarks/{GLOBAL}/state", as_of="2019-06-30")["combined"] == 41
