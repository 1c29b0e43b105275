"""Many rows at once on SQLite (adapters/bulk.py): stored exactly as
SQLAlchemy's executemany of the same INSERT stores them, value for value and
type for type, in every table of the service that takes rows in bulk."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.common.database import Database
from services.measurement.adapters.bulk import (
    COPY_FROM_ROWS,
    PendingInserts,
    bulk_insert,
    insert_skipping_conflicts,
    json_text,
)
from services.measurement.adapters.tables import metadata

TEXTS = ["", "plain", "é ü 😀", 'quote " and \\ backslash', "\x00\x1f\u2028", "'=1+1"]


def _moment(kind: Any, rng: random.Random) -> datetime:
    moment = datetime(2017, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(10**15))
    return moment if kind.timezone else moment.replace(tzinfo=None)


def _text(kind: Any, rng: random.Random) -> str:
    length = getattr(kind, "length", None) or 40
    return rng.choice(TEXTS)[:length] + str(rng.randrange(10**6))[: max(0, length - 8)]


MAKERS: list[tuple[type, Callable[[Any, random.Random], Any]]] = [
    (Uuid, lambda _, rng: UUID(int=rng.getrandbits(128))),
    (Boolean, lambda _, rng: rng.random() < 0.5),
    (Integer, lambda _, rng: rng.randrange(-(2**40), 2**40)),
    (Float, lambda _, rng: rng.choice([0.0, -0.0, 1e-7, 12.5, 1 / 3, 1e300, rng.uniform(-100, 100)])),
    (DateTime, _moment),
    (Date, lambda _, rng: date(2017, 1, 1) + timedelta(days=rng.randrange(2000))),
    (JSON, lambda _, rng: {"value": rng.uniform(0, 100), "text": rng.choice(TEXTS), "list": [1, None, True, "é"]}),
    (LargeBinary, lambda _, rng: rng.randbytes(rng.randrange(64))),
    (String, _text),
]


def _value(column: Any, rng: random.Random) -> Any:
    if column.nullable and not column.primary_key and rng.random() < 0.2:
        return None
    for kind, make in MAKERS:
        if isinstance(column.type, kind):
            return make(column.type, rng)
    raise AssertionError(f"no values for {column.type!r}")


def _rows(table: Table, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        row = {column.name: _value(column, rng) for column in table.columns}
        for column in table.primary_key.columns:  # distinct keys
            if isinstance(column.type, Integer):
                row[column.name] = index
            elif isinstance(column.type, String):
                row[column.name] = f"{index:03d}"
        rows.append(row)
    return rows


def _stored(database: Database, table: Table) -> list[tuple[Any, ...]]:
    typed = ", ".join(f'typeof("{c.name}"), "{c.name}"' for c in table.columns)
    with database.snapshot() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(f"SELECT {typed} FROM {table.name} ORDER BY rowid")]


def _stores(tmp_path: Path) -> tuple[Database, Database]:
    plain = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(plain)  # the tables without the store's triggers
    databases = (Database(f"sqlite:///{tmp_path / 'bulk.db'}"), Database(f"sqlite:///{tmp_path / 'sqlalchemy.db'}"))
    for database in databases:
        plain.create_all(database.engine)
    return databases


@pytest.mark.parametrize("table", metadata.sorted_tables, ids=lambda table: table.name)
def test_many_rows_are_stored_as_sqlalchemy_stores_them(table: Table, tmp_path: Path) -> None:
    _assert_stored_as_sqlalchemy_stores(tmp_path, table, _rows(table, 3 * COPY_FROM_ROWS, seed=len(table.name)))


def _assert_stored_as_sqlalchemy_stores(tmp_path: Path, table: Table, rows: list[dict[str, Any]]) -> None:
    """`rows` stored by bulk_insert in one store are stored as SQLAlchemy's executemany stores them in another."""
    bulk, reference = _stores(tmp_path)
    with bulk.transaction() as connection:
        bulk_insert(connection, table, rows)
    with reference.transaction() as connection:
        connection.execute(insert(table), rows)
    assert _stored(bulk, table) == _stored(reference, table)
    for database in (bulk, reference):
        database.dispose()


def test_many_rows_skipping_conflicts_are_stored_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    table = metadata.tables["value_cells"]
    key = tuple(column.name for column in table.primary_key.columns)
    bulk, reference = _stores(tmp_path)
    first = _rows(table, 2 * COPY_FROM_ROWS, seed=1)
    again = first[::3] + _rows(table, 2 * COPY_FROM_ROWS, seed=2)  # some keys taken already
    for rows in (first, again):
        with bulk.transaction() as connection:
            insert_skipping_conflicts(connection, table, rows, key)
        with reference.transaction() as connection:
            connection.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=list(key)), rows)
    assert _stored(bulk, table) == _stored(reference, table)
    for database in (bulk, reference):
        database.dispose()


def test_rows_missing_a_column_are_refused_as_sqlalchemy_refuses_them(tmp_path: Path) -> None:
    table = metadata.tables["stored_events"]
    bulk, _ = _stores(tmp_path)
    rows = _rows(table, COPY_FROM_ROWS, seed=3)
    del rows[-1]["topic"]
    with pytest.raises(Exception, match="topic") as refused, bulk.transaction() as connection:
        bulk_insert(connection, table, rows)
    with pytest.raises(type(refused.value)), bulk.transaction() as connection:
        connection.execute(insert(table), rows)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.tuples(inner) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_json_text_is_json_dumps(value: Any) -> None:
    assert json_text(value) == json.dumps(value)


@pytest.mark.parametrize("value", [{1: "an integer key", None: 2.5}, {(1, 2): "a tuple key"}, {"x": object()}])
def test_json_text_refuses_what_json_dumps_refuses_alike(value: Any) -> None:
    try:
        expected = json.dumps(value)
    except Exception as error:
        with pytest.raises(type(error)):
            json_text(value)
        return
    assert json_text(value) == expected


def test_json_text_refuses_a_cycle_as_json_dumps_does() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular"):
        json_text(cycle)


def test_dates_and_times_shared_by_rows_are_stored_as_sqlalchemy_stores_them(tmp_path: Path) -> None:
    """Rows sharing one date or time object (a group commit's recorded time, a period's dates) and rows
    with equal times of other time zones, which are other texts: each stored as SQLAlchemy stores it."""
    table = metadata.tables["observations_view"]
    rows = _rows(table, 2 * COPY_FROM_ROWS, seed=4)
    recorded_at, period_end = datetime(2026, 12, 4, 21, 0, 0, 123456, tzinfo=UTC), date(2019, 6, 30)
    elsewhere = recorded_at.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert elsewhere == recorded_at
    for index, row in enumerate(rows):
        row["recorded_at"] = recorded_at
        row["updated_at"] = elsewhere if index % 3 == 0 else recorded_at
        row["period_end"] = period_end if index % 2 else date(2019, 6, 30)
    rows[7]["recorded_at"] = recorded_at.replace(tzinfo=None)
    _assert_stored_as_sqlalchemy_stores(tmp_path, table, rows)


def _event_and_node_rows(count: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    moment = datetime(2026, 12, 4, 21, 0, 0, 123456, tzinfo=UTC)
    return {
        "stored_events": [
            {
                "position": 1 + index,
                "originator_id": UUID(int=rng.getrandbits(128)),
                "originator_version": rng.randrange(1, 1000),
                "topic": rng.choice(TEXTS).replace("\x00", "") + "topic",
                "state": rng.randbytes(rng.randrange(200)),
                "recorded_at": moment + timedelta(microseconds=rng.randrange(10**9)),
            }
            for index in range(count)
        ],
        "merkle_nodes": [
            {"level": rng.randrange(3), "index": index, "hash": rng.randbytes(32)} for index in range(count)
        ],
    }


# Where the rows given as tuples go: other keys (and streams), the same other values.
_ELSEWHERE = {"position": 10_000, "index": 10_000}


@pytest.mark.parametrize("count", [3, 3 * COPY_FROM_ROWS], ids=["few", "many"])
@pytest.mark.parametrize("written_by", ["bulk_insert", "PendingInserts"])
def test_tuple_rows_are_stored_as_their_dicts(database_url: str, count: int, written_by: str) -> None:
    """A row given as the tuple of its table's columns, in their order (as the event store gives a group's
    events and Merkle nodes), is stored as the same row given as a dict: on either store, COPYed or
    inserted (PostgreSQL: a few rows in a pipeline, many in a COPY), written at once or held back."""
    database = Database(database_url)
    as_dicts = _event_and_node_rows(count, seed=count)
    as_tuples = {
        name: [
            {
                **row,
                **{column: row[column] + offset for column, offset in _ELSEWHERE.items() if column in row},
                **({"originator_id": UUID(int=row["originator_id"].int ^ 1)} if "originator_id" in row else {}),
            }
            for row in rows
        ]
        for name, rows in as_dicts.items()
    }
    try:
        with database.transaction() as connection:
            pending = PendingInserts()
            for name in as_dicts:
                table = metadata.tables[name]
                tuples = [tuple(row[column.name] for column in table.columns) for row in as_tuples[name]]
                if written_by == "bulk_insert":
                    bulk_insert(connection, table, as_dicts[name])
                    bulk_insert(connection, table, tuples)
                else:
                    pending.add(table, as_dicts[name])
                    pending.add(table, tuples)
            pending.send(connection)
        with database.snapshot() as connection:
            for name in as_dicts:
                table = metadata.tables[name]
                key = table.c.position if name == "stored_events" else table.c.index
                stored = [dict(row._mapping) for row in connection.execute(select(table).order_by(key))]
                from_dicts, from_tuples = stored[:count], stored[count:]
                assert [row[key.name] for row in from_tuples] == [row[key.name] for row in as_tuples[name]]
                for row in from_dicts + from_tuples:
                    row.pop(key.name)
                    row.pop("originator_id", None)
                assert from_tuples == from_dicts
                assert len(from_dicts) == count
    finally:
        database.dispose()
