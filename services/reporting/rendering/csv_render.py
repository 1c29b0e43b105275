"""The CSV rendering: one row per cell (benchmark x country x sector), each
row carrying the edition's pins so that a row copied out of the file still
says what it was read at (the log position, and the root hash of the log's
checkpoint there: the signed note itself is in the other renderings).
RFC 4180: CRLF line ends, fields quoted when they must be, a header row. A
text that a spreadsheet would take for a formula is prefixed with an
apostrophe; numbers are written as numbers. The workplan's deliverables
and milestones are not cells: they are in the JSON, HTML and XLSX
renderings, not here."""

from __future__ import annotations

import csv
import io

from services.reporting.domain.content import Benchmark, Cell, EditionPins, Figure, ReportContent
from services.reporting.rendering.labels import spreadsheet_text

HEADER = (
    "edition_kind",
    "edition_as_of",
    "edition_position",
    "edition_checkpoint_root_hash",
    "framework",
    "template_version",
    "assumption",
    "benchmark",
    "measure",
    "unit",
    "country",
    "sector",
    "value",
    "valid_date",
    "known_at",
    "combined",
    "expected",
    "status",
)


def csv_field(value: Figure) -> str:
    """A value as a CSV field: empty for None, the shortest exact decimal for
    a number (repr: the same digits on every run), a guarded text otherwise."""
    if value is None:
        return ""
    if isinstance(value, str):
        return spreadsheet_text(value)
    return repr(value)


def _row(pins: EditionPins, assumption: str, benchmark: Benchmark, cell: Cell) -> list[str]:
    checkpoint = pins["checkpoint"]
    fields: tuple[Figure, ...] = (
        pins["kind"],
        pins["as_of"],
        pins["position"],
        None if checkpoint is None else checkpoint["root_hash"],
        pins["framework"],
        pins["template_version"],
        assumption,
        benchmark["code"],
        benchmark["measure"],
        benchmark["unit"],
        cell["country"],
        cell["sector"],
        cell["value"],
        cell["valid_date"],
        cell["known_at"],
        benchmark["combined"],
        benchmark["expected"],
        benchmark["status"],
    )
    return [csv_field(field) for field in fields]


def render_csv(content: ReportContent) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    pins = content["edition"]
    for assumption in content["assumptions"]:
        for benchmark in assumption["benchmarks"]:
            writer.writerows(_row(pins, assumption["code"], benchmark, cell) for cell in benchmark["cells"])
    return buffer.getvalue().encode("utf-8")
