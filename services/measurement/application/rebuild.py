"""Rebuilds every read model from the event log.

The log is replayed through the live handlers into memory, written into fresh
`*_rebuild` tables, then, in one transaction that holds the log's write lock
(so no event can slip in between): the events recorded meanwhile are
projected too, and the rebuilt rows replace the live ones. `verify` stops
before the swap and lists every row that differs from the live tables."""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, UniqueConstraint, delete, event, func, insert, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, CreateTable

from services.common.database import Database
from services.measurement.adapters.bulk import bulk_insert
from services.measurement.adapters.tables import LIVE, ReadModelTables, projection_tracking, read_model_tables
from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.queries.catalogue import tracked_position
from services.measurement.projections import READ_MODELS, Projected, Projector
from services.measurement.projections.store import PRIMARY_KEYS, MemoryStore, Row, SqlStore

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


def _replay(
    app: EventLogApplication,
    store: Any,
    after: int,
    until: int,
    progress: Progress,
    connection: Connection | None,
    partition: tuple[int, int] | None = None,
) -> int:
    projector = Projector()
    done = 0
    position = after
    while position < until:
        if partition is None:
            batch = app.event_log.select_logged(after=position, until=until, limit=BATCH, connection=connection)
            if not batch:
                break
            reached = batch[-1].position
        else:
            # A part reads a range of positions at a time (an index range scan
            # whatever share of it is the part's), not "the next BATCH of its events".
            reached = min(until, position + BATCH * partition[1])
            batch = app.event_log.select_logged(
                after=position, until=reached, limit=reached - position, connection=connection, partition=partition
            )
        projector.project(
            store,
            (
                Projected(app.mapper.to_domain_event(item.as_stored_event()), item.position, item.recorded_at)
                for item in batch
            ),
        )
        position = reached
        done += len(batch)
        progress("replay", position, until)
    return done


def _fresh_tables(connection: Connection) -> tuple[MetaData, ReadModelTables]:
    """Empty `*_rebuild` tables. On PostgreSQL they start without keys or
    indexes (`_index_tables` adds them once the rows are in: building an
    index over loaded rows is several times quicker than keeping it up to
    date row by row)."""
    metadata = MetaData()
    tables = read_model_tables(metadata, REBUILD_SUFFIX)
    metadata.drop_all(connection)
    if connection.dialect.name != "postgresql":
        metadata.create_all(connection)
        return metadata, tables
    for table in tables.all():
        bare = Table(table.name, MetaData(), *(Column(c.name, c.type, nullable=c.nullable) for c in table.columns))
        connection.execute(CreateTable(bare))
    return metadata, tables


def _index_tables(connection: Connection, tables: ReadModelTables) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))  # index builds sort in memory
    for table in tables.all():
        for constraint in (table.primary_key, *(c for c in table.constraints if isinstance(c, UniqueConstraint))):
            connection.execute(AddConstraint(constraint))
        for index in table.indexes:
            connection.execute(CreateIndex(index))


def _replay_here(app: EventLogApplication, head: int, progress: Progress) -> tuple[MetaData, ReadModelTables, int, int]:
    """Replays the log in this process into memory, then writes the rows."""
    with _no_cycle_collection():
        memory = MemoryStore()
        events = _replay(app, memory, 0, head, progress, None)
        rows = memory.row_count()
        # Write transactions (BEGIN IMMEDIATE on SQLite), so that DDL waits for
        # other writers instead of failing on a lock upgrade.
        with app.database.transaction() as connection:
            metadata, rebuilt = _fresh_tables(connection)
            for written in memory.flush(connection, rebuilt):
                progress("write", written, rows)
            _index_tables(connection, rebuilt)
    return metadata, rebuilt, events, rows


# The log is split by stream: every handler reads and writes rows of its own
# event's stream only, except the valid-date high water, which each part
# computes for its own events and which is merged here (a position where the
# high water of the whole log rises is one where that of its part rises), and
# the value cells, which observations of several parts share: each part
# returns its own, and a cell is first known where any part first knew it.
MERGED_ROLES = ("valid_date_high_water", "value_cells")
PARALLEL_FROM = 50_000
MAX_WORKERS = 4


def _replay_in_parallel(
    app: EventLogApplication, head: int, workers: int, progress: Progress
) -> tuple[MetaData, ReadModelTables, int, int]:
    with app.database.transaction() as connection:  # committed: the workers' connections must see the tables
        metadata, rebuilt = _fresh_tables(connection)
    try:
        return _fill_in_parallel(app, metadata, rebuilt, head, workers, progress)
    except BaseException:
        with app.database.transaction() as connection:
            metadata.drop_all(connection)
        raise


def _fill_in_parallel(
    app: EventLogApplication, metadata: MetaData, rebuilt: ReadModelTables, head: int, workers: int, progress: Progress
) -> tuple[MetaData, ReadModelTables, int, int]:
    context = multiprocessing.get_context("spawn")  # no threads or connections of this process carried over
    with context.Manager() as manager:
        done = manager.dict(dict.fromkeys(range(workers), 0))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            parts = [
                pool.submit(_replay_part, app.database.url, (part, workers), head, done) for part in range(workers)
            ]
            while not all(part.done() for part in parts):
                progress("replay", min(head, sum(done.values())), head)
                wait(parts, timeout=0.5)
            results = [part.result() for part in parts]
    events = sum(result[0] for result in results)
    rows = sum(result[1] for result in results)
    high_water: list[Row] = []
    for position, valid_date in sorted(candidate for result in results for candidate in result[2]):
        if not high_water or valid_date > high_water[-1]["valid_date"]:
            high_water.append({"position": position, "valid_date": valid_date})
    cells: dict[tuple[Any, ...], Row] = {}
    for cell in sorted((cell for result in results for cell in result[3]), key=lambda cell: cell["first_known"]):
        cells.setdefault((cell["benchmark"], cell["country"], cell["sector"]), cell)
    with app.database.transaction() as connection:
        bulk_insert(connection, rebuilt.valid_date_high_water, high_water)
        bulk_insert(connection, rebuilt.value_cells, list(cells.values()))
        progress("write", rows, rows + len(high_water) + len(cells))
        _index_tables(connection, rebuilt)
    return metadata, rebuilt, events, rows + len(high_water) + len(cells)


def _replay_part(
    url: str, partition: tuple[int, int], head: int, done: Any
) -> tuple[int, int, list[tuple[int, date]], list[Row]]:
    """In a worker process: replays one part of the log and writes its rows.
    Returns the events replayed, the rows written, the part's high water and
    its value cells."""
    # The log alone: a worker replays, it records nothing.
    part = EventLogApplication(Database(url))

    @event.listens_for(part.database.engine, "connect")
    def one_process_per_query(dbapi_connection: Any, _record: Any) -> None:
        # The parts already use every CPU: no parallel workers per query on top.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.commit()

    try:
        with _no_cycle_collection():
            memory = MemoryStore()

            def report(phase: str, position: int, until: int) -> None:
                done[partition[0]] = position // partition[1]

            events = _replay(part, memory, 0, head, report, None, partition)
            high_water = [(row["position"], row["valid_date"]) for row in memory.rows["valid_date_high_water"].values()]
            cells = list(memory.rows["value_cells"].values())
            roles = [role for role in PRIMARY_KEYS if role not in MERGED_ROLES]
            tables = read_model_tables(MetaData(), REBUILD_SUFFIX)
            with part.database.transaction() as connection:
                for _ in memory.flush(connection, tables, roles=roles):
                    pass
            rows = sum(len(memory.rows[role]) for role in roles)
        return events, rows, high_water, cells
    finally:
        part.database.dispose()


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The replay keeps millions of rows (dicts, none in a cycle) alive: the
    cyclic garbage collector would walk them all again and again, and take
    about half the time of the replay for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class RebuildRunningError(RuntimeError):
    """Another rebuild of the same store is under way."""


REBUILD_LOCK = 0x53544B52  # "STKR": a PostgreSQL advisory lock held for a whole rebuild


@contextmanager
def _only_rebuild(app: EventLogApplication) -> Iterator[None]:
    """One rebuild at a time: two would write the same `*_rebuild` tables.
    PostgreSQL: an advisory lock; SQLite: a lock on a file beside the database."""
    if not app.database.is_postgresql:
        with _sqlite_rebuild_lock(app.database):
            yield
        return
    with app.database.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        if not connection.execute(select(func.pg_try_advisory_lock(REBUILD_LOCK))).scalar():
            raise RebuildRunningError("Another rebuild of these read models is running: let it finish, then retry.")
        try:
            yield
        finally:
            connection.execute(select(func.pg_advisory_unlock(REBUILD_LOCK)))


@contextmanager
def _sqlite_rebuild_lock(database: Database) -> Iterator[None]:
    path = database.engine.url.database
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.rebuild-lock", "a+b") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RebuildRunningError(
                "Another rebuild of these read models is running: let it finish, then retry."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def rebuild(
    app: EventLogApplication, *, verify: bool = False, progress: Progress = _no_progress, workers: int | None = None
) -> RebuildReport:
    """`workers`: processes replaying the log side by side (PostgreSQL only);
    by default one per CPU for a log of PARALLEL_FROM events or more."""
    with _only_rebuild(app):
        return _rebuild(app, verify, progress, workers)


def _rebuild(app: EventLogApplication, verify: bool, progress: Progress, workers: int | None) -> RebuildReport:
    database = app.database
    head = app.event_log.max_notification_id() or 0
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_WORKERS) if head >= PARALLEL_FROM else 1
    if database.is_postgresql and workers > 1:
        metadata, rebuilt, events, rows = _replay_in_parallel(app, head, workers, progress)
    else:
        metadata, rebuilt, events, rows = _replay_here(app, head, progress)

    try:
        if not verify:
            _vacuum(database, rebuilt)
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


def _vacuum(database: Database, tables: ReadModelTables) -> None:
    """PostgreSQL: vacuums and analyses the fresh tables before they go live,
    outside any lock. Vacuum marks their pages all-visible, which lets the
    as-of lookups read the series index alone (an index-only scan) from the
    first query on; analysis gives the planner their sizes."""
    if not database.is_postgresql:
        return
    with database.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside transactions
        for table in tables.all():
            connection.execute(text(f"VACUUM (ANALYZE) {table.name}"))


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
        tuple(row[c] for c in key_columns): row for row in (dict(r._mapping) for r in connection.execute(select(table)))
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


def needs_rebuild(app: EventLogApplication) -> bool:
    """True when the log has events the current read models never saw."""
    head = app.event_log.max_notification_id() or 0
    with app.database.snapshot() as connection:
        return tracked_position(connection) < head
