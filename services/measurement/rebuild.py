"""Rebuilds every read model from the event log.

The log is replayed through the live handlers into memory, written into fresh
`*_rebuild` tables, then, in one transaction that holds the log's write lock
(so no event can slip in between): the events recorded meanwhile are
projected too, and the rebuilt rows replace the live ones. `verify` stops
before the swap and lists every row that differs from the live tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import Connection, MetaData, delete, insert, select, text

from services.measurement.adapters.tables import LIVE, ReadModelTables, projection_tracking, read_model_tables
from services.measurement.application import Measurement
from services.measurement.projections import READ_MODELS, Projected, Projector
from services.measurement.projections.store import PRIMARY_KEYS, MemoryStore, SqlStore
from services.measurement.views import tracked_position

REBUILD_SUFFIX = "_rebuild"
BATCH = 5000

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class Difference:
    table: str
    key: tuple[Any, ...]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None


@dataclass
class RebuildReport:
    events: int
    rows: int
    position: int
    swapped: bool
    differences: list[Difference] = field(default_factory=list)


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


def _replay(app: Measurement, store: Any, after: int, until: int, progress: Progress, connection: Connection | None) -> int:
    projector = Projector()
    done = 0
    position = after
    while position < until:
        batch = app.event_log.select_logged(after=position, until=until, limit=BATCH, connection=connection)
        if not batch:
            break
        projector.project(
            store,
            (
                Projected(app.mapper.to_domain_event(item.as_stored_event()), item.position, item.recorded_at)
                for item in batch
            ),
        )
        position = batch[-1].position
        done += len(batch)
        progress("replay", position, until)
    return done


def _fresh_tables(connection: Connection) -> tuple[MetaData, ReadModelTables]:
    metadata = MetaData()
    tables = read_model_tables(metadata, REBUILD_SUFFIX)
    metadata.drop_all(connection)
    metadata.create_all(connection)
    return metadata, tables


def rebuild(app: Measurement, *, verify: bool = False, progress: Progress = _no_progress) -> RebuildReport:
    database = app.database
    head = app.event_log.max_notification_id() or 0
    memory = MemoryStore()
    events = _replay(app, memory, 0, head, progress, None)
    rows = memory.row_count()

    # Write transactions (BEGIN IMMEDIATE on SQLite), so that DDL waits for
    # other writers instead of failing on a lock upgrade.
    with database.transaction() as connection:
        metadata, rebuilt = _fresh_tables(connection)
        for written in memory.flush(connection, rebuilt):
            progress("write", written, rows)
    del memory

    try:
        with database.transaction() as connection:
            head_now = app.event_log.lock_and_read_head(connection)
            events += _replay(app, SqlStore(connection, rebuilt), head, head_now, progress, connection)
            if verify:
                differences = compare(connection, LIVE, rebuilt)
                return RebuildReport(events, rows, head_now, swapped=False, differences=differences)
            _swap(connection, rebuilt)
            # Positions tracked by earlier versions of the read models are now meaningless.
            connection.execute(delete(projection_tracking).where(projection_tracking.c.projection != READ_MODELS))
            SqlStore(connection, LIVE).track(READ_MODELS, head_now)
            return RebuildReport(events, rows, head_now, swapped=True)
    finally:
        with database.transaction() as connection:
            metadata.drop_all(connection)


def _swap(connection: Connection, rebuilt: ReadModelTables) -> None:
    """Puts the rebuilt rows in place of the live ones. PostgreSQL renames the
    tables (constant time, whatever their size), and their constraints and
    indexes to the live names; SQLite, which cannot rename an index, copies."""
    for live_table, rebuilt_table in zip(LIVE.all(), rebuilt.all(), strict=True):
        if connection.dialect.name != "postgresql":
            connection.execute(delete(live_table))
            connection.execute(insert(live_table).from_select(rebuilt_table.columns.keys(), select(rebuilt_table)))
            continue
        live_name, rebuilt_name = live_table.name, rebuilt_table.name
        connection.execute(text(f"DROP TABLE {live_name}"))
        connection.execute(text(f"ALTER TABLE {rebuilt_name} RENAME TO {live_name}"))
        constraints = connection.execute(
            text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"), {"t": live_name}
        ).scalars()
        for constraint in list(constraints):
            if rebuilt_name in constraint:
                renamed = constraint.replace(rebuilt_name, live_name)
                connection.execute(text(f'ALTER TABLE {live_name} RENAME CONSTRAINT "{constraint}" TO "{renamed}"'))
        indexes = connection.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": live_name})
        for index in list(indexes.scalars()):
            if rebuilt_name in index:
                connection.execute(text(f'ALTER INDEX "{index}" RENAME TO "{index.replace(rebuilt_name, live_name)}"'))


def _rows_by_key(connection: Connection, table: Any, role: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    key_columns = PRIMARY_KEYS[role]
    return {
        tuple(row[c] for c in key_columns): row
        for row in (dict(r._mapping) for r in connection.execute(select(table)))
    }


def compare(connection: Connection, live: ReadModelTables, rebuilt: ReadModelTables) -> list[Difference]:
    """Every row that is in one set of read models and not the same in the other."""
    differences: list[Difference] = []
    for role in PRIMARY_KEYS:
        live_rows = _rows_by_key(connection, getattr(live, role), role)
        rebuilt_rows = _rows_by_key(connection, getattr(rebuilt, role), role)
        for key in sorted(live_rows.keys() | rebuilt_rows.keys(), key=repr):
            before, after = live_rows.get(key), rebuilt_rows.get(key)
            if before != after:
                differences.append(Difference(role, key, before, after))
    return differences


def needs_rebuild(app: Measurement) -> bool:
    """True when the log has events the current read models never saw."""
    head = app.event_log.max_notification_id() or 0
    with app.database.snapshot() as connection:
        return tracked_position(connection) < head
