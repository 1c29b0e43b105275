"""Exports of observations over HTTP (README, "Exports"), on both stores:
CSV and XLSX in the import's columns that round-trip through the import,
SDMX-CSV 2.0 read back with pysdmx, the pins named and the bytes the same
when made again, and nothing a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from pysdmx.io import read_sdmx
from pysdmx.io.pd import PandasDataset
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.common.migrations import upgrade
from services.common.spreadsheets import text_from_csv
from services.measurement.bootstrap import bootstrap
from services.measurement.entrypoints.http.app import create_app
from services.measurement.settings import Settings
from tests.conftest import TEST_DATABASE, TEST_PRINCIPALS, _postgres_admin_engine
from tests.support import (
    ActingInTheRoleNeeded,
    assert_problem,
    bearer,
    benchmark_body,
    if_match,
    log_head,
    observation_body,
    set_up_programme,
)

CSV_EXPORT = "/exports/observations.csv"
XLSX_EXPORT = "/exports/observations.xlsx"
SDMX_EXPORT = "/exports/observations.sdmx.csv"
HOSTILE = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tindent", "\rreturn", "'=already guarded")
LEVELS = ["none", "partial", "full"]


def _record(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/observations", json=observation_body(**overrides))
    assert response.status_code == 201, response.text
    observation: dict[str, Any] = response.json()
    return observation


def _history(client: TestClient) -> None:
    """A programme with observations that exercise the export: two sectors
    and none, disaggregations, hostile texts, a correction, a retraction, an
    observation outranked by a later one for the same cell and valid date,
    a count and a qualitative value."""
    set_up_programme(client)
    assert (
        client.post("/scope/sectors", json={"code": "electronics", "name": "Electronics", "rationale": "t"}).status_code
        == 201
    )
    count = benchmark_body(
        code="CA2-COUNT", measure="unit", disaggregations=[], combination="sum", unit_label="workplaces"
    )
    count["baseline"] = {"value": 5, "date": "2017-01-01"}
    count["targets"] = [{"value": 10, "date": "2021-12-31", "label": "final"}]
    assert client.post("/benchmarks", json=count).status_code == 201
    qualitative = benchmark_body(
        code="CA2-NOTE",
        measure="qualitative",
        disaggregations=[],
        combination="latest",
        unit_label=None,
        baseline={"value": "none", "date": "2017-01-01"},
        targets=[{"value": "a plan", "date": "2021-12-31", "label": None}],
    )
    response = client.post("/benchmarks", json=qualitative)
    assert response.status_code == 201, response.text
    _record(client, period="2018-Q4", value=10.25)
    _record(client, country="VNM", sector="garments", period="2019-Q1", value=14, comment=HOSTILE[0])
    corrected = _record(client, period="2019-Q2", value=12.5, sector="electronics", comment=HOSTILE[2])
    response = client.post(
        f"/observations/{corrected['id']}/corrections",
        json={
            "value": 13.75,
            "disaggregations": [{"dimension": "sex", "category": "male", "value": 15}],
            "reason": "typo",
        },
        headers=if_match(client, corrected["id"]),
    )
    assert response.status_code == 200, response.text
    retracted = _record(client, country="VNM", period="2019-Q2", value=99)
    response = client.post(
        f"/observations/{retracted['id']}/retraction",
        json={"reason": "duplicate"},
        headers=if_match(client, retracted["id"]),
    )
    assert response.status_code == 200, response.text
    # Same cell and valid date: the month's value is outranked by the quarter's, recorded later.
    _record(client, country="VNM", period="2019-06", value=40, disaggregations=[])
    _record(
        client,
        country="VNM",
        period="2019-Q2",
        value=41,
        comment=HOSTILE[4],
        evidence=[{"title": HOSTILE[3], "url": "https://example.org/a.pdf"}],
        disaggregations=[
            {"dimension": "sex", "category": "female", "value": 39.5},
            {"dimension": "sex", "category": "=female", "value": 1},
        ],
    )
    _record(client, benchmark="CA2-COUNT", period="2019", value=3, disaggregations=[], comment=HOSTILE[6])
    _record(client, benchmark="CA2-COUNT", country="VNM", period="2019-12-31", value=7, disaggregations=[])
    _record(client, benchmark="CA2-NOTE", period="2019-Q3", value=HOSTILE[1], disaggregations=[], evidence=[])


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))


def _states(client: TestClient, as_of: str) -> dict[str, Any]:
    """What every as-of read says (without positions, which differ between stores)."""

    def without_positions(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: without_positions(v)
                for k, v in value.items()
                if k not in ("position", "known_at", "last_position", "recorded_position", "first_recorded")
            }
        if isinstance(value, list):
            return [without_positions(v) for v in value]
        return value

    answers = {
        "rollup": client.get("/progress/assumptions", params={"as_of": as_of}).json(),
        **{
            code: client.get(f"/benchmarks/{code}/state", params={"as_of": as_of}).json()
            for code in ("CA2-INSPECTION", "CA2-COUNT")
        },
        **{
            f"{code}@{sector}": client.get(
                f"/benchmarks/{code}/state", params={"as_of": as_of, "sector": sector}
            ).json()
            for code in ("CA2-INSPECTION",)
            for sector in ("garments", "electronics", "")
        },
    }
    return {name: without_positions(answer) for name, answer in answers.items()}


def test_the_csv_export_holds_the_observations_that_stand_in_the_import_columns(client: TestClient) -> None:
    _history(client)
    response = client.get(CSV_EXPORT, params={"as_of": "2019-12-31"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"benchmark,country,sector,period,value,sex:=female,sex:female,sex:male,")
    assert b"\r\n" in response.content
    rows = _csv_rows(response.content)
    assert [(r["benchmark"], r["country"], r["sector"], r["period"], r["value"]) for r in rows] == [
        ("CA2-INSPECTION", "BGD", "", "2018-Q4", "10.25"),
        ("CA2-INSPECTION", "VNM", "garments", "2019-Q1", "14"),
        ("CA2-INSPECTION", "BGD", "electronics", "2019-Q2", "13.75"),  # as corrected
        ("CA2-INSPECTION", "VNM", "", "2019-Q2", "41"),  # the retracted one and the outranked month left out
        ("CA2-COUNT", "BGD", "", "2019", "3"),
        ("CA2-COUNT", "VNM", "", "2019-12-31", "7"),
        ("CA2-NOTE", "BGD", "", "2019-Q3", "'+1+1"),  # a text value is guarded
    ]
    assert rows[2]["sex:male"] == "15" and rows[2]["sex:female"] == ""  # the corrected disaggregation
    assert rows[3]["sex:female"] == "39.5" and rows[3]["sex:=female"] == "1"
    assert rows[3]["evidence_title"] == "'@SUM(A1)" and rows[3]["evidence_url"] == "https://example.org/a.pdf"
    assert rows[1]["comment"] == "'=cmd|' /C calc'!A0"
    assert rows[3]["comment"] == "'\tindent"
    assert rows[4]["comment"] == "''=already guarded"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), row
            assert not cell.startswith("-"), row


def test_as_of_and_known_at_pin_the_rows(client: TestClient) -> None:
    _history(client)
    before_2019 = _csv_rows(client.get(CSV_EXPORT, params={"as_of": "2018-12-31"}).content)
    assert [(r["period"], r["value"]) for r in before_2019] == [("2018-Q4", "10.25")]
    # Known at the position of the first correction's observation: its value as then, no later observation.
    listed = client.get("/observations", params={"limit": 500}).json()["items"]
    corrected = next(item for item in listed if item["status"] == "corrected")
    at = corrected["recorded_position"]
    response = client.get(CSV_EXPORT, params={"as_of": "2019-12-31", "at": at})
    rows = _csv_rows(response.content)
    assert [(r["period"], r["value"], r["sex:female"]) for r in rows] == [
        ("2018-Q4", "10.25", "11"),
        ("2019-Q1", "14", "11"),
        ("2019-Q2", "12.5", "11"),  # before its correction: the value and disaggregation of then
    ]
    assert "sex:male" not in rows[0]  # a column only a later correction brought
    assert response.headers["Stocktake-Log-Position"] == str(at)


def test_every_export_names_its_pins_and_is_the_same_bytes_when_made_again(client: TestClient) -> None:
    _history(client)
    for path in (CSV_EXPORT, XLSX_EXPORT, SDMX_EXPORT):
        head = log_head(client)
        checkpoint = client.get(
            "/transparency/checkpoint", params={"size": head}, headers={"Accept": "application/json"}
        )
        first = client.get(path, params={"as_of": "2019-12-31"})
        assert first.status_code == 200, first.text
        assert first.headers["Stocktake-As-Of"] == "2019-12-31"
        assert first.headers["Stocktake-Log-Position"] == str(head)
        assert first.headers["Stocktake-Framework-Version"] == "2"  # the default framework file
        assert first.headers["Stocktake-Checkpoint-Size"] == str(head)
        assert first.headers["Stocktake-Checkpoint-Root-Hash"] == checkpoint.json()["root_hash"]
        assert first.headers["Content-Disposition"].startswith(
            f'attachment; filename="observations-2019-12-31-at-{head}'
        )
        _record(client, period="2019-Q3", value=1, disaggregations=[])  # the log moves on
        again = client.get(path, params={"as_of": "2019-12-31", "at": head})
        assert again.content == first.content, path
        assert client.get(path, params={"as_of": "2019-12-31"}).content != first.content


def test_the_xlsx_export_has_no_formula_keeps_hostile_texts_and_names_its_pins(client: TestClient) -> None:
    _history(client)
    response = client.get(XLSX_EXPORT, params={"as_of": "2019-12-31"})
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Observations", "Export"]
    sheet = workbook["Observations"]
    texts = {}
    for line in sheet.iter_rows():
        for cell in line:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                texts[cell.value] = cell
    for hostile in ("=cmd|' /C calc'!A0", "\tindent", "@SUM(A1)", "'=already guarded", "=female"):
        found = texts.get(hostile) or texts.get(f"sex:{hostile}")
        assert found is not None, hostile
        if found.value == hostile:
            assert found.quotePrefix, hostile
    assert sheet["E6"].value == 3 and sheet["E6"].data_type == "n"
    pins = {row[0]: row[1] for row in workbook["Export"].iter_rows(min_row=2, values_only=True)}
    assert pins["As of (valid date)"] == "2019-12-31"
    assert pins["Known at (log position)"] == log_head(client)
    assert pins["Framework"] == "GSC-POA-2017-21 v2"
    assert str(pins["Checkpoint"]).startswith("stocktake")  # the signed note names the log's origin


def test_the_sdmx_csv_export_reads_back_value_by_value(client: TestClient) -> None:
    _history(client)
    response = client.get(SDMX_EXPORT, params={"as_of": "2019-12-31"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+csv; version=2.0.0")
    datasets = read_sdmx(response.content.decode("utf-8")).data
    assert datasets is not None and len(datasets) == 1
    dataset = datasets[0]
    assert isinstance(dataset, PandasDataset)
    assert dataset.short_urn == "Dataflow=ILO:DF_STOCKTAKE_OBSERVATIONS(1.0)"
    read = {
        (r.BENCHMARK, r.REF_AREA, r.SECTOR, text_from_csv(r.SEX), r.TIME_PERIOD): (
            text_from_csv(r.OBS_VALUE),
            r.OBS_STATUS,
        )
        for r in dataset.data.itertuples()
    }
    exported = _csv_rows(client.get(CSV_EXPORT, params={"as_of": "2019-12-31"}).content)
    expected = {}
    for row in exported:
        key = (row["benchmark"], row["country"], row["sector"] or "_Z")
        status = "R" if row["period"] == "2019-Q2" and row["sector"] == "electronics" else "A"
        expected[(*key, "_T", row["period"])] = (text_from_csv(row["value"]), status)
        for column, value in row.items():
            if column.startswith("sex:") and value:
                expected[(*key, column.removeprefix("sex:"), row["period"])] = (value, status)
    assert read == expected
    assert set(dataset.data["ETHNICITY"]) == {"_T"}
    positions = set(dataset.data["LOG_POSITION"].astype(int))
    assert positions and max(positions) <= log_head(client)


def test_a_reimported_export_is_already_present_and_an_empty_store_gets_the_same_states(
    client: TestClient, database_url: str, tmp_path: Path, framework_file: tuple[dict[str, Any], str]
) -> None:
    _history(client)
    as_of = "2019-12-31"
    exported = {path: client.get(path, params={"as_of": as_of}).content for path in (CSV_EXPORT, XLSX_EXPORT)}
    rows = len(_csv_rows(exported[CSV_EXPORT]))
    uploads = {CSV_EXPORT: "text/csv", XLSX_EXPORT: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    for path, content in exported.items():
        again = client.post("/observations/batch/csv", content=content, headers={"Content-Type": uploads[path]})
        assert again.status_code == 200, again.text
        assert again.json()["counts"]["already_present"] == rows, (path, again.json())

    # Another store with the same framework, benchmarks and scope, and no observation.
    with _another_store(database_url, tmp_path) as other_url:
        upgrade(other_url)
        other = bootstrap(Settings(database_url=other_url, data_dir=tmp_path / "other"))
        try:
            document, digest = framework_file
            other.measurement.load_framework(document, digest, "test-setup")
            keys = {p.role: other.api_keys.issue(p.name, p.role, p.countries, None, "t").token for p in TEST_PRINCIPALS}
            with TestClient(create_app(services=other)) as fresh:
                fresh.auth = ActingInTheRoleNeeded(keys)
                _same_programme(client, fresh)
                for path, content in exported.items():
                    imported = fresh.post(
                        "/observations/batch/csv", content=content, headers={"Content-Type": uploads[path]}
                    )
                    assert imported.status_code == 200, imported.text
                    expected = "imported" if path == CSV_EXPORT else "already_present"
                    assert imported.json()["counts"][expected] == rows, imported.json()
                for date in ("2018-12-31", "2019-06-30", as_of):
                    assert _states(fresh, date) == _states(client, date), date
        finally:
            other.close()


def test_another_key_importing_an_export_finds_its_rows_present(client: TestClient, api_keys: ApiKeys) -> None:
    _history(client)
    content = client.get(CSV_EXPORT, params={"as_of": "2019-12-31"}).content
    rows = len(_csv_rows(content))
    other = api_keys.issue("another-office", Role.COUNTRY_OFFICE, frozenset({"BGD", "VNM"}), None, "t").token
    headers = {**bearer(other), "Content-Type": "text/csv"}
    answer = client.post("/observations/batch/csv", content=content, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"]["already_present"] == rows
    # Another value for a period present is a new observation, as before (it then stands).
    changed = content.replace(b",2019-Q1,14,", b",2019-Q1,15,")
    assert changed != content
    counts = client.post("/observations/batch/csv", content=changed, headers=headers).json()["counts"]
    assert (counts["imported"], counts["already_present"]) == (1, rows - 1)
    again = _csv_rows(client.get(CSV_EXPORT, params={"as_of": "2019-12-31"}).content)
    assert [row["value"] for row in again if row["period"] == "2019-Q1"] == ["15"]


@contextmanager
def _another_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty, migrated store on the same backend."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.sqlite'}"
        return
    name = f"{TEST_DATABASE}_other"
    admin = _postgres_admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _same_programme(source: TestClient, target: TestClient) -> None:
    for benchmark in source.get("/benchmarks").json()["items"]:
        body = {k: benchmark[k] for k in benchmark_body() if k in benchmark}
        assert target.post("/benchmarks", json=body).status_code == 201, body
    set_up_programme_scope(source, target)


def set_up_programme_scope(source: TestClient, target: TestClient) -> None:
    scope = source.get("/scope").json()
    for country in scope["countries"]:
        assert (
            target.post(
                "/scope/countries",
                json={"iso3": country["iso3"], "region": country["region"], "criteria": country["criteria"]},
            ).status_code
            == 201
        )
    for sector in scope["sectors"]:
        body = {"code": sector["code"], "name": sector["name"], "rationale": sector["rationale"]}
        assert target.post("/scope/sectors", json=body).status_code == 201


def test_a_country_office_exports_its_countries_only(client: TestClient, api_keys: ApiKeys) -> None:
    _history(client)
    office = api_keys.issue("bgd-office", Role.COUNTRY_OFFICE, frozenset({"BGD"}), None, "t").token
    rows = _csv_rows(client.get(CSV_EXPORT, params={"as_of": "2019-12-31"}, headers=bearer(office)).content)
    assert {row["country"] for row in rows} == {"BGD"}
    refused = client.get(CSV_EXPORT, params={"country": "VNM"}, headers=bearer(office))
    assert refused.status_code == 403


def test_filters_narrow_the_export(client: TestClient) -> None:
    _history(client)
    params = {"as_of": "2019-12-31"}
    by_benchmark = _csv_rows(client.get(CSV_EXPORT, params={**params, "benchmark": "CA2-COUNT"}).content)
    assert {row["benchmark"] for row in by_benchmark} == {"CA2-COUNT"} and len(by_benchmark) == 2
    by_sector = _csv_rows(client.get(CSV_EXPORT, params={**params, "sector": "garments"}).content)
    assert [(row["country"], row["period"]) for row in by_sector] == [("VNM", "2019-Q1")]
    no_sector = _csv_rows(client.get(CSV_EXPORT, params={**params, "sector": ""}).content)
    assert {row["sector"] for row in no_sector} == {""} and len(no_sector) == 5
    assert _csv_rows(client.get(CSV_EXPORT, params={**params, "assumption": "CA3"}).content) == []
    empty = client.get(CSV_EXPORT, params={**params, "assumption": "CA3"})
    assert empty.content == b"benchmark,country,sector,period,value,comment,evidence_title,evidence_url\r\n"


def test_texts_are_guarded_and_quoted_to_the_byte(client: TestClient) -> None:
    """Without disaggregation columns PostgreSQL writes the lines itself
    (queries/export_lines.py), SQLite's come from Python's csv module: the
    same bytes on both stores."""
    _history(client)
    _record(
        client,
        benchmark="CA2-NOTE",
        country="VNM",
        period="2019-Q4",
        value='-a "plan", agreed',
        disaggregations=[],
        comment='=1,"two"\r\nthree',
        evidence=[{"title": "'+4", "url": "https://example.org/x?a=1,2"}],
    )
    response = client.get(CSV_EXPORT, params={"as_of": "2019-12-31", "benchmark": "CA2-NOTE"})
    assert response.content == (
        b"benchmark,country,sector,period,value,comment,evidence_title,evidence_url\r\n"
        b"CA2-NOTE,BGD,,2019-Q3,'+1+1,test,,\r\n"
        b'CA2-NOTE,VNM,,2019-Q4,"\'-a ""plan"", agreed","\'=1,""two""\r\nthree",\'\'+4,"https://example.org/x?a=1,2"\r\n'
    )
    counts = client.get(CSV_EXPORT, params={"as_of": "2019-12-31", "benchmark": "CA2-COUNT"})
    assert counts.content.endswith(
        b"CA2-COUNT,BGD,,2019,3,''=already guarded,Inspection report,https://example.org/report.pdf\r\n"
        b"CA2-COUNT,VNM,,2019-12-31,7,test,Inspection report,https://example.org/report.pdf\r\n"
    )


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"as_of": "2019-13"}, "as_of"),
        ({"at": "999999"}, "at"),
        ({"at": "-1"}, "at"),
        ({"at": "1", "known_at": "2019-01-01T00:00:00Z"}, "at"),
        ({"known_at": "yesterday"}, "known_at"),
        ({"country": "XX"}, "country"),  # BD is Bangladesh
    ],
)
def test_bad_pins_and_filters_are_problems_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    set_up_programme(client)
    for path in (CSV_EXPORT, XLSX_EXPORT, SDMX_EXPORT):
        assert_problem(client.get(path, params=params), 422, parameter)


def test_an_export_needs_a_key(client: TestClient) -> None:
    assert client.get(CSV_EXPORT, headers={"Authorization": "Bearer stk_nope"}).status_code == 401
