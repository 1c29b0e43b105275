"""Where projection handlers write: the few row operations they need, on
either the database (live, inside the events' transaction) or memory (a
rebuild, flushed in bulk at the end).

Tables are named by their role, an attribute of `ReadModelTables`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import Connection, and_, func, insert, select, update

from services.measurement.adapters.bulk import PendingInserts, bulk_insert
from services.measurement.adapters.event_store import HIGH_WATER
from services.measurement.adapters.tables import LIVE, ReadModelTables, projection_tracking

Row = dict[str, Any]

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "benchmarks_view": ("id",),
    "observations_view": ("id",),
    "benchmark_revisions": ("benchmark", "known_from"),
    "observation_values": ("observation_id", "known_from"),
    "country_selections": ("iso3",),
    "valid_date_high_water": ("position",),
    "value_cells": ("benchmark", "country", "sector"),
    "scope_decisions": ("position",),
}
# A row's key, to tell rows held back apart (a value or a tuple of values).
_KEY_OF = {role: itemgetter(*columns) for role, columns in PRIMARY_KEYS.items()}
LIVE_HIGH_WATER = LIVE.valid_date_high_water
_TRACK_ON_SQLITE = (
    f"INSERT INTO {projection_tracking.name} (projection, position) VALUES (?, ?)"
    " ON CONFLICT (projection) DO UPDATE SET position = excluded.position"
)
# Versioned tables: the column naming the thing versioned; at most one row per
# value of it has no `known_until` (the version known now).
VERSION_OF: dict[str, str] = {"benchmark_revisions": "benchmark", "observation_values": "observation_id"}


class ReadModelStore(Protocol):
    def insert(self, role: str, row: Row) -> None: ...

    def insert_once(self, role: str, row: Row) -> None:
        """Inserts `row` unless its key has a row already (which stays as it is)."""

    def get(self, role: str, key: tuple[Any, ...]) -> Row: ...

    def update(self, role: str, key: tuple[Any, ...], changes: Row) -> None: ...

    def close_version(self, role: str, versioned: Any, position: int) -> None:
        """Ends, at `position`, the version known now of `versioned`."""

    def raise_high_water(self, valid_date: date, position: int) -> None:
        """Records `valid_date` at `position` if it is later than any before."""

    def track(self, projection: str, position: int) -> None: ...

    def settle(self) -> None:
        """Writes whatever the store held back (at the end of a projection)."""


class SqlStore:
    """Writes into the database, in the caller's transaction. New rows are held
    back and written together (one COPY or one multi-row INSERT per table)
    before anything reads or changes the tables, and when the projection
    settles: a batch of events costs a few statements, not a few per event."""

    def __init__(self, connection: Connection, tables: ReadModelTables, into: PendingInserts | None = None) -> None:
        """`into`: where settled rows go, to be written with the rest of the
        transaction (a group commit's); without it, they are written at once."""
        self.connection = connection
        self.tables = tables
        self.into = into
        self._pending: dict[str, list[Row]] = {}
        self._pending_once: dict[str, dict[tuple[Any, ...], Row]] = {}
        self._high_water: list[tuple[date, int]] = []

    def _where_key(self, role: str, key: tuple[Any, ...]) -> Any:
        table = getattr(self.tables, role)
        return and_(*(table.c[column] == value for column, value in zip(PRIMARY_KEYS[role], key, strict=True)))

    def insert(self, role: str, row: Row) -> None:
        self._pending.setdefault(role, []).append(row)

    def insert_once(self, role: str, row: Row) -> None:
        self._pending_once.setdefault(role, {}).setdefault(_KEY_OF[role](row), row)

    def settle(self) -> None:
        pending = self.into or PendingInserts()
        if self._high_water:
            self._settle_high_water()
        for role, rows in self._pending.items():
            pending.add(getattr(self.tables, role), rows)
        self._pending = {}
        for role, keyed in self._pending_once.items():
            pending.add(getattr(self.tables, role), list(keyed.values()), skip_conflicts_on=PRIMARY_KEYS[role])
        self._pending_once = {}
        if self.into is None:
            pending.send(self.connection)

    def _written(self) -> None:
        """Everything held back is in the tables (before they are read or changed)."""
        self.settle()
        if self.into is not None:
            self.into.send(self.connection)

    def _settle_high_water(self) -> None:
        table = self.tables.valid_date_high_water
        # The live mark, if read with the log's tail under the lock (event_store.HIGH_WATER): no query here.
        read: tuple[date | None] | None = self.connection.info.get(HIGH_WATER) if table is LIVE_HIGH_WATER else None
        if read is None:
            highest = self.connection.execute(select(func.max(table.c.valid_date))).scalar()
        else:
            (highest,) = read
        for valid_date, position in self._high_water:
            if highest is None or valid_date > highest:
                highest = valid_date
                self._pending.setdefault("valid_date_high_water", []).append(
                    {"position": position, "valid_date": valid_date}
                )
        self._high_water = []
        if read is not None:
            self.connection.info[HIGH_WATER] = (highest,)

    def get(self, role: str, key: tuple[Any, ...]) -> Row:
        self._written()
        table = getattr(self.tables, role)
        return dict(self.connection.execute(select(table).where(self._where_key(role, key))).one()._mapping)

    def update(self, role: str, key: tuple[Any, ...], changes: Row) -> None:
        self._written()
        table = getattr(self.tables, role)
        self.connection.execute(update(table).where(self._where_key(role, key)).values(changes))

    def close_version(self, role: str, versioned: Any, position: int) -> None:
        self._written()
        table = getattr(self.tables, role)
        self.connection.execute(
            update(table)
            .where(table.c[VERSION_OF[role]] == versioned, table.c.known_until.is_(None))
            .values(known_until=position)
        )

    def raise_high_water(self, valid_date: date, position: int) -> None:
        self._high_water.append((valid_date, position))

    def track(self, projection: str, position: int) -> None:
        if self.into is not None:
            self.settle()
            if self.connection.dialect.name == "sqlite":
                # Written now, as text: SQLAlchemy has no cache key for SQLite's ON CONFLICT and would compile
                # the upsert anew for every group (~0.1 ms under the lock); it is in the same transaction.
                self.connection.exec_driver_sql(_TRACK_ON_SQLITE, (projection, position))
                return
            self.into.put(projection_tracking, {"projection": projection, "position": position}, ("projection",))
            return
        self._written()
        updated = self.connection.execute(
            update(projection_tracking).where(projection_tracking.c.projection == projection).values(position=position)
        )
        if updated.rowcount == 0:
            self.connection.execute(insert(projection_tracking).values(projection=projection, position=position))


class MemoryStore:
    """Read models held in dictionaries while a rebuild replays the log."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[Any, ...], Row]] = {role: {} for role in PRIMARY_KEYS}
        self.open_versions: dict[str, dict[Any, tuple[Any, ...]]] = {role: {} for role in VERSION_OF}
        self.tracked: dict[str, int] = {}
        self.high_water: date | None = None

    def insert(self, role: str, row: Row) -> None:
        key = tuple(row[column] for column in PRIMARY_KEYS[role])
        if key in self.rows[role]:
            raise ValueError(f"{role} already has a row {key}")
        self.rows[role][key] = row
        if role in VERSION_OF and row.get("known_until") is None:
            self.open_versions[role][row[VERSION_OF[role]]] = key

    def insert_once(self, role: str, row: Row) -> None:
        self.rows[role].setdefault(tuple(row[column] for column in PRIMARY_KEYS[role]), row)

    def get(self, role: str, key: tuple[Any, ...]) -> Row:
        return dict(self.rows[role][key])

    def update(self, role: str, key: tuple[Any, ...], changes: Row) -> None:
        self.rows[role][key].update(changes)

    def close_version(self, role: str, versioned: Any, position: int) -> None:
        key = self.open_versions[role].pop(versioned, None)
        if key is not None:
            self.rows[role][key]["known_until"] = position

    def raise_high_water(self, valid_date: date, position: int) -> None:
        if self.high_water is None or valid_date > self.high_water:
            self.high_water = valid_date
            self.insert("valid_date_high_water", {"position": position, "valid_date": valid_date})

    def track(self, projection: str, position: int) -> None:
        self.tracked[projection] = position

    def settle(self) -> None:
        """Nothing to do: `flush` writes everything at the end of a rebuild."""

    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def flush(
        self, connection: Connection, tables: ReadModelTables, chunk: int = 5000, roles: Sequence[str] | None = None
    ) -> Iterator[int]:
        """Writes every row (of `roles`, default all) into `tables`; yields the
        number written so far. On PostgreSQL rows go through COPY (see
        adapters/bulk.py)."""
        written = 0
        for role, rows in self.rows.items():
            if roles is not None and role not in roles:
                continue
            table = getattr(tables, role)
            batch: list[Row] = []
            for row in rows.values():
                batch.append(row)
                if len(batch) >= chunk:
                    bulk_insert(connection, table, batch)
                    written += len(batch)
                    batch = []
                    yield written
            if batch:
                bulk_insert(connection, table, batch)
                written += len(batch)
                yield written
