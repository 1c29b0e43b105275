"""Writing many rows at once: one multi-row INSERT, or on PostgreSQL, from
`COPY_FROM_ROWS` rows on, one COPY (several times quicker per row). Used by
the event store for a batch of events and by the read models for their rows,
inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, insert
from sqlalchemy.exc import IntegrityError

COPY_FROM_ROWS = 50  # below it, one multi-row INSERT is as quick


def bulk_insert(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql" or len(rows) < COPY_FROM_ROWS:
        connection.execute(insert(table), list(rows))
        return
    import psycopg  # only on PostgreSQL, whose driver it is

    columns = [column.name for column in table.columns]
    json_columns = {column.name for column in table.columns if isinstance(column.type, JSON)}
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([json.dumps(row.get(c)) if c in json_columns else row.get(c) for c in columns])
    except psycopg.errors.IntegrityError as error:
        # As SQLAlchemy would raise it for an INSERT, so callers handle one kind.
        raise IntegrityError(statement, None, error) from error
