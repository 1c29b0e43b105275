"""An export as CSV (RFC 4180: UTF-8, CRLF line ends, a header line), in the
import's columns. Texts a spreadsheet would take for a formula are guarded
(services/common/spreadsheets.py), which the import undoes; numbers are
written as the shortest text that reads back as the same number. On
PostgreSQL the lines of most exports are made by the database itself
(queries/export_lines.py: the same bytes)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice

from services.common.spreadsheets import MAY_NEED_GUARD, spreadsheet_text
from services.measurement.application.export_files.columns import Cell, cells, header
from services.measurement.application.queries.export_lines import database_csv_lines
from services.measurement.application.queries.exports import ObservationExport

CHUNK_ROWS = 2000


def csv_field(value: Cell) -> str:
    if isinstance(value, str):
        return spreadsheet_text(value) if value[:1] in MAY_NEED_GUARD else value
    if value is None:
        return ""
    return repr(value)


def csv_chunks(export: ObservationExport) -> Iterator[bytes]:
    """The file, a few thousand rows at a time."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow(header(export))
    made = database_csv_lines(export)
    if made is not None:
        yield buffer.getvalue().encode("utf-8")
        for lines in made:
            yield "".join(lines).encode("utf-8")
        return
    rows = export.rows()
    while chunk := list(islice(rows, CHUNK_ROWS)):
        writer.writerows([csv_field(cell) for cell in cells(export, row)] for row in chunk)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")
