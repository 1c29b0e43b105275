"""Pinned exports end to end, with real HTTP to measurement (conftest.py),
on SQLite and PostgreSQL: the Programme Implementation contribution (JSON,
CSV, XLSX) and the IATI 2.03 activity (XML validated against the shipped
XSD by the test itself, every time one is made), byte-identical when made
again from the same pins, and clear problems for what cannot be made."""

from __future__ import annotations

import csv
import io
from datetime import date
from importlib.resources import files
from typing import Any

import openpyxl
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.measurement.application.commands import Measurement
from services.measurement.sample import load_sample
from tests.support import assert_problem, bearer, benchmark_body, log_head, set_up_programme

CODE = "CA2-INSPECTION"
PI_FORMATS = ("json", "csv", "xlsx")
IATI = "{http://www.w3.org/XML/1998/namespace}lang"


def _schema() -> etree.XMLSchema:
    path = files("services.reporting").joinpath("standards/iati-2.03/iati-activities-schema.xsd")
    return etree.XMLSchema(etree.parse(str(path)))


def _valid_iati(data: bytes) -> etree._Element:
    """The XML, asserted valid against the IATI 2.03 activity schema."""
    tree = etree.fromstring(data)
    schema = _schema()
    assert schema.validate(tree), schema.error_log
    return tree


def _record(client: TestClient, country: str, period: str, value: Any, **extra: Any) -> None:
    body = {"benchmark": CODE, "country": country, "period": period, "value": value, **extra}
    response = client.post("/observations", json=body)
    assert response.status_code == 201, response.text


def _programme(client: TestClient) -> None:
    """CA2-INSPECTION (2018-19:7.1, disaggregated by sex) with two
    countries' values, and CA3-DIALOGUE (2016-17:3.2, indirectly) without."""
    set_up_programme(client, ("BGD", "VNM", "ETH"))
    dialogue = benchmark_body(code="CA3-DIALOGUE", assumption="CA3", pb_indicators=["2016-17:3.2"])
    assert client.post("/benchmarks", json=dialogue).status_code == 201
    sexes = [
        {"dimension": "sex", "category": "female", "value": 30},
        {"dimension": "sex", "category": "male", "value": 10},
    ]
    _record(client, "BGD", "2018", 12, sector="garments", disaggregations=sexes)
    _record(client, "BGD", "2019-Q2", 14, sector="garments")
    _record(client, "VNM", "2019-Q1", 18.25, disaggregations=[{"dimension": "sex", "category": "female", "value": 20}])


def _qualitative(client: TestClient) -> None:
    """A qualitative benchmark (IATI measure 5) with one value."""
    body = benchmark_body(
        code="CA5-POLICY",
        assumption="CA5",
        measure="qualitative",
        unit_label=None,
        combination="latest",
        baseline={"value": "No policy", "date": "2017-01-01"},
        targets=[{"value": "Policy adopted", "date": "2021-12-31", "label": "final"}],
        disaggregations=[],
        pb_indicators=[],
    )
    assert client.post("/benchmarks", json=body).status_code == 201, client.post("/benchmarks", json=body).text
    body = {"benchmark": "CA5-POLICY", "country": "BGD", "period": "2018", "value": "Adopted in 2018"}
    assert client.post("/observations", json=body).status_code == 201


def _create(reporting: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = reporting.post("/exports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"/exports/{created['id']}"
    return created


def _rendering(reporting: TestClient, export: str, fmt: str, headers: dict[str, str]) -> bytes:
    response = reporting.get(f"/exports/{export}/renderings/{fmt}", headers=headers)
    assert response.status_code == 200, response.text
    data: bytes = response.content
    return data


def _indicator(content: dict[str, Any], outcome: str, code: str) -> dict[str, Any]:
    found = next(o for o in content["outcomes"] if o["outcome"] == outcome)
    return next(i for i in found["indicators"] if i["code"] == code)


def test_a_contribution_names_each_indicator_s_benchmarks_and_is_the_same_bytes_from_the_same_pins(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    first = _create(reporting, manager, kind="pi-contribution", biennium="2018-19")
    second = _create(reporting, manager, kind="pi-contribution", biennium="2018-19", known_at=first["position"])
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert set(first["sha256"]) == set(PI_FORMATS) == set(first["formats"])
    assert first["as_of"] == "2019-12-31" and first["position"] == log_head(client)
    assert first["checkpoint"]["size"] == first["position"] and first["framework"].startswith("GSC-POA-2017-21 v")
    for fmt in PI_FORMATS:
        assert _rendering(reporting, first["id"], fmt, manager) == _rendering(reporting, second["id"], fmt, manager)

    content = reporting.get(f"/exports/{first['id']}/renderings/json", headers=manager).json()
    assert content["export"]["biennium"] == "2018-19" and content["untagged"] == ["CA3-DIALOGUE"]
    assert [o["outcome"] for o in content["outcomes"]][:2] == ["1", "2"]
    (item,) = _indicator(content, "7", "7.1")["benchmarks"]
    assert item["code"] == CODE and item["assumption"]["code"] == "CA2" and item["assumption"]["text"]
    assert item["baseline"] == {"date": "2017-01-01", "value": 10}
    assert [t["date"] for t in item["targets"]] == ["2019-12-31", "2021-12-31"]
    assert item["countries"] == ["BGD", "VNM"] and item["sectors"] == ["garments"]
    assert [(c["country"], c["value"]) for c in item["cells"]] == [("BGD", 14), ("VNM", 18.25)]
    # Para. 14 for 2018-19: outcome 3, "3.1, 3.2 and indirectly 3.3".
    outcome_3 = next(o for o in content["outcomes"] if o["outcome"] == "3")
    assert [(i["code"], i["relation"]) for i in outcome_3["indicators"]] == [
        ("3.1", "direct"),
        ("3.2", "direct"),
        ("3.3", "indirect"),
    ]
    assert _indicator(content, "7", "7.2")["benchmarks"] == []
    earlier = _create(reporting, manager, kind="pi-contribution", biennium="2016-17")
    content_2016 = reporting.get(f"/exports/{earlier['id']}/renderings/json", headers=manager).json()
    assert earlier["as_of"] == "2017-12-31" and content_2016["untagged"] == [CODE]
    indirect = _indicator(content_2016, "3", "3.2")
    assert indirect["relation"] == "indirect" and [b["code"] for b in indirect["benchmarks"]] == ["CA3-DIALOGUE"]

    rows = list(csv.DictReader(io.StringIO(_rendering(reporting, first["id"], "csv", manager).decode("utf-8"))))
    mine = [row for row in rows if row["benchmark"] == CODE]
    assert [(r["country"], r["sector"], r["value"]) for r in mine] == [
        ("BGD", "garments", "14.0"),
        ("VNM", "", "18.25"),
    ]
    assert {r["export_position"] for r in rows} == {str(first["position"])}
    assert any(r["indicator"] == "7.2" and r["benchmark"] == "" for r in rows)

    workbook = openpyxl.load_workbook(io.BytesIO(_rendering(reporting, first["id"], "xlsx", manager)))
    assert workbook.sheetnames == ["Contribution", "Cells", "Export"]
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"
        assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert workbook.properties.created is not None and workbook.properties.created.date() == date(2019, 12, 31)

    verification = reporting.get(f"/exports/{first['id']}/verification", headers=manager).json()
    assert verification["match"] is True and verification["checkpoint"]["match"] is True


def test_a_contribution_pinned_to_a_position_ignores_what_was_learned_after_it(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    before = _create(reporting, manager, kind="pi-contribution", biennium="2018-19", as_of="2019-06-30")
    _record(client, "ETH", "2019-Q1", 40)
    again = _create(
        reporting, manager, kind="pi-contribution", biennium="2018-19", as_of="2019-06-30", known_at=before["position"]
    )
    now = _create(reporting, manager, kind="pi-contribution", biennium="2018-19", as_of="2019-06-30")
    assert again["sha256"] == before["sha256"] and now["sha256"]["json"] != before["sha256"]["json"]
    content = reporting.get(f"/exports/{now['id']}/renderings/json", headers=manager).json()
    assert _indicator(content, "7", "7.1")["benchmarks"][0]["countries"] == ["BGD", "ETH", "VNM"]


def test_a_country_office_reads_its_own_countries_cells_of_a_contribution_and_may_not_make_one(
    client: TestClient, reporting: TestClient, manager: dict[str, str], api_keys: ApiKeys
) -> None:
    _programme(client)
    made = _create(reporting, manager, kind="pi-contribution", biennium="2018-19")
    office = bearer(api_keys.issue("bgd-office", Role.COUNTRY_OFFICE, frozenset({"BGD"}), None, "tests").token)
    content = reporting.get(f"/exports/{made['id']}/renderings/json", headers=office).json()
    item = _indicator(content, "7", "7.1")["benchmarks"][0]
    assert [c["country"] for c in item["cells"]] == ["BGD"] and item["countries"] == ["BGD"]
    assert item["combined"] == 16.12  # the programme's figure stays
    rows = csv.DictReader(io.StringIO(_rendering(reporting, made["id"], "csv", office).decode("utf-8")))
    assert {row["country"] for row in rows} <= {"BGD", ""}
    refused = reporting.post("/exports", json={"kind": "pi-contribution", "biennium": "2018-19"}, headers=office)
    assert_problem(refused, 403)
    assert reporting.get("/exports", headers=office).json()["items"][0]["id"] == made["id"]


def test_what_cannot_be_exported_is_a_problem_that_says_what_to_fix(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    unaligned = reporting.post("/exports", json={"kind": "pi-contribution", "biennium": "2020-21"}, headers=manager)
    assert "2016-17, 2018-19" in assert_problem(unaligned, 422, "/biennium")["detail"]
    malformed = reporting.post("/exports", json={"kind": "pi-contribution", "biennium": "2018-20"}, headers=manager)
    assert_problem(malformed, 422, "/biennium")
    assert_problem(reporting.post("/exports", json={"kind": "pi-contribution"}, headers=manager), 422, "/biennium")
    with_biennium = {"kind": "iati-activity", "biennium": "2018-19", "as_of": "2019-12-31"}
    assert_problem(reporting.post("/exports", json=with_biennium, headers=manager), 422, "/biennium")
    assert_problem(reporting.post("/exports", json={"kind": "iati-activity"}, headers=manager), 422, "/as_of")
    early = {"kind": "iati-activity", "as_of": "2016-12-31"}
    assert_problem(reporting.post("/exports", json=early, headers=manager), 422, "/as_of")
    beyond = {"kind": "pi-contribution", "biennium": "2018-19", "known_at": log_head(client) + 5}
    assert_problem(reporting.post("/exports", json=beyond, headers=manager), 422, "/known_at")
    assert_problem(reporting.post("/exports", json={"kind": "sdmx"}, headers=manager), 422, "/kind")
    assert reporting.get("/exports", headers=manager).json()["items"] == []

    made = _create(reporting, manager, kind="pi-contribution", biennium="2018-19")
    assert_problem(reporting.get(f"/exports/{made['id']}/renderings/xml", headers=manager), 422, "fmt")
    assert_problem(reporting.get(f"/exports/{made['id']}/renderings/pdf", headers=manager), 422)
    assert_problem(reporting.get("/exports/no-such-export", headers=manager), 404)
    assert_problem(reporting.get("/exports/no-such-export/renderings/json", headers=manager), 404)


def test_a_retried_post_with_the_same_idempotency_key_makes_one_export(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    headers = {**manager, "Idempotency-Key": "pi-2018-19-once"}
    body = {"kind": "pi-contribution", "biennium": "2018-19"}
    first, second = (reporting.post("/exports", json=body, headers=headers) for _ in range(2))
    assert first.status_code == second.status_code == 201 and first.json()["id"] == second.json()["id"]
    assert len(reporting.get("/exports", headers=manager).json()["items"]) == 1
    other = reporting.post("/exports", json={**body, "as_of": "2019-06-30"}, headers=headers)
    assert_problem(other, 422)


def _indicators(tree: etree._Element) -> dict[str, etree._Element]:
    return {str(i.find("reference").get("code")): i for i in tree.iter("indicator")}  # type: ignore[union-attr]


def test_the_iati_activity_validates_carries_every_benchmark_and_is_the_same_bytes_from_the_same_pins(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    _programme(client)
    _qualitative(client)
    first = _create(reporting, manager, kind="iati-activity", as_of="2019-12-31")
    assert first["formats"] == ["json", "xml"] and first["biennium"] is None
    xml = _rendering(reporting, first["id"], "xml", manager)
    tree = _valid_iati(xml)
    _record(client, "ETH", "2019-Q1", 40)
    second = _create(reporting, manager, kind="iati-activity", as_of="2019-12-31", known_at=first["position"])
    assert _rendering(reporting, second["id"], "xml", manager) == xml and second["sha256"] == first["sha256"]

    assert tree.get("version") == "2.03"
    activity = tree.find("iati-activity")
    assert activity is not None and activity.get(IATI) == "en"
    assert activity.get("last-updated-datetime") == tree.get("generated-datetime")
    assert activity.findtext("iati-identifier", "").startswith("XM-DAC-41302-")
    assert activity.find("reporting-org").get("ref") == "XM-DAC-41302"  # type: ignore[union-attr]
    indicators = _indicators(tree)
    assert set(indicators) == {CODE, "CA3-DIALOGUE", "CA5-POLICY"}
    policy = indicators["CA5-POLICY"]
    assert policy.get("measure") == "5" and policy.find("baseline").get("value") is None  # type: ignore[union-attr]
    # In force from 2018 on: in the 2018 and 2019 periods, as a comment, never a value.
    assert [[a.findtext("comment/narrative") for a in p.findall("actual")] for p in policy.findall("period")] == [
        [],
        ["Adopted in 2018"],
        ["Adopted in 2018"],
    ]
    assert [e.get("value") for e in policy.iter("actual", "target")] == [None] * 5
    inspection = indicators[CODE]
    assert inspection.get("measure") == "2" and inspection.get("ascending") == "1"
    baseline = inspection.find("baseline")
    assert baseline is not None and (baseline.get("year"), baseline.get("value")) == ("2017", "10")
    periods = inspection.findall("period")
    assert [(p.find("period-start").get("iso-date"), p.find("period-end").get("iso-date")) for p in periods] == [  # type: ignore[union-attr]
        ("2017-01-01", "2017-12-31"),
        ("2018-01-01", "2018-12-31"),
        ("2019-01-01", "2019-12-31"),
    ]
    last = periods[-1]
    assert last.find("target").get("value") == "20"  # type: ignore[union-attr]
    plain = [a for a in last.findall("actual") if a.find("dimension") is None]
    assert [a.get("value") for a in plain] == ["16.12"]
    by_sex = {
        a.find("dimension").get("value"): a.get("value")  # type: ignore[union-attr]
        for a in last.findall("actual")
        if a.find("dimension") is not None
    }
    # 2019's cells: BGD 2019-Q2 (no disaggregation) and VNM 2019-Q1 (female 20): the mean of what is reported.
    assert by_sex == {"female": "20"}
    assert {a.find("dimension").get("name") for a in last.findall("actual") if a.find("dimension") is not None} == {  # type: ignore[union-attr]
        "sex"
    }
    in_2018 = periods[1]
    assert {a.get("value") for a in in_2018.findall("actual")} == {"12", "30", "10"}
    assert [p.find("actual") for p in indicators["CA3-DIALOGUE"].findall("period")] == [None, None, None]

    content = reporting.get(f"/exports/{first['id']}/renderings/json", headers=manager).json()
    assert content["activity"]["identifier"] == activity.findtext("iati-identifier")
    pins = tree.find("{urn:stocktake:export-pins:1}pins")
    assert pins is not None and pins.get("position") == str(first["position"]) and pins.get("as-of") == "2019-12-31"
    assert pins.get("checkpoint-root-hash") == first["checkpoint"]["root_hash"]
    assert pins.findtext("{urn:stocktake:export-pins:1}checkpoint-note") == first["checkpoint"]["note"]
    verification = reporting.get(f"/exports/{first['id']}/verification", headers=manager).json()
    assert verification["match"] is True


def test_the_sample_programme_s_iati_activity_validates_and_follows_the_result_rules(
    client: TestClient, reporting: TestClient, manager: dict[str, str], measurement: Measurement
) -> None:
    assert load_sample(measurement)
    made = _create(reporting, manager, kind="iati-activity", as_of="2021-12-31")
    tree = _valid_iati(_rendering(reporting, made["id"], "xml", manager))
    indicators = _indicators(tree)
    # Measure codes as the framework uses them; a count of countries meeting a threshold is a unit (1).
    assert {code: i.get("measure") for code, i in indicators.items()} == {
        "ILL-CA2-INSPECTION": "2",
        "ILL-CA3-DIALOGUE": "1",
        "ILL-CA10-DATASETS": "1",
        "ILL-CA9-WOMEN-TRAINED": "2",
    }
    for indicator in indicators.values():
        periods = indicator.findall("period")
        assert len(periods) == 5
        for period in periods:
            start, end = (period.find(name).get("iso-date") for name in ("period-start", "period-end"))  # type: ignore[union-attr]
            assert start is not None and end is not None and start <= end
            values = [e.get("value") for e in (*period.findall("target"), *period.findall("actual"))]
            if indicator.get("measure") == "5":
                assert values == [None] * len(values)
            if indicator.get("measure") == "2":
                assert all(0 <= float(v) <= 100 for v in values if v is not None)
    women = indicators["ILL-CA9-WOMEN-TRAINED"]
    dimensions = [dict(d.attrib) for d in women.iter("dimension")]
    assert {"name": "disability", "value": "with disability"} in dimensions
    contribution = _create(reporting, manager, kind="pi-contribution", biennium="2018-19")
    content = reporting.get(f"/exports/{contribution['id']}/renderings/json", headers=manager).json()
    assert [b["code"] for b in _indicator(content, "7", "7.1")["benchmarks"]] == ["ILL-CA2-INSPECTION"]


def test_a_text_a_spreadsheet_would_take_for_a_formula_stays_text_in_the_csv_and_the_xlsx(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    set_up_programme(client)
    title = '=HYPERLINK("http://example.org","inspections")'
    body = benchmark_body(code="CA2-FORMULA", title=title, pb_indicators=["2018-19:7.2"], disaggregations=[])
    assert client.post("/benchmarks", json=body).status_code == 201
    made = _create(reporting, manager, kind="pi-contribution", biennium="2018-19")
    rows = csv.DictReader(io.StringIO(_rendering(reporting, made["id"], "csv", manager).decode("utf-8")))
    assert {row["title"] for row in rows if row["benchmark"] == "CA2-FORMULA"} == {"'" + title}
    workbook = openpyxl.load_workbook(io.BytesIO(_rendering(reporting, made["id"], "xlsx", manager)))
    cells = [cell for row in workbook["Contribution"].iter_rows() for cell in row if cell.value == title]
    assert cells and all(cell.data_type == "s" and cell.quotePrefix for cell in cells)


bodies = st.fixed_dictionaries(
    {"kind": st.sampled_from(["pi-contribution", "iati-activity", "sdmx", ""])},
    optional={
        "biennium": st.one_of(st.sampled_from(["2016-17", "2018-19", "2020-21", "9999-00"]), st.text(max_size=20)),
        "as_of": st.one_of(st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat), st.text(max_size=12)),
        "known_at": st.one_of(st.integers(-5, 2**63), st.sampled_from([0, 1, 2, 5])),
    },
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_request_for_an_export_is_made_or_refused_with_a_problem_never_a_500(
    client: TestClient, reporting: TestClient, manager: dict[str, str], body: dict[str, Any]
) -> None:
    if log_head(client) < 5:  # the first example's: the store lives as long as the test
        _programme(client)
    response = reporting.post("/exports", json=body, headers=manager)
    if response.status_code == 201:
        made = response.json()
        for fmt in made["formats"]:
            data = _rendering(reporting, made["id"], fmt, manager)
            if fmt == "xml":
                _valid_iati(data)
    else:
        assert_problem(response, response.status_code)
        assert 400 <= response.status_code < 500
