"""The event store on a real database: gap-free positions under concurrent
writers, append-only storage, and durable SQLite settings."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.common.access import Principal
from services.common.errors import ConflictError, StaleVersionError
from services.measurement.adapters.event_store import LOG_LOCK_KEY
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.catalogue import ObservationFilter
from services.measurement.application.transparency import TransparencyLog
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Measure
from tests.support import criteria

OFFICE = Principal.office("test-office", ["BGD"])


def _programme(measurement: Measurement) -> None:
    measurement.define_benchmark(
        code="B1",
        assumption="CA2",
        title="t",
        description="",
        measure=Measure.UNIT,
        ascending=True,
        unit_label=None,
        levels=[],
        baseline={"value": 0, "date": date(2017, 1, 1)},
        targets=[{"value": 10, "date": date(2021, 12, 31), "label": None}],
        combination=Combination.SUM,
        threshold=None,
        disaggregations=[],
        deliverables=[],
        pb_indicators=[],
        principal="test",
    )
    measurement.select_country("BGD", IloRegion.ASIA_PACIFIC, criteria(), "test")


def _record(measurement: Measurement, value: int) -> None:
    measurement.record_observation(
        benchmark="B1",
        country="BGD",
        sector=None,
        period="2019",
        value=value,
        disaggregations=[],
        evidence=[],
        comment=None,
        actor=OFFICE,
    )


def _positions(measurement: Measurement) -> list[int]:
    with measurement.database.snapshot() as connection:
        return list(connection.execute(text("SELECT position FROM stored_events ORDER BY position")).scalars())


def test_concurrent_writers_get_gap_free_positions(measurement: Measurement) -> None:
    _programme(measurement)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda v: _record(measurement, v), range(40)))
    positions = _positions(measurement)
    assert positions == list(range(1, len(positions) + 1))
    assert len(catalogue.observations(measurement.database, ObservationFilter(), None, 500)["items"]) == 40


def test_two_writers_of_one_store_get_gap_free_positions_and_one_tree(measurement: Measurement, tmp_path: Path) -> None:
    """Two applications on one store (two server processes, each with its own
    group-commit writer) recording at once: their groups take the log's lock
    in turn (on PostgreSQL, in the round trip that reads the log's tail), so
    the positions are gap-free and the Merkle tree is the log's."""
    _programme(measurement)
    other = Measurement(measurement.database, measurement.country_name)
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            list(pool.map(lambda v: _record(measurement if v % 2 else other, v), range(60)))
    finally:
        other.close()
    positions = _positions(measurement)
    assert positions == list(range(1, len(positions) + 1))
    assert len(catalogue.observations(measurement.database, ObservationFilter(), None, 500)["items"]) == 60
    report = TransparencyLog(measurement.database, tmp_path / "checkpoint.key", "test").verify()
    assert (report.problems, report.events, report.tree_size) == ([], len(positions), len(positions))


def test_a_refused_concurrent_change_leaves_no_gap(measurement: Measurement) -> None:
    _programme(measurement)
    _record(measurement, 1)
    observation_id = catalogue.observations(measurement.database, ObservationFilter(), None, 10)["items"][0]["id"]
    stale: Observation = measurement.repository.get(observation_id)
    measurement.correct_observation(
        observation_id, value=2, disaggregations=None, reason="first", actor=OFFICE, based_on=[1]
    )
    stale.retract("second, from a stale copy", "b")
    with pytest.raises(ConflictError):
        measurement.save(stale)
    _record(measurement, 3)
    positions = _positions(measurement)
    assert positions == list(range(1, len(positions) + 1))
    assert catalogue.observation_or_404(measurement.database, observation_id)["status"] == "corrected"


@pytest.mark.parametrize("statement", ["UPDATE stored_events SET topic = 'x'", "DELETE FROM stored_events"])
def test_the_database_refuses_to_change_or_delete_stored_events(measurement: Measurement, statement: str) -> None:
    before = _positions(measurement)
    with pytest.raises(DBAPIError, match="append-only"), measurement.database.transaction() as connection:
        connection.execute(text(statement))
    assert _positions(measurement) == before


def test_sqlite_commits_are_durable(measurement: Measurement) -> None:
    if not measurement.database.is_sqlite:
        with measurement.database.snapshot() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
        return
    with measurement.database.snapshot() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_recorded_at_never_decreases_along_the_log(measurement: Measurement) -> None:
    _programme(measurement)
    for value in range(5):
        _record(measurement, value)
    events = catalogue.log_page(measurement, 0, 100)["events"]
    times = [event["recorded_at"] for event in events]
    assert times == sorted(times)
    assert measurement.event_log.position_at(times[-1]) == events[-1]["position"]
    assert measurement.event_log.position_at(times[0].replace(year=2000)) == 0


def test_saves_queued_behind_the_lock_are_written_as_one_group_each_answered_alone(
    measurement: Measurement,
) -> None:
    """Saves that queue while the log's lock is held elsewhere are written
    together once it is free (one insert per table for the group): each
    caller is still answered for its own save alone. Two corrections of one
    observation from the same version: one wins, the other is a conflict and
    writes nothing; the records around them are all kept, with gap-free
    positions, and the read models hold exactly what the log holds."""
    _programme(measurement)
    _record(measurement, 1)
    observation_id = catalogue.observations(measurement.database, ObservationFilter(), None, 10)["items"][0]["id"]

    def correct(value: int) -> str:
        try:
            measurement.correct_observation(
                observation_id, value=value, disaggregations=None, reason="r", actor=OFFICE, based_on=[1]
            )
        except (ConflictError, StaleVersionError):
            return "conflict"
        return "corrected"

    def record(value: int) -> str:
        _record(measurement, value)
        return "recorded"

    database = measurement.database
    with database.engine.connect() as holder:
        # Hold the log's write lock from outside the service, so that the writes below queue behind it.
        if database.is_postgresql:
            holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOG_LOCK_KEY})
        else:
            holder.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        with ThreadPoolExecutor(max_workers=12) as pool:
            futures = [pool.submit(record, v) for v in range(10, 20)]
            futures += [pool.submit(correct, v) for v in (100, 200)]
            time.sleep(1.0)  # every save is queued (or waiting for the lock with the first of them)
            if database.is_postgresql:
                holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOG_LOCK_KEY})
                holder.commit()
            else:
                holder.connection.driver_connection.execute("COMMIT")  # type: ignore[union-attr]
            outcomes = [future.result() for future in futures]
    assert outcomes[:10] == ["recorded"] * 10
    assert sorted(outcomes[10:]) == ["conflict", "corrected"]
    positions = _positions(measurement)
    assert positions == list(range(1, len(positions) + 1))
    items = catalogue.observations(measurement.database, ObservationFilter(), None, 500)["items"]
    assert sorted(item["value"] for item in items) == sorted(
        [*range(10, 20), 100 if outcomes[10] == "corrected" else 200]
    )
