"""The renderings of a Programme Implementation contribution
(domain/contribution.py) for spreadsheets: CSV (one row per cell behind
each indicator's benchmarks) and XLSX (a sheet of contributions, one of
cells, one of the pins). Pure functions of the content, byte-reproducible:
the XLSX's creation date is the export's valid date, never the clock.

Nothing is ever a formula: a text that a spreadsheet would read as one is
guarded (an apostrophe in CSV, Excel's quote prefix in XLSX), and numbers
are written as numbers with a number format."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]  # XlsxWriter ships no type information

from services.common.spreadsheets import XLSX_OPTIONS, needs_text_guard
from services.reporting.rendering.csv_render import csv_field
from services.reporting.rendering.labels import is_number

Content = Mapping[str, Any]
Sheet = Any  # xlsxwriter.worksheet.Worksheet, untyped

CSV_HEADER = (
    "biennium",
    "export_as_of",
    "export_position",
    "export_checkpoint_root_hash",
    "framework",
    "template_version",
    "outcome",
    "indicator",
    "relation",
    "benchmark",
    "title",
    "assumption",
    "measure",
    "unit",
    "ascending",
    "baseline",
    "baseline_date",
    "target_in_force",
    "target_date",
    "combined",
    "status",
    "country",
    "sector",
    "value",
    "valid_date",
    "known_at",
)
CONTRIBUTION_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Outcome", 9),
    ("Indicator", 10),
    ("Relation", 10),
    ("Condition", 18),
    ("Benchmark", 22),
    ("Title", 48),
    ("Assumption", 11),
    ("Assumption text", 48),
    ("Measure", 12),
    ("Unit", 10),
    ("Direction", 16),
    ("Baseline", 11),
    ("Baseline date", 13),
    ("Target in force", 14),
    ("Target date", 13),
    ("Combined", 11),
    ("Status", 13),
    ("Countries", 22),
    ("Sectors", 22),
)
CELL_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Outcome", 9),
    ("Indicator", 10),
    ("Benchmark", 22),
    ("Country", 9),
    ("Sector", 14),
    ("Value", 14),
    ("Valid date", 13),
    ("Known at position", 11),
)
NUMBER_FORMATS = {"decimal": "#,##0.0###", "count": "#,##0", "percentage": '0.0#"%"', "position": "0"}
DATE_FORMAT = "yyyy-mm-dd"


def _rows(content: Content) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None]]:
    """(outcome, indicator, contribution or None) in the content's order."""
    for outcome in content["outcomes"]:
        for indicator in outcome["indicators"]:
            if not indicator["benchmarks"]:
                yield outcome, indicator, None
            for item in indicator["benchmarks"]:
                yield outcome, indicator, item


# -- CSV ------------------------------------------------------------------


def _benchmark_fields(item: Mapping[str, Any] | None) -> list[Any]:
    if item is None:
        return [None] * 12
    target = item["target_in_force"]
    return [
        item["code"],
        item["title"],
        item["assumption"]["code"],
        item["measure"],
        item["unit"],
        "true" if item["ascending"] else "false",
        item["baseline"]["value"],
        item["baseline"]["date"],
        None if target is None else target["value"],
        None if target is None else target["date"],
        item["combined"],
        item["status"],
    ]


def render_contribution_csv(content: Content) -> bytes:
    pins = content["export"]
    head = [
        content["biennium"],
        pins["as_of"],
        pins["position"],
        pins["checkpoint"]["root_hash"],
        pins["framework"],
        pins["template_version"],
    ]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    for outcome, indicator, item in _rows(content):
        start = [*head, outcome["outcome"], indicator["code"], indicator["relation"], *_benchmark_fields(item)]
        cells = [] if item is None else item["cells"]
        if not cells:
            writer.writerow([csv_field(field) for field in [*start, None, None, None, None, None]])
        for cell in cells:
            fields = [*start, cell["country"], cell["sector"], cell["value"], cell["valid_date"], cell["known_at"]]
            writer.writerow([csv_field(field) for field in fields])
    return buffer.getvalue().encode("utf-8")


# -- XLSX -----------------------------------------------------------------


class _Writer:
    def __init__(self, workbook: Any) -> None:
        self.header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
        self.text = workbook.add_format({"valign": "top"})
        self.guarded = workbook.add_format({"valign": "top", "quote_prefix": True})
        self.date = workbook.add_format({"num_format": DATE_FORMAT, "valign": "top"})
        self.numbers = {kind: workbook.add_format({"num_format": code}) for kind, code in NUMBER_FORMATS.items()}

    def headed(self, sheet: Sheet, columns: Sequence[tuple[str, int]]) -> None:
        for col, (name, width) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, name, self.header)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, 0, len(columns) - 1)

    def write(self, sheet: Sheet, row: int, col: int, value: Any, kind: str = "decimal") -> None:
        """A number in the format of its kind (a whole number of the decimal
        kind as a count), a text (guarded when it must be), or nothing."""
        if is_number(value):
            number_kind = "count" if kind == "decimal" and isinstance(value, int) else kind
            sheet.write_number(row, col, value, self.numbers[number_kind])
        elif isinstance(value, str):
            sheet.write_string(row, col, value, self.guarded if needs_text_guard(value) else self.text)

    def day(self, sheet: Sheet, row: int, col: int, value: str | None) -> None:
        if value is not None:
            sheet.write_datetime(row, col, datetime.combine(date.fromisoformat(value), datetime.min.time()), self.date)


def _figure_kind(item: Mapping[str, Any]) -> str:
    if item["combination"] == "count_meeting_threshold":
        return "decimal"
    return "percentage" if item["measure"] == "percentage" else "decimal"


def _contribution_row(
    writer: _Writer, sheet: Sheet, row: int, outcome: Mapping[str, Any], indicator: Mapping[str, Any], item: Any
) -> None:
    for col, value in enumerate((outcome["outcome"], indicator["code"], indicator["relation"], outcome["condition"])):
        writer.write(sheet, row, col, value)
    if item is None:
        writer.write(sheet, row, 4, "(no benchmark contributes)")
        return
    kind, target = _figure_kind(item), item["target_in_force"]
    counts = item["combination"] == "count_meeting_threshold"
    writer.write(sheet, row, 4, item["code"])
    writer.write(sheet, row, 5, item["title"])
    writer.write(sheet, row, 6, item["assumption"]["code"])
    writer.write(sheet, row, 7, item["assumption"]["text"])
    writer.write(sheet, row, 8, item["measure"])
    writer.write(sheet, row, 9, "countries" if counts else item["unit"])
    writer.write(sheet, row, 10, "higher is better" if item["ascending"] or counts else "lower is better")
    writer.write(sheet, row, 11, item["baseline"]["value"], kind)
    writer.day(sheet, row, 12, item["baseline"]["date"])
    writer.write(sheet, row, 13, None if target is None else target["value"], kind)
    writer.day(sheet, row, 14, None if target is None else target["date"])
    writer.write(sheet, row, 15, item["combined"], kind)
    writer.write(sheet, row, 16, item["status"].replace("_", " "))
    writer.write(sheet, row, 17, ", ".join(item["countries"]) or None)
    writer.write(sheet, row, 18, ", ".join(item["sectors"]) or None)


def _cells_sheet(workbook: Any, writer: _Writer, content: Content) -> None:
    sheet = workbook.add_worksheet("Cells")
    writer.headed(sheet, CELL_COLUMNS)
    row = 1
    for outcome, indicator, item in _rows(content):
        if item is None:
            continue
        kind = "percentage" if item["measure"] == "percentage" else "decimal"
        for cell in item["cells"]:
            writer.write(sheet, row, 0, outcome["outcome"])
            writer.write(sheet, row, 1, indicator["code"])
            writer.write(sheet, row, 2, item["code"])
            writer.write(sheet, row, 3, cell["country"])
            writer.write(sheet, row, 4, cell["sector"])
            writer.write(sheet, row, 5, cell["value"], kind)
            writer.day(sheet, row, 6, cell["valid_date"])
            writer.write(sheet, row, 7, cell["known_at"], "position")
            row += 1


def _pins_sheet(workbook: Any, writer: _Writer, content: Content) -> None:
    pins, programme = content["export"], content["programme"]
    sheet = workbook.add_worksheet("Export")
    writer.headed(sheet, (("Field", 26), ("Value", 90)))
    fields: tuple[tuple[str, Any], ...] = (
        ("Title", pins["title"]),
        ("Kind", pins["kind"]),
        ("Biennium", pins["biennium"]),
        ("As of (valid date)", pins["as_of"]),
        ("Known at (log position)", pins["position"]),
        ("Checkpoint tree size", pins["checkpoint"]["size"]),
        ("Checkpoint root hash", pins["checkpoint"]["root_hash"]),
        ("Checkpoint (signed note)", pins["checkpoint"]["note"]),
        ("Framework", pins["framework"]),
        ("Template version", pins["template_version"]),
        ("Generator version", pins["generator_version"]),
        ("Programme", programme["title"]),
        ("Benchmarks tagged with no indicator of the biennium", ", ".join(content["untagged"]) or None),
    )
    for row, (name, value) in enumerate(fields, start=1):
        writer.write(sheet, row, 0, name)
        writer.write(sheet, row, 1, value, "position")


def render_contribution_xlsx(content: Content) -> bytes:
    pins = content["export"]
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, **XLSX_OPTIONS})
    workbook.set_properties(
        {
            "title": pins["title"],
            "author": "Stocktake",
            "comments": (
                f"As of {pins['as_of']}, known at log position {pins['position']}; {pins['framework']}; "
                f"template {pins['template_version']}; generator {pins['generator_version']}."
            ),
            # The export's valid date, never the wall clock: the bytes depend on the pins alone.
            "created": datetime.combine(date.fromisoformat(pins["as_of"]), datetime.min.time()),
        }
    )
    writer = _Writer(workbook)
    sheet = workbook.add_worksheet("Contribution")
    writer.headed(sheet, CONTRIBUTION_COLUMNS)
    for row, (outcome, indicator, item) in enumerate(_rows(content), start=1):
        _contribution_row(writer, sheet, row, outcome, indicator, item)
    _cells_sheet(workbook, writer, content)
    _pins_sheet(workbook, writer, content)
    workbook.close()
    return output.getvalue()
