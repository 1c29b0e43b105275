"""Bulk import over HTTP: what a country office relies on when it sends a
spreadsheet's worth of observations (README, "Bulk import").

JSON (`POST /observations/batch`) and CSV (`POST /observations/batch/csv`):
every valid row is recorded, every invalid one is reported with its index
and a JSON pointer (or its CSV line and column); a retried batch never
duplicates anything; `dry_run` and `all_or_nothing` record nothing when they
say so; an office imports only for its own countries; the limits hold."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.access import Role
from services.common.api_keys import ApiKeys
from services.measurement.domain.framework import PROGRAMME_WINDOW
from services.measurement.entrypoints.http.schemas.imports import ImportSummary
from tests.support import (
    assert_problem,
    bearer,
    if_match,
    log_head,
    observation_body,
    set_up_programme,
    stored_observations,
)

BATCH = "/observations/batch"
CSV = "/observations/batch/csv"
CSV_HEADERS = {"Content-Type": "text/csv"}
POSITION = "Stocktake-Log-Position"
OUTCOMES = ("imported", "already_present", "rejected", "skipped")
HEADER = "benchmark,country,sector,period,value,sex:female,comment,evidence_title,evidence_url"


def row(country: str = "BGD", period: str = "2019-Q2", value: Any = 12.5, **overrides: Any) -> dict[str, Any]:
    """An observation for the batch, without disaggregations or evidence unless given."""
    return (
        observation_body(country=country, period=period, value=value, disaggregations=[], evidence=[], comment=None)
        | overrides
    )


def programme_day(n: int) -> str:
    """The programme's nth day (from 0), a period within its window that has begun."""
    return (PROGRAMME_WINDOW.start + timedelta(days=n)).isoformat()


def count(client: TestClient) -> int:
    return len(stored_observations(client))


def checked(response: Any) -> dict[str, Any]:
    """The summary of a batch that could be read, checked for consistency."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    summary: dict[str, Any] = response.json()
    # The summary is its schema's dump (fields in order, none null), whether or not it is made by the schema.
    dumped = ImportSummary.model_validate(summary).model_dump(mode="json", exclude_none=True)
    assert json.dumps(summary) == json.dumps(dumped)
    # Its bytes are what JSONResponse renders (compact, text as itself), though made from a template.
    assert response.content == json.dumps(summary, ensure_ascii=False, separators=(",", ":")).encode()
    counts = summary["counts"]
    assert sum(counts[o] for o in OUTCOMES) == counts["received"] == len(summary["rows"]), counts
    assert [r["index"] for r in summary["rows"]] == list(range(counts["received"]))
    assert Counter(r["outcome"] for r in summary["rows"]) == Counter({o: counts[o] for o in OUTCOMES if counts[o]})
    if not counts["rejected"]:
        assert summary["status"] == "OK"
    elif counts["imported"] or counts["already_present"]:
        assert summary["status"] == "WARNING"
    else:
        assert summary["status"] == "ERROR"
    for result in summary["rows"]:
        assert bool(result["errors"]) == (result["outcome"] == "rejected"), result
        if result["outcome"] in ("imported", "already_present"):
            assert result["id"], result
        if result["outcome"] == "imported" and not summary["dry_run"]:
            assert isinstance(result["position"], int), result
        else:
            assert "position" not in result, result
    assert int(response.headers[POSITION]) == summary["position"]
    return summary


def import_json(
    client: TestClient, rows: list[Any], headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    return checked(client.post(BATCH, json={"observations": rows}, params=params, headers=headers))


def import_csv(
    client: TestClient, body: str | bytes, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    data = body.encode() if isinstance(body, str) else body
    return checked(client.post(CSV, content=data, params=params, headers={**CSV_HEADERS, **(headers or {})}))


def outcomes(summary: dict[str, Any]) -> list[str]:
    return [r["outcome"] for r in summary["rows"]]


def pointers(summary: dict[str, Any], index: int) -> set[str]:
    return {e["pointer"] for e in summary["rows"][index]["errors"]}


def columns(summary: dict[str, Any], index: int) -> set[str | None]:
    return {e.get("column") for e in summary["rows"][index]["errors"]}


def office_token(api_keys: ApiKeys, name: str, countries: list[str]) -> str:
    return api_keys.issue(name, Role.COUNTRY_OFFICE, countries, None, "tests").token


# -- JSON batches: row by row ---------------------------------------------------


def test_valid_rows_are_imported_and_each_invalid_row_is_reported_with_its_pointer(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    rows: list[Any] = [
        observation_body(),  # 0: valid, with a disaggregation, evidence and a comment
        row(period="2019-Q3", value=150),  # 1: a percentage over 100
        row(benchmark="NO-SUCH-BENCHMARK"),  # 2
        row(country="ETH"),  # 3: a country, but not selected
        row(period="2019-Q9"),  # 4
        row(colour="blue"),  # 5: a field POST /observations does not know
        "not an observation",  # 6
        row(sector="mining"),  # 7: not a selected sector
        row(country="VNM", sector="garments", period="2020"),  # 8: valid
        row(country="VNM", period="2019-06"),  # 9: valid
    ]
    summary = import_json(client, rows)
    assert summary["status"] == "WARNING"
    assert summary["counts"] == {"received": 10, "imported": 3, "already_present": 0, "rejected": 7, "skipped": 0}
    expected = {
        1: "/observations/1/value",
        2: "/observations/2/benchmark",
        3: "/observations/3/country",
        4: "/observations/4/period",
        5: "/observations/5/colour",
        7: "/observations/7/sector",
    }
    for index, pointer in expected.items():
        assert summary["rows"][index]["outcome"] == "rejected"
        assert pointers(summary, index) == {pointer}, summary["rows"][index]
    assert summary["rows"][6]["outcome"] == "rejected"
    assert pointers(summary, 6) == {"/observations/6"}
    assert "150" in summary["rows"][1]["errors"][0]["detail"]
    assert "ETH" in summary["rows"][3]["errors"][0]["detail"]

    imported = [summary["rows"][i] for i in (0, 8, 9)]
    assert all(r["outcome"] == "imported" for r in imported)
    assert len({r["id"] for r in imported}) == 3
    # One transaction: the imported rows' events follow the head, in row order.
    assert [r["position"] for r in imported] == [head + 1, head + 2, head + 3]
    assert summary["position"] == log_head(client) == head + 3
    stored = {o["id"]: o for o in stored_observations(client)}
    assert set(stored) == {r["id"] for r in imported}
    for result, sent in zip(imported, (rows[0], rows[8], rows[9]), strict=True):
        response = client.get(f"/observations/{result['id']}")
        assert response.status_code == 200
        observation = response.json()
        assert observation["recorded_position"] == result["position"]
        assert (observation["country"], observation["period"], observation["value"]) == (
            sent["country"],
            sent["period"],
            sent["value"],
        )
        assert observation["sector"] == sent.get("sector")
        assert observation["recorded_by"] == "test-office"
    first = client.get(f"/observations/{imported[0]['id']}").json()
    assert first["disaggregations"] == [{"dimension": "sex", "category": "female", "value": 11}]
    assert first["evidence"] == rows[0]["evidence"]
    assert first["comment"] == "test"


def test_the_status_is_ok_warning_or_error_as_documented(client: TestClient) -> None:
    set_up_programme(client)
    ok = import_json(client, [row(period="2019-Q1"), row(period="2019-Q2")])
    assert (ok["status"], ok["counts"]["imported"]) == ("OK", 2)
    present = import_json(client, [row(period="2019-Q1"), row(period="2019-Q2")])
    assert (present["status"], outcomes(present)) == ("OK", ["already_present", "already_present"])
    warning = import_json(client, [row(period="2019-Q3"), row(value=-1)])
    assert (warning["status"], outcomes(warning)) == ("WARNING", ["imported", "rejected"])
    present_and_rejected = import_json(client, [row(period="2019-Q3"), row(country="ETH")])
    assert (present_and_rejected["status"], outcomes(present_and_rejected)) == (
        "WARNING",
        ["already_present", "rejected"],
    )
    error = import_json(client, [row(value=101), row(country="XXX")])
    assert (error["status"], outcomes(error)) == ("ERROR", ["rejected", "rejected"])
    assert count(client) == 3


def test_a_body_that_is_not_a_batch_is_a_problem_and_records_nothing(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    assert_problem(client.post(BATCH, json={"observations": []}), 422, "/observations")
    assert_problem(client.post(BATCH, json={}), 422, "/observations")
    assert_problem(client.post(BATCH, json=[row()]), 422)
    assert_problem(client.post(BATCH, content=b"{not json", headers={"Content-Type": "application/json"}), 400)
    assert (log_head(client), count(client)) == (head, 0)


# -- Retries: a batch sent again never duplicates anything ------------------------


def test_a_retried_batch_imports_nothing_and_leaves_the_log_alone(client: TestClient) -> None:
    set_up_programme(client)
    rows = [observation_body(), row(country="VNM"), row(period="2019", sector="garments"), row(value=500)]
    first = import_json(client, rows)
    assert outcomes(first) == ["imported", "imported", "imported", "rejected"]
    head = log_head(client)
    again = import_json(client, rows)
    assert outcomes(again) == ["already_present", "already_present", "already_present", "rejected"]
    assert again["counts"]["imported"] == 0
    assert [r.get("id") for r in again["rows"][:3]] == [r["id"] for r in first["rows"][:3]]
    assert again["position"] == head == log_head(client)
    assert count(client) == 3


def test_a_changed_value_is_rejected_with_the_way_to_correct_it(client: TestClient) -> None:
    set_up_programme(client)
    (imported,) = import_json(client, [row(value=12.5)])["rows"]
    head = log_head(client)
    changed = import_json(client, [row(value=40)])
    assert changed["status"] == "ERROR"
    (result,) = changed["rows"]
    assert result["outcome"] == "rejected"
    assert pointers(changed, 0) == {"/observations/0/value"}
    corrections = f"/observations/{imported['id']}/corrections"
    assert corrections in result["errors"][0]["detail"]
    assert (log_head(client), count(client)) == (head, 1)
    # Following the advice: the correction is accepted, and the corrected sheet is then present.
    corrected = client.post(
        corrections, json={"value": 40, "reason": "revised survey"}, headers=if_match(client, imported["id"])
    )
    assert corrected.status_code == 200, corrected.text
    assert outcomes(import_json(client, [row(value=40)])) == ["already_present"]
    assert count(client) == 1


def test_after_a_retraction_the_period_is_imported_anew(client: TestClient) -> None:
    set_up_programme(client)
    (first,) = import_json(client, [row()])["rows"]
    retracted = client.post(
        f"/observations/{first['id']}/retraction",
        json={"reason": "entered twice"},
        headers=if_match(client, first["id"]),
    )
    assert retracted.status_code == 200, retracted.text
    assert retracted.json()["status"] == "retracted"
    (again,) = import_json(client, [row()])["rows"]
    assert again["outcome"] == "imported"
    assert again["id"] != first["id"]
    assert client.get(f"/observations/{again['id']}").json()["status"] == "recorded"
    assert {o["id"]: o["status"] for o in stored_observations(client)} == {
        first["id"]: "retracted",
        again["id"]: "recorded",
    }
    # And that new observation is, in its turn, present to a retry.
    (third,) = import_json(client, [row()])["rows"]
    assert (third["outcome"], third["id"]) == ("already_present", again["id"])
    assert count(client) == 2


def test_duplicates_within_a_batch_are_recorded_once(client: TestClient) -> None:
    set_up_programme(client)
    summary = import_json(
        client,
        [
            row(value=10),  # 0
            row(value=10),  # 1: the same again
            row(value=20),  # 2: the same period with another value
            row(country="VNM", value=30),  # 3
            row(period="2019-Q2", value=10, country="VNM", comment="same key, other comment"),  # 4
        ],
    )
    assert outcomes(summary) == ["imported", "already_present", "rejected", "imported", "rejected"]
    assert summary["rows"][1]["id"] == summary["rows"][0]["id"]
    assert pointers(summary, 2) == {"/observations/2/period"}
    assert "Row 0" in summary["rows"][2]["errors"][0]["detail"]
    assert "Row 3" in summary["rows"][4]["errors"][0]["detail"]
    assert summary["status"] == "WARNING"
    assert count(client) == 2


# -- dry_run and all_or_nothing --------------------------------------------------


def test_a_dry_run_says_what_would_happen_and_records_nothing(client: TestClient) -> None:
    set_up_programme(client)
    import_json(client, [row(period="2018")])
    head = log_head(client)
    rows = [
        row(period="2018"),
        row(period="2019-Q1"),
        row(country="VNM"),
        row(value="many"),
        row(period="2019-Q1", value=1),
    ]
    dry = import_json(client, rows, dry_run="true")
    assert dry["dry_run"] is True
    assert dry["counts"] == {"received": 5, "imported": 2, "already_present": 1, "rejected": 2, "skipped": 0}
    assert (dry["position"], log_head(client), count(client)) == (head, head, 1)
    real = import_json(client, rows)
    assert real["dry_run"] is False
    assert real["counts"] == dry["counts"]
    assert outcomes(real) == outcomes(dry)
    # The ids follow from the rows: the dry run named the ones the real run records.
    assert [r.get("id") for r in real["rows"]] == [r.get("id") for r in dry["rows"]]
    assert log_head(client) == head + 2
    assert count(client) == 3


def test_all_or_nothing_records_nothing_when_a_row_is_rejected(client: TestClient) -> None:
    set_up_programme(client)
    import_json(client, [row(period="2018")])
    head = log_head(client)
    rows = [row(period="2019-Q1"), row(period="2018"), row(country="VNM", value=101), row(country="VNM")]
    summary = import_json(client, rows, all_or_nothing="true")
    assert summary["all_or_nothing"] is True
    assert outcomes(summary) == ["skipped", "already_present", "rejected", "skipped"]
    assert summary["counts"]["skipped"] == 2 and summary["counts"]["imported"] == 0
    assert all("id" not in r for r in summary["rows"] if r["outcome"] == "skipped")
    assert summary["status"] == "WARNING"  # a row is present; none imported now
    assert (log_head(client), count(client)) == (head, 1)
    only_bad = import_json(client, [row(period="2019-Q1"), row(value=-5)], all_or_nothing="true")
    assert (only_bad["status"], outcomes(only_bad)) == ("ERROR", ["skipped", "rejected"])
    assert (log_head(client), count(client)) == (head, 1)

    good = import_json(client, [row(period="2019-Q1"), row(country="VNM"), row(period="2018")], all_or_nothing="true")
    assert outcomes(good) == ["imported", "imported", "already_present"]
    assert good["status"] == "OK"
    assert count(client) == 3


# -- Who may import ---------------------------------------------------------------


def test_an_office_imports_only_for_its_own_countries(client: TestClient, api_keys: ApiKeys) -> None:
    set_up_programme(client)
    bgd = bearer(office_token(api_keys, "office-bgd", ["BGD"]))
    summary = import_json(client, [row(), row(country="VNM"), row(period="2019-Q3")], headers=bgd)
    assert outcomes(summary) == ["imported", "rejected", "imported"]
    assert pointers(summary, 1) == {"/observations/1/country"}
    assert "VNM" in summary["rows"][1]["errors"][0]["detail"]
    csv = import_csv(
        client, "benchmark,country,period,value\nCA2-INSPECTION,VNM,2020,5\nCA2-INSPECTION,BGD,2020,5\n", headers=bgd
    )
    assert outcomes(csv) == ["rejected", "imported"]
    assert columns(csv, 0) == {"country"}
    stored = stored_observations(client)
    assert sorted((o["country"], o["period"]) for o in stored) == [
        ("BGD", "2019-Q2"),
        ("BGD", "2019-Q3"),
        ("BGD", "2020"),
    ]
    assert {o["recorded_by"] for o in stored} == {"office-bgd"}


def test_only_country_offices_may_import(client: TestClient, tokens: dict[Role, str]) -> None:
    set_up_programme(client)
    head = log_head(client)
    csv = f"{HEADER}\nCA2-INSPECTION,BGD,,2020,5,,,,\n".encode()
    # The programme manager imports international observations only: a national row is refused, naming why.
    summary = client.post(BATCH, json={"observations": [row()]}, headers=bearer(tokens[Role.PROGRAMME_MANAGER])).json()
    assert [r["outcome"] for r in summary["rows"]] == ["rejected"]
    assert "international observations only" in summary["rows"][0]["errors"][0]["detail"]
    for role in (Role.AUDITOR, Role.REPORTING):
        headers = bearer(tokens[role])
        for dry_run in ("false", "true"):
            json_answer = client.post(
                BATCH, json={"observations": [row()]}, params={"dry_run": dry_run}, headers=headers
            )
            assert assert_problem(json_answer, 403)["type"] == "/problems/forbidden", role
            csv_answer = client.post(CSV, content=csv, params={"dry_run": dry_run}, headers={**CSV_HEADERS, **headers})
            assert assert_problem(csv_answer, 403)["type"] == "/problems/forbidden", role
    assert_problem(client.post(BATCH, json={"observations": [row()]}, headers={"Authorization": "Bearer nope"}), 401)
    assert (log_head(client), count(client)) == (head, 0)


# -- CSV ---------------------------------------------------------------------------


def test_a_spreadsheet_saved_as_csv_is_imported_with_its_lines(client: TestClient) -> None:
    set_up_programme(client)
    lines = [
        HEADER,  # 1
        "CA2-INSPECTION,BGD,garments,2020-Q2,18.5,17,,Inspection report,https://example.org/r.pdf",  # 2
        "CA2-INSPECTION,VNM,,2020-Q2,21,,second survey,,",  # 3
        "",  # 4: a blank line
        'CA2-INSPECTION,VNM, ,2020-Q3, 22 ,,"a comment, with a comma",,',  # 5: spaces around cells
        ",,,,,,,,",  # 6: an empty row, as spreadsheets save one
        "",  # 7: a trailing blank line
    ]
    body = "\ufeff" + "\r\n".join(lines) + "\r\n"
    summary = import_csv(client, body.encode("utf-8"), headers={"Content-Type": "text/csv; charset=utf-8"})
    assert summary["status"] == "OK"
    assert outcomes(summary) == ["imported"] * 3
    assert [r["line"] for r in summary["rows"]] == [2, 3, 5]
    by_id = {o["id"]: o for o in stored_observations(client)}
    assert set(by_id) == {r["id"] for r in summary["rows"]}
    first, second, third = (by_id[r["id"]] for r in summary["rows"])
    assert first["recorded_position"] == summary["rows"][0]["position"]
    assert (first["benchmark"], first["country"], first["sector"], first["period"], first["value"]) == (
        "CA2-INSPECTION",
        "BGD",
        "garments",
        "2020-Q2",
        18.5,
    )
    assert first["disaggregations"] == [{"dimension": "sex", "category": "female", "value": 17}]
    assert first["evidence"] == [{"title": "Inspection report", "url": "https://example.org/r.pdf"}]
    assert first["comment"] is None
    assert (second["sector"], second["value"], second["comment"]) == (None, 21, "second survey")
    assert (second["disaggregations"], second["evidence"]) == ([], [])
    assert (third["sector"], third["period"], third["value"], third["comment"]) == (
        None,
        "2020-Q3",
        22,
        "a comment, with a comma",
    )
    # The same file again (or as application/csv) finds everything present.
    again = import_csv(client, body.encode("utf-8"), headers={"Content-Type": "application/csv"})
    assert outcomes(again) == ["already_present"] * 3
    assert count(client) == 3


def test_a_semicolon_separated_csv_is_imported(client: TestClient) -> None:
    set_up_programme(client)
    body = (
        "benchmark;country;period;value;sex:female;comment\n"
        "CA2-INSPECTION;BGD;2021-Q1;33.3;30;\n"
        'CA2-INSPECTION;VNM;2021;7;;"semi;colon, and comma"\n'
    )
    summary = import_csv(client, body)
    assert outcomes(summary) == ["imported", "imported"]
    assert [r["line"] for r in summary["rows"]] == [2, 3]
    stored = {(o["country"], o["period"]): o for o in stored_observations(client)}
    assert stored["BGD", "2021-Q1"]["value"] == 33.3
    assert stored["BGD", "2021-Q1"]["disaggregations"] == [{"dimension": "sex", "category": "female", "value": 30}]
    assert (stored["VNM", "2021"]["value"], stored["VNM", "2021"]["comment"]) == (7, "semi;colon, and comma")


def test_bad_csv_rows_are_reported_by_line_and_column(client: TestClient) -> None:
    set_up_programme(client)
    body = (
        f"{HEADER}\n"
        "CA2-INSPECTION,BGD,,2020-Q1,abc,,,,\n"  # 2
        "CA2-INSPECTION,BGD,,2020-Q2,150,,,,\n"  # 3
        "CA2-INSPECTION,XYZ,,2020-Q3,10,,,,\n"  # 4
        "CA2-INSPECTION,VNM,,2020-Q4,10,120,,,\n"  # 5: the disaggregated value is out of range
        "CA2-INSPECTION,VNM,,2020-Q1,10,,,,not a link\n"  # 6: a link without a title, and not a link
        "CA2-INSPECTION,VNM,,2020-Q2,,,,,\n"  # 7: no value
        "CA2-INSPECTION,VNM,,2020-Q3,10,,,,\n"  # 8: good
    )
    summary = import_csv(client, body)
    assert summary["status"] == "WARNING"
    assert [r["line"] for r in summary["rows"]] == [2, 3, 4, 5, 6, 7, 8]
    assert outcomes(summary) == ["rejected"] * 6 + ["imported"]
    assert columns(summary, 0) == {"value"} and "'abc'" in summary["rows"][0]["errors"][0]["detail"]
    assert columns(summary, 1) == {"value"} and "150" in summary["rows"][1]["errors"][0]["detail"]
    assert columns(summary, 2) == {"country"} and "XYZ" in summary["rows"][2]["errors"][0]["detail"]
    assert columns(summary, 3) == {"sex:female"}
    assert columns(summary, 4) == {"evidence_title", "evidence_url"}
    assert columns(summary, 5) == {"value"}
    assert all("pointer" not in e for r in summary["rows"] for e in r["errors"])
    assert count(client) == 1


def test_a_row_with_the_wrong_number_of_cells_is_rejected_alone(client: TestClient) -> None:
    set_up_programme(client)
    body = (
        "benchmark,country,period,value\n"
        "CA2-INSPECTION,BGD,2020,5\nCA2-INSPECTION,VNM,2020\nCA2-INSPECTION,VNM,2021,5,extra\n"
    )
    summary = import_csv(client, body)
    assert outcomes(summary) == ["imported", "rejected", "rejected"]
    assert [r["line"] for r in summary["rows"]] == [2, 3, 4]
    assert "Line 3 has 3 cells; the header has 4" in summary["rows"][1]["errors"][0]["detail"]
    assert "Line 4 has 5 cells" in summary["rows"][2]["errors"][0]["detail"]
    assert columns(summary, 1) == columns(summary, 2) == {None}
    assert [(o["country"], o["period"]) for o in stored_observations(client)] == [("BGD", "2020")]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"benchmark,country,period,comment\nCA2-INSPECTION,BGD,2020,x\n", "lacks value"),
        (b"benchmark,country,period,value,colour\nCA2-INSPECTION,BGD,2020,5,red\n", "'colour'"),
        (b"benchmark,country,period,value,value\nCA2-INSPECTION,BGD,2020,5,5\n", "more than once"),
        (
            "benchmark,country,period,value,comment\nCA2-INSPECTION,BGD,2020,5,Côte d'Ivoire\n".encode("latin-1"),
            "UTF-8",
        ),
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"benchmark,country,period,value\r\n", "no rows"),
        (b"benchmark,country,period,value\n\n\n", "no rows"),
    ],
    ids=[
        "missing-column",
        "unknown-column",
        "repeated-column",
        "latin-1",
        "empty",
        "bom-only",
        "header-only",
        "header-and-blank-lines",
    ],
)
def test_a_csv_that_cannot_be_read_is_refused_whole(client: TestClient, body: bytes, says: str) -> None:
    set_up_programme(client)
    head = log_head(client)
    problem = assert_problem(client.post(CSV, content=body, headers=CSV_HEADERS), 422)
    assert problem["type"] == "/problems/validation-error"
    assert says in problem["detail"], problem
    assert (log_head(client), count(client)) == (head, 0)


def test_a_csv_needs_its_content_type(client: TestClient) -> None:
    set_up_programme(client)
    body = b"benchmark,country,period,value\nCA2-INSPECTION,BGD,2020,5\n"
    for content_type in ("text/plain", "application/json", None):
        headers = {"Content-Type": content_type} if content_type else {}
        problem = assert_problem(client.post(CSV, content=body, headers=headers), 415)
        assert problem["type"] == "/problems/unsupported-media-type"
    assert count(client) == 0


# -- Limits -----------------------------------------------------------------------


def test_a_batch_holds_at_most_5000_rows(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    # 5001 distinct rows: each cell (country, sector or none) on a day of its own.
    cells = [(country, sector) for country in ("BGD", "VNM") for sector in ("garments", "")]
    distinct = [(*cells[i % 4], programme_day(i // 4)) for i in range(5001)]
    rows = [row(country=c, period=p, **({"sector": s} if s else {})) for c, s, p in distinct]
    assert_problem(client.post(BATCH, json={"observations": rows}), 422, "/observations")
    lines = [f"CA2-INSPECTION,{c},{s},{p},5" for c, s, p in distinct]
    csv = "benchmark,country,sector,period,value\n" + "\n".join(lines) + "\n"
    problem = assert_problem(client.post(CSV, content=csv.encode(), headers=CSV_HEADERS), 422)
    assert "5000" in problem["detail"]
    assert (log_head(client), count(client)) == (head, 0)
    # 5000 rows and trailing blank lines are within the limit.
    exactly = "benchmark,country,sector,period,value\n" + "\n".join(lines[:5000]) + "\n\n\n"
    dry = import_csv(client, exactly, dry_run="true")
    assert dry["counts"]["imported"] == 5000
    assert log_head(client) == head


def test_a_body_over_8_mib_is_refused_with_413(client: TestClient) -> None:
    set_up_programme(client)
    head = log_head(client)
    too_large = b" " * (8 * 1024 * 1024 + 1)
    for path, content_type in ((BATCH, "application/json"), (CSV, "text/csv")):
        problem = assert_problem(client.post(path, content=too_large, headers={"Content-Type": content_type}), 413)
        assert problem["type"] == "/problems/body-too-large"
    assert (log_head(client), count(client)) == (head, 0)


def test_a_batch_may_be_larger_than_a_single_observation(client: TestClient) -> None:
    set_up_programme(client)
    rows = [row(period=programme_day(i), comment="x" * 9000) for i in range(175)]
    body = json.dumps({"observations": rows}).encode()
    assert 1.5 * 1024 * 1024 < len(body) < 8 * 1024 * 1024
    summary = checked(client.post(BATCH, content=body, headers={"Content-Type": "application/json"}))
    assert summary["counts"]["imported"] == 175
    assert count(client) == 175
    single = client.post("/observations", content=body, headers={"Content-Type": "application/json"})
    assert assert_problem(single, 413)["type"] == "/problems/body-too-large"
    assert count(client) == 175


# -- Idempotency-Key ----------------------------------------------------------------


def test_an_idempotency_key_replays_the_first_summary(client: TestClient) -> None:
    set_up_programme(client)
    rows = [row(), row(country="VNM"), row(value=101)]
    key = {"Idempotency-Key": "sheet-2019-q2"}
    first = client.post(BATCH, json={"observations": rows}, headers=key)
    assert outcomes(checked(first)) == ["imported", "imported", "rejected"]
    head = log_head(client)
    again = client.post(BATCH, json={"observations": rows}, headers=key)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers[POSITION] == first.headers[POSITION]
    problem = assert_problem(client.post(BATCH, json={"observations": rows[:1]}, headers=key), 422)
    assert problem["type"] == "/problems/idempotency-key-reused"
    other = client.post(BATCH, json={"observations": [row(period="2019-Q4")]}, headers=key)
    assert assert_problem(other, 422)["type"] == "/problems/idempotency-key-reused"
    assert (log_head(client), count(client)) == (head, 2)


def test_an_idempotency_key_replays_a_csv_summary(client: TestClient) -> None:
    set_up_programme(client)
    csv = b"benchmark,country,period,value\nCA2-INSPECTION,BGD,2020,5\n"
    headers = {**CSV_HEADERS, "Idempotency-Key": "csv-1"}
    first = client.post(CSV, content=csv, headers=headers)
    assert outcomes(checked(first)) == ["imported"]
    head = log_head(client)
    again = client.post(CSV, content=csv, headers=headers)
    assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (200, first.json(), "true")
    changed = client.post(CSV, content=csv.replace(b",5\n", b",6\n"), headers=headers)
    assert assert_problem(changed, 422)["type"] == "/problems/idempotency-key-reused"
    dry = client.post(CSV, content=csv, headers=headers, params={"dry_run": "true"})
    assert assert_problem(dry, 422)["type"] == "/problems/idempotency-key-reused"
    assert (log_head(client), count(client)) == (head, 1)


# -- Concurrency --------------------------------------------------------------------


def test_two_imports_of_one_batch_at_once_record_each_row_once(client: TestClient) -> None:
    set_up_programme(client)
    for round_ in range(3):
        rows = [row(period=programme_day(round_ * 50 + m)) for m in range(50)]
        batch = {"observations": rows}
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(lambda _, batch=batch: client.post(BATCH, json=batch), range(2)))
        summaries = [checked(answer) for answer in answers]
        assert sum(s["counts"]["imported"] for s in summaries) == 50, [s["counts"] for s in summaries]
        for summary in summaries:
            assert summary["counts"]["rejected"] == 0
            assert summary["counts"]["imported"] + summary["counts"]["already_present"] == 50
        assert [r["id"] for r in summaries[0]["rows"]] == [r["id"] for r in summaries[1]["rows"]]
    stored = stored_observations(client)
    assert len(stored) == 150
    assert len({(o["country"], o["period"]) for o in stored}) == 150


# -- A property: importing twice never duplicates -----------------------------------

POOL_COUNTRIES = ("BGD", "VNM", "ETH")  # ETH is not selected: its rows are rejected
POOL_DAYS = (0, 1, 2)
POOL_VALUES = (10, 20.5, 150)  # 150 is not a percentage: rejected


def test_importing_a_batch_twice_never_duplicates_an_observation(client: TestClient) -> None:
    set_up_programme(client)
    first_days = itertools.count(0, len(POOL_DAYS))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        picks=st.lists(
            st.tuples(st.sampled_from(POOL_COUNTRIES), st.sampled_from(POOL_DAYS), st.sampled_from(POOL_VALUES)),
            min_size=1,
            max_size=12,
        )
    )
    def check(picks: list[tuple[str, int, Any]]) -> None:
        first_day = next(first_days)  # each example its own periods: the store is not emptied between examples
        rows = [row(country=c, period=programme_day(first_day + d), value=v) for c, d, v in picks]
        valid = [(c, q, v) for c, q, v in picks if c != "ETH" and v != 150]
        first_value: dict[tuple[str, int], Any] = {}
        for c, q, v in valid:
            first_value.setdefault((c, q), v)
        same = sum(1 for c, q, v in valid if first_value[c, q] == v)
        before = count(client)

        first = import_json(client, rows)
        assert first["counts"]["imported"] == len(first_value)
        assert first["counts"]["already_present"] == same - len(first_value)
        assert first["counts"]["rejected"] == len(rows) - same
        assert count(client) - before == len(first_value)

        head = log_head(client)
        second = import_json(client, rows)
        assert second["counts"]["imported"] == 0
        assert second["counts"]["already_present"] == same
        assert second["counts"]["rejected"] == len(rows) - same
        assert (log_head(client), count(client) - before) == (head, len(first_value))
        for one, two in zip(first["rows"], second["rows"], strict=True):
            if one["outcome"] in ("imported", "already_present"):
                assert (two["outcome"], two["id"]) == ("already_present", one["id"])
            else:
                assert two["outcome"] == "rejected"

    check()


# -- Found by these tests, fixed ------------------------------------------------------


def test_a_retry_with_the_disaggregations_in_another_order_is_already_present(client: TestClient) -> None:
    set_up_programme(client)
    female = {"dimension": "sex", "category": "female", "value": 11}
    male = {"dimension": "sex", "category": "male", "value": 14}
    assert outcomes(import_json(client, [row(disaggregations=[female, male])])) == ["imported"]
    csv_first = "benchmark,country,period,value,sex:female,sex:male\nCA2-INSPECTION,VNM,2020,12,11,14\n"
    assert outcomes(import_csv(client, csv_first)) == ["imported"]
    head = log_head(client)
    again = import_json(client, [row(disaggregations=[male, female])])
    csv_again = import_csv(
        client, "benchmark,country,period,value,sex:male,sex:female\nCA2-INSPECTION,VNM,2020,12,14,11\n"
    )
    assert (outcomes(again), outcomes(csv_again)) == (["already_present"], ["already_present"])
    assert (log_head(client), count(client)) == (head, 2)


def test_a_row_with_a_multi_line_cell_is_reported_at_the_line_it_starts_on(client: TestClient) -> None:
    set_up_programme(client)
    body = (
        "benchmark,country,period,value,comment\n"  # 1
        'CA2-INSPECTION,BGD,2020,5,"first line\nsecond line"\n'  # 2-3
        "CA2-INSPECTION,BGD,2021,abc,\n"  # 4
    )
    summary = import_csv(client, body)
    assert outcomes(summary) == ["imported", "rejected"]
    assert [r["line"] for r in summary["rows"]] == [2, 4]


def test_a_semicolon_separated_sheet_may_write_decimals_with_a_comma(client: TestClient) -> None:
    set_up_programme(client)
    body = (
        "benchmark;country;period;value;sex:female\n"
        "CA2-INSPECTION;BGD;2020;18,5;11,25\nCA2-INSPECTION;BGD;2021;1,2,3;\n"
    )
    summary = import_csv(client, body)
    assert outcomes(summary) == ["imported", "rejected"]
    observation = client.get(f"/observations/{summary['rows'][0]['id']}").json()
    assert observation["value"] == 18.5
    assert observation["disaggregations"][0]["value"] == 11.25
