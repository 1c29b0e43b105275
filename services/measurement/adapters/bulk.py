"""Writing many rows at once: one multi-row INSERT, or on PostgreSQL, from
`COPY_FROM_ROWS` rows on, one COPY (several times quicker per row). Used by
the event store for a batch of events and by the read models for their rows,
inside the caller's transaction.

The COPY is binary when every column's type has a binary form here (the
tables of this service): neither side then formats or parses text (an event's
state is not written out in hex, a time not as a string), which costs a
batch's write, under the log's lock, about a third of the text form's time.

On SQLite, whatever the number of rows, the INSERT is compiled once per
table and set of columns and each row's values are converted by the same
bind processors SQLAlchemy's executemany uses (a UUID to its hex text, a time
to its text, JSON to its text), but as a tuple, without SQLAlchemy's
per-row parameter dictionaries, which took more time than SQLite's inserts:
the same statement and the same stored values.

A row is a dict of its columns' values, or a tuple of the values of all the
table's columns in their order (`table.columns`): a writer making many rows
of one table (a group's events and Merkle nodes) makes them without a dict
each. The rows of one call are all of one kind."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from json import JSONEncoder
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Dialect, Table, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

COPY_FROM_ROWS = 50  # below it, one multi-row INSERT is as quick

Row = dict[str, Any] | tuple[Any, ...]

# PostgreSQL types (as SQLAlchemy writes them) -> the type whose binary form psycopg sends. A JSON
# value goes as its text, which is json's binary form; a VARCHAR's binary form is a text's.
_BINARY_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "BOOLEAN": "bool",
    "FLOAT": "float8",
    "DOUBLE PRECISION": "float8",
    "TEXT": "text",
    "VARCHAR": "text",
    "JSON": "text",
    "UUID": "uuid",
    "BYTEA": "bytea",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP WITHOUT TIME ZONE": "timestamp",
}


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    if not rows:
        return
    if connection.dialect.name == "sqlite":  # at any size: a group commit's few rows too (~25 us a statement less)
        _sqlite_insert_many(connection, table, rows, None)
        return
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        connection.execute(insert(table), _dicts(table, rows))
        return
    import psycopg  # only on PostgreSQL, whose driver it is

    columns = [column.name for column in table.columns]
    json_at = [index for index, column in enumerate(table.columns) if isinstance(column.type, JSON)]
    binary = _binary_types(connection, table)
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            if binary:
                copy.set_types(binary)
            for values in _column_values(rows, columns, table):
                if json_at:
                    values = list(values)
                    for index in json_at:
                        values[index] = _json_of(values[index])
                copy.write_row(values)
    except psycopg.errors.IntegrityError as error:
        # As SQLAlchemy would raise it for an INSERT, so callers handle one kind.
        raise IntegrityError(statement, None, error) from error


# json.dumps's encoder (its default settings), made once rather than on every call, and without its check
# for cycles (the rows' values are trees): the same text.
_json_chunks = (
    c_make_encoder(None, JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True)
    if c_make_encoder is not None
    else None
)


class EncodedJson(dict[str, Any]):
    """A JSON object that carries its text (`json_text`'s), made before it is written: where rows are
    COPYed or pipelined into a JSON column, that text is sent as it is; anywhere else it is the dict it
    is (encoded again, to the same text). So a read model's row can be made, and its JSON written out,
    in a saving request's own thread, not by the writer under the log's lock."""

    __slots__ = ("text",)

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__(value)
        self.text = json_text(value)

    def _frozen(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("an EncodedJson carries its text: make a new one rather than change it")

    # Changed in place, its text would no longer be its value's.
    __setitem__ = __delitem__ = __ior__ = update = pop = popitem = clear = setdefault = _frozen


def _json_of(value: Any) -> str:
    """A JSON column's text: an `EncodedJson`'s own, or `json_text`'s."""
    return value.text if type(value) is EncodedJson else json_text(value)


def _as_is(text: str) -> str:
    return text


def json_text(value: Any) -> str:
    """`json.dumps(value)`, in less time."""
    if _json_chunks is None:
        return json.dumps(value)
    try:
        return "".join(_json_chunks(value, 0))
    except RecursionError:  # a cycle: json.dumps says so as it does
        return json.dumps(value)


def _binary_types(connection: Connection, table: Table) -> list[str] | None:
    """The types to send the table's columns as in a binary COPY, or None if one has no binary form here."""
    types = []
    for column in table.columns:
        written = column.type.compile(dialect=connection.dialect).split("(")[0].strip().upper()
        if written not in _BINARY_TYPES:
            return None
        types.append(_BINARY_TYPES[written])
    return types


def _column_values(rows: Sequence[Row], columns: list[str], table: Table) -> Iterator[Sequence[Any]]:
    """Each row's values in the order of `columns` (None for a column a row lacks): taken by one
    itemgetter (C code, not a lookup per column in Python) when the row has them all, as rows mostly do;
    a tuple row (all of `table`'s columns) is taken as it is when `columns` are the table's."""
    if rows and isinstance(rows[0], tuple):
        if columns == list(table.columns.keys()):
            yield from rows  # type: ignore[misc]
            return
        rows = _dicts(table, rows)
    take = itemgetter(*columns)
    for row in rows:
        assert isinstance(row, dict)
        try:
            taken = take(row)
        except KeyError:
            yield [row.get(column) for column in columns]
            continue
        yield taken if len(columns) > 1 else (taken,)


def _dicts(table: Table, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The rows as dicts of their columns' values (a tuple row: of all `table`'s columns, in order)."""
    if not rows or not isinstance(rows[0], tuple):
        return list(rows)  # type: ignore[arg-type]
    names = list(table.columns.keys())
    return [dict(zip(names, row, strict=True)) for row in rows]


class PendingInserts:
    """Rows held back to be written together just before the transaction
    commits (a group commit's events, Merkle nodes, read-model rows and
    idempotency records). On PostgreSQL, batches below `COPY_FROM_ROWS` rows
    go in one pipeline: every INSERT sent at once and their answers read at
    once, one round trip for them all (larger ones are COPYed); elsewhere each
    batch is one statement, as `bulk_insert` writes it. A batch whose rows
    are "skip_conflicts_on" a key is an INSERT ... ON CONFLICT DO NOTHING."""

    def __init__(self) -> None:
        self._batches: list[tuple[Table, list[Row], tuple[str, ...] | None]] = []
        self._upserts: list[tuple[Table, dict[str, Any], tuple[str, ...]]] = []

    def add(self, table: Table, rows: Sequence[Row], skip_conflicts_on: tuple[str, ...] | None = None) -> None:
        if rows:
            self._batches.append((table, list(rows), skip_conflicts_on))

    def put(self, table: Table, row: dict[str, Any], key: tuple[str, ...]) -> None:
        """The row, or where one has its `key`, the row's other columns written over that one's
        (sent after the inserts)."""
        self._upserts.append((table, row, key))

    def send(self, connection: Connection) -> None:
        """Writes what is held, in the order it was added, and holds nothing more."""
        batches, self._batches = self._batches, []
        upserts, self._upserts = self._upserts, []
        small = [batch for batch in batches if len(batch[1]) < COPY_FROM_ROWS]
        if connection.dialect.name == "postgresql" and len(small) == len(batches):
            pipelined_inserts(connection, batches, upserts)
            return
        for table, rows, skip_conflicts_on in batches:
            if skip_conflicts_on is None:
                bulk_insert(connection, table, rows)
            else:
                insert_skipping_conflicts(connection, table, rows, skip_conflicts_on)
        for table, row, key in upserts:
            dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
            statement = dialect_insert(table).values(row)
            others = {name: statement.excluded[name] for name in row if name not in key}
            connection.execute(statement.on_conflict_do_update(index_elements=list(key), set_=others))


def insert_skipping_conflicts(connection: Connection, table: Table, rows: Sequence[Row], key: tuple[str, ...]) -> None:
    """One INSERT ... ON CONFLICT (key) DO NOTHING (both dialects have it), as an executemany of
    one cached statement (SQLAlchemy sends it as one multi-row INSERT where the driver allows). On
    SQLite at any size: SQLAlchemy has no cache key for SQLite's ON CONFLICT and would compile it anew
    on every execution (~0.1 ms, under the log's lock for a group commit's rows)."""
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        _sqlite_insert_many(connection, table, rows, key)
        return
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(dialect_insert(table).on_conflict_do_nothing(index_elements=list(key)), _dicts(table, rows))


Converters = tuple[Callable[[Any], Any] | None, ...]


def _sqlite_insert_many(
    connection: Connection, table: Table, rows: Sequence[Row], skip_conflicts_on: tuple[str, ...] | None
) -> None:
    """SQLite: the rows inserted as SQLAlchemy's executemany of `insert(table)` (ON CONFLICT (key) DO
    NOTHING with `skip_conflicts_on`) inserts them, when each has the first row's columns."""
    if isinstance(rows[0], tuple):
        _sqlite_insert_tuples(connection, table, rows, skip_conflicts_on)
        return
    columns = frozenset(rows[0])
    prepared = _sqlite_statement(connection.dialect, table, columns, skip_conflicts_on)
    if prepared is None or any(len(row) != len(columns) for row in rows):
        connection.execute(_insert_statement(table, skip_conflicts_on), _dicts(table, rows))  # SQLAlchemy's way
        return
    sql, names, converters, repeating = prepared
    take = itemgetter(*names)
    try:
        taken = [take(row) for row in rows]
    except KeyError:  # a row of other columns: SQLAlchemy says what is missing
        connection.execute(_insert_statement(table, skip_conflicts_on), _dicts(table, rows))
        return
    if len(names) == 1:
        taken = [(value,) for value in taken]
    _sqlite_execute(connection, sql, taken, converters, repeating)


def _sqlite_insert_tuples(
    connection: Connection, table: Table, rows: Sequence[Row], skip_conflicts_on: tuple[str, ...] | None
) -> None:
    """`_sqlite_insert_many` of tuple rows: taken as they are when the INSERT's parameters are the table's
    columns in their order (as SQLAlchemy compiles an INSERT of them all)."""
    names = tuple(table.columns.keys())
    prepared = _sqlite_statement(connection.dialect, table, frozenset(names), skip_conflicts_on)
    if prepared is None or prepared[1] != names or any(len(row) != len(names) for row in rows):
        connection.execute(_insert_statement(table, skip_conflicts_on), _dicts(table, rows))  # SQLAlchemy's way
        return
    sql, _, converters, repeating = prepared
    _sqlite_execute(connection, sql, rows, converters, repeating)  # type: ignore[arg-type]


def _sqlite_execute(
    connection: Connection,
    sql: str,
    taken: Sequence[tuple[Any, ...]],
    converters: Converters,
    repeating: frozenset[int],
) -> None:
    """Sends the rows' values, each converted by its bind processor, to the INSERT compiled as `sql`."""
    converting = [
        (index, _by_identity(convert) if index in repeating else convert)
        for index, convert in enumerate(converters)
        if convert is not None
    ]
    if not converting:
        connection.exec_driver_sql(sql, list(taken))
        return
    parameters: list[tuple[Any, ...]] = []
    for row in taken:
        values = list(row)
        for index, convert in converting:
            values[index] = convert(values[index])
        parameters.append(tuple(values))
    connection.exec_driver_sql(sql, parameters)


def _by_identity(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, called once per object of one insert's rows: a date or time converted (SQLAlchemy's
    bind processor formats it in Python, 0.7-1.5 us) is mostly one shared by many rows (every row of a
    group commit has its transaction's recorded time, rows of a period share its dates). By identity,
    not equality: equal times of other time zones are other texts. The rows hold the objects for the
    whole call, so no id is reused meanwhile."""
    converted: dict[int, Any] = {}

    def once(value: Any) -> Any:
        try:
            return converted[id(value)]
        except KeyError:
            result = converted[id(value)] = convert(value)
            return result

    return once


@lru_cache(maxsize=64)
def _sqlite_statement(
    dialect: Dialect, table: Table, columns: frozenset[str], skip_conflicts_on: tuple[str, ...] | None
) -> tuple[str, tuple[str, ...], Converters, frozenset[int]] | None:
    """The INSERT SQLAlchemy compiles for these columns, its parameters' names in order, each one's
    bind processor, and where those of dates and times are (`_by_identity`); None if it would add
    parameters of its own (a column default)."""
    compiled = _insert_statement(table, skip_conflicts_on).compile(dialect=dialect, column_keys=sorted(columns))
    names = tuple(compiled.positiontup or ())
    if set(names) != columns or len(names) != len(columns) or compiled.insert_prefetch:
        return None
    converters = tuple(
        _json_converter(convert) if isinstance(table.c[name].type, JSON) and convert is not None else convert
        for name, convert in (
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names
        )
    )
    repeating = frozenset(index for index, name in enumerate(names) if isinstance(table.c[name].type, Date | DateTime))
    return str(compiled), names, converters, repeating


def _json_converter(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's bind processor (json.dumps's text) that takes an `EncodedJson`'s own text as it is."""

    def converted(value: Any) -> Any:
        return value.text if type(value) is EncodedJson else convert(value)

    return converted


def _insert_statement(table: Table, skip_conflicts_on: tuple[str, ...] | None) -> Any:
    if skip_conflicts_on is None:
        return insert(table)
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(skip_conflicts_on))


def pipelined_inserts(
    connection: Connection,
    batches: Sequence[tuple[Table, Sequence[Row], tuple[str, ...] | None]],
    upserts: Sequence[tuple[Table, dict[str, Any], tuple[str, ...]]] = (),
) -> None:
    """PostgreSQL: the INSERTs of every batch sent at once (psycopg's pipeline mode), their answers read
    at once: one round trip, in the caller's transaction. Each batch's columns are its first row's
    (as SQLAlchemy's executemany takes them); JSON values are sent as JSON."""
    import psycopg  # only on PostgreSQL, whose driver it is
    from psycopg.types.json import Json

    driver = connection.connection.driver_connection
    statement = ""
    try:
        with driver.pipeline(), driver.cursor() as cursor:  # type: ignore[union-attr]
            for table, rows, skip_conflicts_on in batches:
                if not rows:
                    continue
                names = list(table.columns.keys()) if isinstance(rows[0], tuple) else list(rows[0])
                json_at = [index for index, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
                quoted = ", ".join(f'"{name}"' for name in names)
                statement = f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join(['%s'] * len(names))})"
                if skip_conflicts_on is not None:
                    statement += f" ON CONFLICT ({', '.join(skip_conflicts_on)}) DO NOTHING"
                values = [list(row_values) for row_values in _column_values(rows, names, table)]
                for row_values in values:
                    for index in json_at:
                        value = row_values[index]
                        row_values[index] = (
                            Json(value.text, dumps=_as_is) if type(value) is EncodedJson else Json(value)
                        )
                cursor.executemany(statement, values)
            for table, row, key in upserts:
                names = list(row)
                quoted = ", ".join(f'"{name}"' for name in names)
                others = ", ".join(f'"{name}" = excluded."{name}"' for name in names if name not in key)
                statement = (
                    f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join(['%s'] * len(names))})"
                    f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {others}"
                )
                cursor.execute(
                    statement,
                    [Json(row[name]) if isinstance(table.c[name].type, JSON) else row[name] for name in names],
                )
    except psycopg.errors.IntegrityError as error:
        # As SQLAlchemy would raise it, so callers handle one kind.
        raise IntegrityError(statement, None, error) from error
    except psycopg.Error as error:
        raise DBAPIError(statement, None, error) from error
