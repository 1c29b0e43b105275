"""Writing many rows at once: one multi-row INSERT, or on PostgreSQL, from
`COPY_FROM_ROWS` rows on, one COPY (several times quicker per row). Used by
the event store for a batch of events and by the read models for their rows,
inside the caller's transaction.

The COPY is binary when every column's type has a binary form here (the
tables of this service): neither side then formats or parses text (an event's
state is not written out in hex, a time not as a string), which costs a
batch's write, under the log's lock, about a third of the text form's time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert
from sqlalchemy.exc import IntegrityError

COPY_FROM_ROWS = 50  # below it, one multi-row INSERT is as quick

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


def bulk_insert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        connection.execute(insert(table), list(rows))
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
            for values in _column_values(rows, columns):
                for index in json_at:
                    values[index] = json.dumps(values[index])
                copy.write_row(values)
    except psycopg.errors.IntegrityError as error:
        # As SQLAlchemy would raise it for an INSERT, so callers handle one kind.
        raise IntegrityError(statement, None, error) from error


def _binary_types(connection: Connection, table: Table) -> list[str] | None:
    """The types to send the table's columns as in a binary COPY, or None if one has no binary form here."""
    types = []
    for column in table.columns:
        written = column.type.compile(dialect=connection.dialect).split("(")[0].strip().upper()
        if written not in _BINARY_TYPES:
            return None
        types.append(_BINARY_TYPES[written])
    return types


def _column_values(rows: Sequence[dict[str, Any]], columns: list[str]) -> Iterator[list[Any]]:
    """Each row's values in the order of `columns` (None for a column a row lacks): taken by one
    itemgetter (C code, not a lookup per column in Python) when the row has them all, as rows mostly do."""
    take = itemgetter(*columns)
    for row in rows:
        try:
            taken = take(row)
        except KeyError:
            yield [row.get(column) for column in columns]
            continue
        yield list(taken) if len(columns) > 1 else [taken]
