"""An edition's workplan delivery and milestones (real HTTP to measurement,
on SQLite and PostgreSQL): read from measurement's workplan at the
edition's as_of and position, in the JSON, HTML and XLSX renderings,
verified like the rest, and left as they were when the workplan moves on."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.support import log_head, set_up_programme

EVIDENCE = "https://www.ilo.org/gsc/research-2-1"


def _record_delivery(client: TestClient, code: str, status: str, on: str, **details: Any) -> None:
    response = client.post(f"/workplan/deliverables/{code}/status", json={"status": status, "on": on, **details})
    assert response.status_code == 201, response.text


def _edition(reporting: TestClient, manager: dict[str, str], **body: Any) -> dict[str, Any]:
    response = reporting.post("/reports", json={"kind": "mid-term", **body}, headers=manager)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _read(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_an_edition_shows_the_workplan_as_recorded_at_its_pins_in_every_rendering_but_csv(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    set_up_programme(client)
    _record_delivery(client, "2.1", "started", "2017-02-15", note="Research compiled")
    _record_delivery(client, "2.1", "delivered", "2019-09-30", evidence=EVIDENCE)
    _record_delivery(client, "9.2", "dropped", "2018-03-01", reason="=merged into 9.1")
    met = client.post("/workplan/milestones/M8/outcome", json={"outcome": "met", "on": "2019-10-15", "note": "GB.337"})
    assert met.status_code == 201, met.text
    edition = _edition(reporting, manager)
    content = reporting.get(f"/reports/{edition['id']}/renderings/json", headers=manager).json()
    workplan = content["workplan"]
    pins = {"as_of": "2019-10-31", "at": edition["position"]}
    deliveries, milestones = (
        _read(client, "/workplan/deliverables", **pins),
        _read(client, "/workplan/milestones", **pins),
    )
    assert workplan["position"] == edition["position"] == log_head(client)
    assert [item["code"] for item in workplan["deliverables"]] == [item["code"] for item in deliveries["items"]]
    research = next(item for item in workplan["deliverables"] if item["code"] == "2.1")
    assert (research["status"], research["delivered_on"], research["evidence"]) == ("delivered", "2019-09-30", EVIDENCE)
    assert workplan["summary"]["deliverables"] == deliveries["summary"]
    m8 = next(item for item in workplan["milestones"] if item["code"] == "M8")
    assert (m8["status"], m8["met_on"], m8["note"]) == ("met", "2019-10-15", "GB.337")
    assert workplan["summary"]["milestones"] == milestones["summary"]

    html = reporting.get(f"/reports/{edition['id']}/renderings/html", headers=manager).text
    assert '<section id="workplan">' in html and "Workplan delivery and milestones" in html
    assert f"delivered 2019-09-30 ({EVIDENCE})" in html and "met 2019-10-15: GB.337" in html

    xlsx = reporting.get(f"/reports/{edition['id']}/renderings/xlsx", headers=manager).content
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames[-3:] == ["Deliverables", "Milestones", "Edition"]
    rows = list(book["Deliverables"].iter_rows(values_only=True))
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_code["2.1"]["Status"] == "delivered" and by_code["2.1"]["Evidence"] == EVIDENCE
    dropped = book["Deliverables"].cell(row=1 + list(by_code).index("9.2") + 1, column=11)
    assert dropped.value == "=merged into 9.1" and dropped.data_type == "s" and dropped.quotePrefix
    milestone_rows = list(book["Milestones"].iter_rows(values_only=True))
    assert any(row[0] == "M8" and row[4] == "met" and row[7] == "GB.337" for row in milestone_rows[1:])

    csv_text = reporting.get(f"/reports/{edition['id']}/renderings/csv", headers=manager).text
    assert "2.1" not in csv_text.splitlines()[0]  # the CSV is one row per cell

    verification = reporting.get(f"/reports/{edition['id']}/verification", headers=manager).json()
    assert verification["status"] == "match", verification


def test_a_later_workplan_record_leaves_an_edition_verifying_and_shows_in_the_next(
    client: TestClient, reporting: TestClient, manager: dict[str, str]
) -> None:
    set_up_programme(client)
    first = _edition(reporting, manager)
    # Recorded later, for a date before the edition's as_of: the pinned edition does not see it.
    _record_delivery(client, "2.1", "delivered", "2019-06-30", evidence=EVIDENCE)
    verification = reporting.get(f"/reports/{first['id']}/verification", headers=manager).json()
    assert verification["status"] == "match", verification
    old = reporting.get(f"/reports/{first['id']}/renderings/json", headers=manager).json()
    assert next(i for i in old["workplan"]["deliverables"] if i["code"] == "2.1")["status"] == "not_started"
    second = _edition(reporting, manager)
    new = reporting.get(f"/reports/{second['id']}/renderings/json", headers=manager).json()
    assert next(i for i in new["workplan"]["deliverables"] if i["code"] == "2.1")["status"] == "delivered"
