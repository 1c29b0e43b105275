"""Input people actually type (issue 12): countries by name or either code,
in any case, with "did you mean" for the ones that name nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support import assert_problem, country_body, observation_body, set_up_programme

BATCH = "/observations/batch"


def test_a_country_is_its_alpha_3_code_in_any_case_its_alpha_2_code_or_its_english_name(
    client: TestClient,
) -> None:
    set_up_programme(client)
    for period, country in (
        ("2019-01", "bgd"),
        ("2019-02", "BD"),
        ("2019-03", "Bangladesh"),
        ("2019-04", " bangladesh "),
    ):
        answer = client.post("/observations", json=observation_body(period=period, country=country))
        assert (answer.status_code, answer.json()["country"]) == (201, "BGD"), answer.text
    batch = client.post(BATCH, json={"observations": [observation_body(period="2019-05", country="Viet Nam")]})
    assert batch.json()["counts"]["imported"] == 1, batch.text
    csv = "benchmark,country,period,value\nCA2-INSPECTION,vn,2019-06,14\n"
    imported = client.post(f"{BATCH}/csv", content=csv, headers={"Content-Type": "text/csv"})
    assert imported.json()["counts"]["imported"] == 1, imported.text
    selected = client.post("/scope/countries", json=country_body("Ethiopia", region="africa"))
    assert selected.status_code == 201, selected.text
    assert "ETH" in {c["iso3"] for c in selected.json()["countries"]}


def test_a_country_that_names_nothing_gets_the_closest_names(client: TestClient) -> None:
    set_up_programme(client)
    problem = assert_problem(client.post("/observations", json=observation_body(country="Bangldesh")), 422, "/country")
    assert "did you mean Bangladesh (BGD)" in problem["detail"]
    problem = assert_problem(client.post("/scope/countries", json=country_body("Vietnma")), 422, "/iso3")
    assert "Viet Nam (VNM)" in problem["detail"]


def test_csv_header_names_match_whatever_their_case_and_surrounding_spaces(client: TestClient) -> None:
    set_up_programme(client)
    csv = " Benchmark ,COUNTRY,Period , Value,Sex:female\nCA2-INSPECTION,BGD,2019-06,14,12\n"
    imported = client.post(f"{BATCH}/csv", content=csv, headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["counts"]["imported"] == 1, imported.text
    observation = client.get(f"/observations/{imported.json()['rows'][0]['id']}").json()
    assert observation["disaggregations"] == [{"dimension": "sex", "category": "female", "value": 12.0}]


def test_a_mistyped_code_gets_did_you_mean(client: TestClient) -> None:
    set_up_programme(client)
    problem = assert_problem(client.post("/observations", json=observation_body(benchmark="CA2-INSPECTON")), 422)
    assert "Did you mean 'CA2-INSPECTION'?" in problem["detail"]
    for path in ("/benchmarks/ca2-inspection", "/benchmarks/CA2-INSPECTON/history"):
        assert "Did you mean 'CA2-INSPECTION'?" in assert_problem(client.get(path), 404)["detail"]
    assert "Did you mean 'CA2'" in assert_problem(client.get("/framework/assumptions/ca2"), 404)["detail"]
    assert "Did you mean '2.4'" in assert_problem(client.get("/framework/deliverables/2,4"), 404)["detail"]


def test_computed_figures_are_given_to_their_declared_precision(client: TestClient) -> None:
    set_up_programme(client)
    for country, value in (("BGD", 11), ("VNM", 12.2)):
        assert client.post("/observations", json=observation_body(country=country, value=value)).status_code == 201
    state = client.get("/benchmarks/CA2-INSPECTION/state", params={"as_of": "2019-08-17"}).json()
    assert state["combined"] == 11.6
    assert state["expected"] is not None and round(state["expected"], 2) == state["expected"]
    assert state["progress"] is not None and round(state["progress"], 4) == state["progress"]
    assert len(str(state["expected"]).split(".")[-1]) <= 2
    rollup = client.get("/progress/assumptions", params={"as_of": "2019-08-17"}).json()
    (summary,) = [b for a in rollup["assumptions"] for b in a["benchmarks"]]
    assert (summary["combined"], summary["progress"]) == (11.6, state["progress"])
