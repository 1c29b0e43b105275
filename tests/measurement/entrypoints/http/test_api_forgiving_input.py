"""Input people actually type (issue 12): countries by name or either code,
in any case, with "did you mean" for the ones that name nothing."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook(*rows: tuple[object, ...], title: str = "Observations") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_workbook_is_imported_with_the_columns_of_a_csv_file(client: TestClient) -> None:
    set_up_programme(client)
    sheet = _workbook(
        ("Benchmark", "Country", "Period", "Value", "Sex:female"),
        ("CA2-INSPECTION", "BGD", datetime(2019, 6, 30), 14, 12),  # a period typed as a date
        ("CA2-INSPECTION", "VNM", "2019-Q2", 150, None),
    )
    summary = client.post(f"{BATCH}/csv", content=sheet, headers={"Content-Type": XLSX}).json()
    assert summary["counts"]["imported"] == 1, summary
    rejected = summary["rows"][1]
    assert (rejected["outcome"], rejected["sheet"], rejected["line"]) == ("rejected", "Observations", 3)
    assert [e["column"] for e in rejected["errors"]] == ["value"]
    imported = client.get(f"/observations/{summary['rows'][0]['id']}").json()
    assert (imported["period"], imported["value"]) == ("2019-06-30", 14.0)


def test_a_sheet_may_be_uploaded_as_a_browser_does_as_multipart_form_data(client: TestClient) -> None:
    set_up_programme(client)
    csv = "benchmark,country,period,value\nCA2-INSPECTION,BGD,2019-06,14\n"
    as_csv = client.post(f"{BATCH}/csv", files={"file": ("sheet.csv", csv.encode(), "text/csv")})
    assert as_csv.json()["counts"]["imported"] == 1, as_csv.text
    sheet = _workbook(("benchmark", "country", "period", "value"), ("CA2-INSPECTION", "VNM", "2019-06", 15))
    as_xlsx = client.post(f"{BATCH}/csv", files={"file": ("sheet.xlsx", sheet, "application/octet-stream")})
    assert as_xlsx.json()["counts"]["imported"] == 1, as_xlsx.text
    not_a_workbook = client.post(f"{BATCH}/csv", content=b"PK not really", headers={"Content-Type": XLSX})
    assert "not an XLSX workbook" in assert_problem(not_a_workbook, 422)["detail"]


def test_a_period_that_starts_after_today_is_refused(client: TestClient) -> None:
    set_up_programme(client)
    next_year = str(datetime.now().year + 1)
    for period in (next_year, f"{next_year}-Q1", f"{next_year}-01", f"{next_year}-01-01"):
        problem = assert_problem(client.post("/observations", json=observation_body(period=period)), 422, "/period")
        assert "starts after today" in problem["detail"]
    batch = client.post(BATCH, json={"observations": [observation_body(period=next_year)]}).json()
    assert batch["counts"]["rejected"] == 1
