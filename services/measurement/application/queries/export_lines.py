"""The CSV export's lines made by PostgreSQL itself: for a large export the
cost is in turning each row into Python objects, so PostgreSQL writes each
line whole (the same cells, guard and quoting as export_files/csv_file.py,
which the tests check on both stores) and the service only passes the text
on. Used when every exported value is the one the read models hold (no
observation changed after the export's position) and the export has no
disaggregation columns; otherwise, and on SQLite, the rows are formatted in
Python.

- a text: guarded as services/common/spreadsheets.py does (an apostrophe
  before a formula trigger, or before apostrophes followed by one), then
  quoted as Python's csv module quotes (when it holds a comma, a quote, CR
  or LF; quotes doubled);
- a number: PostgreSQL's shortest exact form (12.5, 14, 1e-05), which reads
  back as the same number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, String, case, cast, func, literal

from services.common.spreadsheets import APOSTROPHE, FORMULA_TRIGGERS
from services.measurement.adapters.tables import observation_values, observations_view
from services.measurement.application.queries.exports import (
    BATCH,
    ExportFilter,
    ExportPins,
    ObservationExport,
    rows_query,
)

CRLF = "\r\n"


# A text needs the guard when it starts with a formula trigger, after any
# apostrophes (services/common/spreadsheets.py); it needs quotes when it holds
# a comma, a quote, CR or LF (Python's csv module, QUOTE_MINIMAL).
NEEDS_GUARD = "^'*[" + "".join("\\" + trigger if trigger in "-" else trigger for trigger in FORMULA_TRIGGERS) + "]"
NEEDS_QUOTES = '[,"\r\n]'


def _text_field(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """A text as a CSV field ("" for none), guarded, quoted when it must be."""
    guarded = case((text.regexp_match(NEEDS_GUARD), func.concat(APOSTROPHE, text)), else_=text)
    return case(
        (text.is_(None), literal("")),
        (text.regexp_match(NEEDS_QUOTES), func.concat('"', func.replace(guarded, '"', '""'), '"')),
        else_=guarded,
    )


def csv_lines_query(pins: ExportPins, where: ExportFilter) -> Select[Any]:
    """One text per exported row, its CSV line with CRLF, in the export's
    order (for an export without disaggregated values)."""
    values, view = observation_values, observations_view
    state = view.c.state
    evidence = state.op("->")("evidence").op("->")(0)
    fields = [
        _text_field(view.c.benchmark),
        _text_field(view.c.country),
        _text_field(view.c.sector),
        _text_field(view.c.period),
        # PostgreSQL writes a number in its shortest exact form (12.5, 14, 1e-05).
        case((values.c.number.is_(None), _text_field(values.c.text)), else_=cast(values.c.number, String)),
        _text_field(state.op("->>")("comment")),
        _text_field(evidence.op("->>")("title")),
        _text_field(evidence.op("->>")("url")),
    ]
    line = func.concat(func.concat_ws(",", *fields), CRLF)
    return rows_query(pins, where, with_ids=False).with_only_columns(line.label("line"))


def database_csv_lines(export: ObservationExport) -> Iterator[list[str]] | None:
    """The export's CSV lines, a batch at a time, made by PostgreSQL; None
    where they are made in Python: on SQLite, when an observation changed after
    the export's position (its value then is not in the read models' current
    rows), or when the export has disaggregation columns."""
    if not export.database.is_postgresql or export.as_known or export.categories:
        return None
    return _batches(export)


def _batches(export: ObservationExport) -> Iterator[list[str]]:
    with export.database.snapshot() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
            csv_lines_query(export.pins, export.where)
        )
        for partition in result.scalars().partitions():
            yield list(partition)
