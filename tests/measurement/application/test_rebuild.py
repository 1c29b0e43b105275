"""Rebuilding the read models from the log, through the `stocktake` CLI: a
verify finds tampering without repairing it, a rebuild repairs it, `migrate`
rebuilds read models whose version changed, and events recorded while a
rebuild runs are not lost."""

from __future__ import annotations

import fcntl
import threading
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from typer.testing import CliRunner, Result

from services.common.migrations import alembic_config
from services.measurement.adapters.tables import LIVE
from services.measurement.application.commands import Measurement
from services.measurement.application.queries.catalogue import tracked_position
from services.measurement.application.rebuild import REBUILD_LOCK, rebuild
from services.measurement.entrypoints.cli import app
from services.measurement.projections.store import PRIMARY_KEYS
from tests.support import benchmark_body, country_body, if_match, log_head, observation_body, set_up_programme

CODE = "CA2-INSPECTION"
AS_OF_DATES = ("2019-06-30", "2019-09-30", "2021-12-31")


def _stocktake(database_url: str, *args: str) -> Result:
    # A wide console, so that the table of differences does not wrap table names.
    return CliRunner().invoke(app, [*args, "--database-url", database_url], env={"COLUMNS": "400"})


def _history(client: TestClient) -> None:
    """Benchmarks, countries, observations, a correction, a retraction, revisions and a retirement."""
    set_up_programme(client, ("BGD", "VNM", "ETH"))
    count = benchmark_body(
        code="CA5-AGREEMENTS",
        assumption="CA5",
        measure="unit",
        combination="sum",
        disaggregations=[],
        baseline={"value": 0, "date": "2017-01-01"},
        targets=[{"value": 12, "date": "2021-12-31", "label": "final"}],
    )
    assert client.post("/benchmarks", json=count).status_code == 201
    spare = benchmark_body(code="CA2-SPARE", targets=[{"value": 50, "date": "2021-12-31"}])
    assert client.post("/benchmarks", json=spare).status_code == 201

    ids = []
    values = [("BGD", "2019-Q2", 12), ("VNM", "2019-Q2", 14), ("BGD", "2019-Q3", 16), ("ETH", "2020", 9)]
    for country, period, value in values:
        created = client.post("/observations", json=observation_body(country=country, period=period, value=value))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    for country, period, value in [("BGD", "2019", 3), ("VNM", "2020-06", 5)]:
        body = observation_body(
            benchmark="CA5-AGREEMENTS", country=country, period=period, value=value, disaggregations=[]
        )
        assert client.post("/observations", json=body).status_code == 201

    for corrected, value in ((ids[0], 11), (ids[1], 15)):
        correction = {"value": value, "reason": "recount"}
        assert (
            client.post(
                f"/observations/{corrected}/corrections", headers=if_match(client, corrected), json=correction
            ).status_code
            == 200
        )
    assert (
        client.post(
            f"/observations/{ids[3]}/retraction", headers=if_match(client, ids[3]), json={"reason": "duplicate"}
        ).status_code
        == 200
    )
    revision = {
        "targets": [{"value": 22, "date": "2019-12-31"}, {"value": 35, "date": "2021-12-31"}],
        "reason": "mid-term review",
    }
    assert client.post(f"/benchmarks/{CODE}/target-revisions", json=revision).status_code == 200
    baseline = {"baseline": {"value": 1, "date": "2017-01-01"}, "reason": "recount"}
    assert client.post("/benchmarks/CA5-AGREEMENTS/baseline-revisions", json=baseline).status_code == 200
    assert client.post("/benchmarks/CA2-SPARE/retirement", json={"reason": "merged"}).status_code == 200
    assert client.post("/scope/countries", json=country_body("KHM")).status_code == 201


def _answers(client: TestClient) -> dict[str, Any]:
    """What the API says about the history: states, observation pages, catalogue."""
    answers: dict[str, Any] = {"observations": client.get("/observations").json()}
    for code in (CODE, "CA5-AGREEMENTS", "CA2-SPARE"):
        answers[code] = client.get(f"/benchmarks/{code}").json()
        for as_of in AS_OF_DATES:
            answers[f"{code}@{as_of}"] = client.get(f"/benchmarks/{code}/state", params={"as_of": as_of}).json()
    return answers


def _live_rows(measurement: Measurement) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    with measurement.database.snapshot() as connection:
        for role, key in PRIMARY_KEYS.items():
            table = getattr(LIVE, role)
            query = select(table).order_by(*(table.c[column] for column in key))
            rows[role] = [dict(row._mapping) for row in connection.execute(query)]
    return rows


def _tracked(measurement: Measurement) -> int:
    with measurement.database.snapshot() as connection:
        return tracked_position(connection)


def test_verify_after_a_full_history_finds_no_difference(client: TestClient, database_url: str) -> None:
    _history(client)
    result = _stocktake(database_url, "rebuild", "--verify")
    assert result.exit_code == 0, result.output
    assert "No difference" in result.output
    assert f"up to position {log_head(client)}" in result.output


def test_verify_names_tampered_tables_and_a_rebuild_repairs_them(
    client: TestClient, measurement: Measurement, database_url: str
) -> None:
    _history(client)
    before = _answers(client)
    with measurement.database.transaction() as connection:
        connection.execute(text("UPDATE observations_view SET status = 'x'"))
        connection.execute(
            text("DELETE FROM observation_values WHERE known_from = (SELECT MIN(known_from) FROM observation_values)")
        )
    tampered = _live_rows(measurement)
    assert _answers(client) != before

    verified = _stocktake(database_url, "rebuild", "--verify")
    assert verified.exit_code == 1, verified.output
    assert "observations_view" in verified.output and "observation_values" in verified.output
    for untouched in ("benchmarks_view", "benchmark_revisions", "country_selections"):
        assert untouched not in verified.output
    assert _live_rows(measurement) == tampered

    rebuilt = _stocktake(database_url, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "swapped in" in rebuilt.output
    again = _stocktake(database_url, "rebuild", "--verify")
    assert again.exit_code == 0, again.output
    assert "No difference" in again.output
    assert _answers(client) == before
    assert _tracked(measurement) == log_head(client)


def test_verify_does_not_depend_on_the_session_time_zone(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(client)
    monkeypatch.setenv("PGTZ", "Asia/Kathmandu")  # as on a server whose TimeZone is the host's local zone
    verified = _stocktake(database_url, "rebuild", "--verify")
    assert verified.exit_code == 0, verified.output


def test_a_rebuild_split_over_worker_processes_writes_the_same_read_models(
    client: TestClient, measurement: Measurement, database_url: str
) -> None:
    """PostgreSQL replays the log in parts, by stream, in several processes
    (SQLite ignores --workers): every row must be the one a single replay
    writes, the valid-date high water included."""
    _history(client)
    for country, period in (("BGD", "2018-Q1"), ("VNM", "2021"), ("BGD", "2017-06")):  # high water rises and not
        assert client.post("/observations", json=observation_body(country=country, period=period)).status_code == 201
    before, rows = _answers(client), _live_rows(measurement)

    rebuilt = _stocktake(database_url, "rebuild", "--workers", "3")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _live_rows(measurement) == rows
    assert _answers(client) == before
    assert _tracked(measurement) == log_head(client)


def test_a_second_rebuild_at_the_same_time_is_refused(measurement: Measurement, database_url: str) -> None:
    if measurement.database.is_postgresql:
        with measurement.database.engine.connect() as other:  # as a rebuild under way holds it
            other.execute(select(func.pg_advisory_lock(REBUILD_LOCK)))
            refused = _stocktake(database_url, "rebuild")
            other.execute(select(func.pg_advisory_unlock(REBUILD_LOCK)))
            other.commit()
    else:
        with open(f"{measurement.database.engine.url.database}.rebuild-lock", "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)  # as a rebuild under way holds it
            refused = _stocktake(database_url, "rebuild")
            fcntl.flock(lock_file, fcntl.LOCK_UN)
    assert refused.exit_code == 1
    assert "Another rebuild" in refused.output
    assert _stocktake(database_url, "rebuild").exit_code == 0


def test_a_rebuild_of_an_empty_store_leaves_it_empty(bare_measurement: Measurement, database_url: str) -> None:
    rebuilt = _stocktake(database_url, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "0 events, 0 rows, up to position 0" in rebuilt.output
    verified = _stocktake(database_url, "rebuild", "--verify")
    assert verified.exit_code == 0, verified.output
    assert all(rows == [] for rows in _live_rows(bare_measurement).values())
    assert _tracked(bare_measurement) == 0


def test_migrate_rebuilds_read_models_whose_tracked_position_is_missing(
    client: TestClient, measurement: Measurement, database_url: str
) -> None:
    _history(client)
    before = _answers(client)
    rows = _live_rows(measurement)
    with measurement.database.transaction() as connection:
        connection.execute(text("DELETE FROM projection_tracking"))
    assert _tracked(measurement) == 0

    migrated = _stocktake(database_url, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert "rebuilding" in migrated.output
    assert _tracked(measurement) == log_head(client)
    assert _live_rows(measurement) == rows
    assert _answers(client) == before

    unchanged = _stocktake(database_url, "migrate")
    assert unchanged.exit_code == 0 and "rebuilding" not in unchanged.output


def test_upgrading_from_read_models_without_series_keys_rebuilds_them(
    client: TestClient, measurement: Measurement, database_url: str
) -> None:
    """Revision 0006 empties the as-of tables to add their series keys; the
    `migrate` that applies it refills them from the log."""
    _history(client)
    before = _answers(client)
    rows = _live_rows(measurement)
    measurement.database.engine.dispose()  # SQLite rebuilds tables in the downgrade: no connection holds them
    command.downgrade(alembic_config(database_url), "0005")
    with measurement.database.transaction() as connection:
        connection.execute(
            text("UPDATE projection_tracking SET projection = 'read-models/3'")
        )  # as that version left it
        assert connection.execute(text("SELECT count(*) FROM observation_values")).scalar_one() == 0

    migrated = _stocktake(database_url, "migrate")
    assert migrated.exit_code == 0, migrated.output
    assert "rebuilding" in migrated.output
    assert _live_rows(measurement) == rows
    assert _answers(client) == before


def _record_late_value(client: TestClient) -> None:
    body = observation_body(country="VNM", period="2019-08", value=19, comment="recorded during a rebuild")
    assert client.post("/observations", json=body).status_code == 201


def test_an_event_recorded_after_the_replay_is_caught_up_before_the_swap(
    client: TestClient, measurement: Measurement, database_url: str
) -> None:
    _history(client)
    head = log_head(client)
    calls: list[tuple[str, int, int]] = []

    def progress(phase: str, done: int, total: int) -> None:
        if not calls:
            _record_late_value(client)
        calls.append((phase, done, total))

    report = rebuild(measurement, progress=progress)

    assert calls[0] == ("replay", head, head)
    assert (report.swapped, report.position, report.events) == (True, head + 1, head + 1)
    _assert_recorded_late_value_is_kept(client, measurement, database_url)


def test_an_event_recorded_while_rebuilt_rows_are_written_is_not_lost(
    client: TestClient, measurement: Measurement, database_url: str
) -> None:
    _history(client)
    head = log_head(client)
    writers: list[threading.Thread] = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "write" and not writers:
            # On SQLite the write phase holds the database's write lock, so the
            # observation is recorded by another thread, which waits for it.
            writers.append(threading.Thread(target=_record_late_value, args=(client,)))
            writers[0].start()
            if measurement.database.is_postgresql:
                writers[0].join()

    report = rebuild(measurement, progress=progress)
    writers[0].join()

    assert report.swapped and report.position >= head
    _assert_recorded_late_value_is_kept(client, measurement, database_url)


def _assert_recorded_late_value_is_kept(client: TestClient, measurement: Measurement, database_url: str) -> None:
    assert log_head(client) == _tracked(measurement)
    observations = client.get("/observations", params={"country": "VNM"}).json()["items"]
    assert [o["comment"] for o in observations if o["period"] == "2019-08"] == ["recorded during a rebuild"]
    state = client.get(f"/benchmarks/{CODE}/state", params={"as_of": "2019-09-30"}).json()
    assert {c["country"]: c["value"] for c in state["countries"]} == {"BGD": 16, "VNM": 19}
    verified = _stocktake(database_url, "rebuild", "--verify")
    assert verified.exit_code == 0, verified.output
