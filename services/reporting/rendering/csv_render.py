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
from collections.abc import Iterable, Sequence

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


class _Lines:
    """What a csv writer writes, a line (one row) per call."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line)


def _lines(rows: Iterable[Sequence[str]]) -> list[str]:
    """Each row as the csv writer writes it (RFC 4180, CRLF), without its line end."""
    out = _Lines()
    csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return [line[:-2] for line in out.lines]


def _benchmark_fields(pins: EditionPins, assumption: str, benchmark: Benchmark) -> tuple[list[Figure], list[Figure]]:
    """The fields of a row that are the edition's or the benchmark's, before and after the cell's own."""
    checkpoint = pins["checkpoint"]
    before: list[Figure] = [
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
    ]
    return before, [benchmark["combined"], benchmark["expected"], benchmark["status"]]


def _cell_fields(cell: Cell, texts: dict[str | None, str]) -> tuple[str, ...]:
    country, sector, day = cell["country"], cell["sector"], cell["valid_date"]
    # Countries, sectors and dates recur on thousands of cells: each guarded once.
    for text in (country, sector, day):
        if text not in texts:
            texts[text] = csv_field(text)
    return (texts[country], texts[sector], csv_field(cell["value"]), texts[day], csv_field(cell["known_at"]))


def render_csv(content: ReportContent) -> bytes:
    """A field is quoted on its own (QUOTE_MINIMAL looks at nothing else), so
    a row is its edition's and benchmark's fields, written once per
    benchmark, joined to each cell's own, written by the same writer: the
    bytes of writing every row whole."""
    pins = content["edition"]
    texts: dict[str | None, str] = {}
    parts = [_lines([HEADER])[0], "\r\n"]
    for assumption in content["assumptions"]:
        for benchmark in assumption["benchmarks"]:
            if not benchmark["cells"]:
                continue
            before, after = _benchmark_fields(pins, assumption["code"], benchmark)
            head, tail = _lines([[csv_field(field) for field in before], [csv_field(field) for field in after]])
            cells = _lines(_cell_fields(cell, texts) for cell in benchmark["cells"])
            parts.extend(f"{head},{line},{tail}\r\n" for line in cells)
    return "".join(parts).encode("utf-8")
