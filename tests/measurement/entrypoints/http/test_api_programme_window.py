"""The programme's window (issue 12): an observation's period, an `as_of` and
`active_in` must lie within 2017-01-01 to 2022-10-31 (the programme's start to
its final report to the Governing Body); outside it, a 422 that states the
window; on its edges, an answer."""

from __future__ import annotations

import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.support import assert_problem, observation_body, set_up_programme

BATCH = "/observations/batch"
WINDOW = "2017-01-01 to 2022-10-31"
OUTSIDE = ("2016", "2016-Q4", "2016-12", "2016-12-31", "2022", "2022-Q4", "2022-11", "2022-11-01", "1000-Q1")
EDGES = ("2017-01-01", "2017", "2022-10", "2022-10-31")
PROGRESS = ("/benchmarks/CA2-INSPECTION/state", "/progress/assumptions", "/progress/countries/BGD", "/progress/report")


def _xlsx(*rows: tuple[object, ...]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in rows:
        sheet.append(list(line))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_observation_outside_the_window_is_refused_stating_it(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    for period in OUTSIDE:
        with subtests.test(msg=period):
            problem = assert_problem(client.post("/observations", json=observation_body(period=period)), 422, "/period")
            assert f"outside the programme's window, {WINDOW}" in problem["detail"]
    assert client.get("/observations").json()["items"] == []
    for period in EDGES:
        with subtests.test(msg=period):
            answer = client.post("/observations", json=observation_body(period=period))
            assert answer.status_code == 201, answer.text


def test_batch_csv_and_xlsx_rows_outside_the_window_are_rejected_stating_it(client: TestClient) -> None:
    set_up_programme(client)
    rows = [observation_body(period=period) for period in ("2016-Q4", "2019-Q2", "2022-11")]
    summary = client.post(BATCH, json={"observations": rows}).json()
    assert [row["outcome"] for row in summary["rows"]] == ["rejected", "imported", "rejected"]
    assert WINDOW in summary["rows"][0]["errors"][0]["detail"]
    assert summary["rows"][0]["errors"][0]["pointer"] == "/observations/0/period"

    csv = "benchmark,country,period,value\nCA2-INSPECTION,VNM,2016,14\nCA2-INSPECTION,VNM,2019,14\n"
    imported = client.post(f"{BATCH}/csv", content=csv, headers={"Content-Type": "text/csv"}).json()
    assert [row["outcome"] for row in imported["rows"]] == ["rejected", "imported"]
    assert (imported["rows"][0]["line"], imported["rows"][0]["errors"][0]["column"]) == (2, "period")
    assert WINDOW in imported["rows"][0]["errors"][0]["detail"]

    sheet = _xlsx(("benchmark", "country", "period", "value"), ("CA2-INSPECTION", "BGD", "2023-Q1", 15))
    upload = client.post(f"{BATCH}/csv", files={"file": ("sheet.xlsx", sheet, "application/octet-stream")}).json()
    assert upload["rows"][0]["outcome"] == "rejected"
    assert WINDOW in upload["rows"][0]["errors"][0]["detail"]
    assert len(client.get("/observations").json()["items"]) == 2


def test_an_as_of_outside_the_window_is_refused_stating_it(client: TestClient, subtests: pytest.Subtests) -> None:
    set_up_programme(client)
    for path in PROGRESS:
        for as_of in ("2016-12-31", "2022-11-01", "2022", "9999-12-31", "0001-01-01"):
            with subtests.test(msg=f"{path} {as_of}"):
                problem = assert_problem(client.get(path, params={"as_of": as_of}), 422, "as_of")
                assert WINDOW in problem["detail"]
        for as_of in EDGES:
            with subtests.test(msg=f"{path} {as_of}"):
                assert client.get(path, params={"as_of": as_of}).status_code == 200
    # Without as_of the state is today's, as ever.
    assert client.get(PROGRESS[0]).status_code == 200


def test_deliverables_are_active_in_any_period_within_the_window(client: TestClient) -> None:
    set_up_programme(client)

    def active_in(period: str) -> list[str]:
        answer = client.get("/framework/deliverables", params={"active_in": period})
        assert answer.status_code == 200, answer.text
        return [d["code"] for d in answer.json()["items"]]

    quarters = [active_in(f"2019-Q{q}") for q in range(1, 5)]
    year = active_in("2019")
    assert set(year) == set().union(*quarters) and len(year) == len(set(year))
    assert active_in("2019-08") == active_in("2019-08-31") == quarters[2]
    # 7.1 is active in 2017-Q3 ... 2018-Q1 and in 2021-Q4 only.
    assert "7.1" not in active_in("2020") and "7.1" in active_in("2021-12-31")
    for period in ("2016-Q4", "2022-Q4", "2030-Q1"):
        problem = assert_problem(client.get("/framework/deliverables", params={"active_in": period}), 422, "active_in")
        assert WINDOW in problem["detail"]
