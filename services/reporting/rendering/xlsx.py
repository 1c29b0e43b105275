"""The XLSX rendering (XlsxWriter, in memory): a summary sheet with one row
per benchmark, a sheet per critical assumption with one row per cell, the
restatements, the workplan's deliverables and milestones (editions of
generator stocktake-reporting/4 on), and the edition's pins.

Byte-reproducible: XlsxWriter stamps every zip entry with 1980-01-01 when it
writes in memory, and the only wall-clock time it would otherwise write (the
document's `created` property, which it takes from `datetime.now()` unless
given) is set to the edition's valid date. Formats are added in one fixed
order, so styles.xml is the same every time.

Nothing is ever a formula: every text goes through `write_string` (with
XlsxWriter's string conversions turned off besides), and a text starting
with a formula trigger gets Excel's quote prefix, the stored form of a typed
leading apostrophe: the cell shows the text as it is and stays text when
someone edits it or saves the sheet as CSV."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]  # XlsxWriter ships no type information
from xlsxwriter.utility import xl_rowcol_to_cell_fast  # type: ignore[import-untyped]
from xlsxwriter.worksheet import Worksheet  # type: ignore[import-untyped]

from services.common.spreadsheets import XLSX_OPTIONS
from services.reporting.domain.content import Assumption, Benchmark, Figure, ReportContent, Restatement, Workplan
from services.reporting.rendering.labels import (
    counts_countries,
    direction_text,
    figure_unit,
    is_number,
    needs_text_guard,
    status_label,
    value_unit,
)

Sheet = Any  # xlsxwriter.worksheet.Worksheet, untyped

# Number formats by what a figure is. A percentage is stored 0-100 (as the
# content states it), so its % sign is a literal, not Excel's x100 format;
# progress is a fraction, so it gets Excel's own percentage format.
NUMBER_FORMATS = {
    "count": "#,##0",
    "decimal": "#,##0.0###",
    "percentage": '0.0#"%"',
    "ratio": "0.0%",
    "position": "0",
}
DATE_FORMAT = "yyyy-mm-dd"
RESERVED_SHEETS = ("Summary", "Restatements", "Deliverables", "Milestones", "Edition")

SUMMARY_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Assumption", 11),
    ("Benchmark", 22),
    ("Title", 48),
    ("Measure", 12),
    ("Unit", 10),
    ("Direction", 16),
    ("Baseline", 11),
    ("Baseline date", 13),
    ("Target in force", 15),
    ("Target date", 13),
    ("Combined", 11),
    ("Expected", 11),
    ("Progress", 10),
    ("Status", 13),
    ("Colour", 8),
    ("Countries reporting", 11),
    ("Countries selected", 11),
    ("Freshest", 13),
    ("Change since previous", 12),
    ("Trend", 11),
    ("Read at position", 11),
)
# A row per cell, and only what is the cell's own: its benchmark's title,
# figures and status are on the Summary sheet, once, and the value's unit is
# in its number format (the cell stays a number).
CELL_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Benchmark", 22),
    ("Country", 9),
    ("Sector", 14),
    ("Value", 18),
    ("Valid date", 13),
    ("Known at position", 11),
)
RESTATEMENT_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Benchmark", 22),
    ("Country", 9),
    ("Sector", 14),
    ("As of", 13),
    ("Reason", 16),
    ("Value before", 14),
    ("Valid date before", 13),
    ("Known at before", 11),
    ("Value after", 14),
    ("Valid date after", 13),
    ("Known at after", 11),
)
DELIVERABLE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Deliverable", 11),
    ("Area", 8),
    ("Title", 60),
    ("Planned start", 13),
    ("Planned end", 13),
    ("Status", 12),
    ("Started on", 13),
    ("Delivered on", 13),
    ("Evidence", 40),
    ("Dropped on", 13),
    ("Reason", 40),
    ("Late", 7),
    ("Late start", 7),
)
MILESTONE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("Milestone", 10),
    ("Paragraph", 10),
    ("Text", 60),
    ("Due", 13),
    ("Status", 12),
    ("Met on", 13),
    ("Missed on", 13),
    ("Note", 40),
    ("Late", 7),
)


# The XlsxWriter versions whose cell XML `_Sheet` writes as they do (tests
# compare both writers' bytes on a full edition); with another, XlsxWriter's own writer.
FAST_CELLS_VERSIONS = frozenset({"3.3.1"})


class _Sheet(Worksheet):  # type: ignore[misc]  # XlsxWriter's classes are untyped
    """A worksheet that writes a formatted number or shared-string cell's
    XML itself, as XlsxWriter writes it (`<c r=".." s=".."><v>..</v></c>`,
    with `t="s"` for a string), and each date's serial number once: a full
    edition has some 37,000 cells, and XlsxWriter's general writer escapes
    each attribute through a regular expression (an exception for a number).
    Any other cell is XlsxWriter's own to write."""

    def __init__(self) -> None:
        super().__init__()
        self._serials: dict[datetime, float] = {}

    def _convert_date_time(self, dt_obj: datetime) -> float:
        found = self._serials.get(dt_obj)
        if found is None:
            found = self._serials[dt_obj] = super()._convert_date_time(dt_obj)
        return found

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        kind, cell_format = cell.__class__.__name__, cell.format
        if cell_format is None or self.constant_memory:
            super()._write_cell(row, col, cell)
        elif kind == "String":
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{cell_format._get_xf_index()}" t="s">'
                f"<v>{cell.string}</v></c>"
            )
        elif kind in ("Number", "Datetime"):
            self.fh.write(
                f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{cell_format._get_xf_index()}">'
                f"<v>{cell.number:.16G}</v></c>"
            )
        else:
            super()._write_cell(row, col, cell)


class _Writer:
    """Writes typed values into cells with the workbook's formats."""

    def __init__(self, workbook: Any) -> None:
        self.header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
        self.title = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.text = workbook.add_format({"valign": "top"})
        self.guarded_text = workbook.add_format({"valign": "top", "quote_prefix": True})
        self.date = workbook.add_format({"num_format": DATE_FORMAT, "valign": "top"})
        self.numbers = {kind: workbook.add_format({"num_format": code}) for kind, code in NUMBER_FORMATS.items()}
        self._workbook = workbook
        self._with_units: dict[tuple[str, str], Any] = {}
        self._days: dict[str, datetime | None] = {}
        self._text_formats: dict[str, Any] = {}

    def number_format(self, kind: str, unit: str) -> Any:
        """The format of a number of `kind` followed by its unit, a literal
        in the format as a percentage's % sign is; added on first use, so in
        the content's order, which keeps styles.xml the same every time."""
        if not unit or kind == "percentage":
            return self.numbers[kind]
        found = self._with_units.get((kind, unit))
        if found is None:
            # A quoted literal; a quote in the unit closes it, is escaped, and reopens it.
            literal = '" ' + unit.replace('"', '"\\""') + '"'
            found = self._workbook.add_format({"num_format": NUMBER_FORMATS[kind] + literal})
            self._with_units[(kind, unit)] = found
        return found

    def text_format(self, value: str) -> Any:
        """The format of a text: quote-prefixed when a spreadsheet could take it for a formula."""
        found = self._text_formats.get(value)
        if found is None:  # countries, sectors and codes recur on thousands of cells
            found = self._text_formats[value] = self.guarded_text if needs_text_guard(value) else self.text
        return found

    def string(self, sheet: Sheet, row: int, col: int, value: str | None, cell_format: Any = None) -> None:
        if value is None:
            return
        sheet.write_string(row, col, value, cell_format or self.text_format(value))

    def number(self, sheet: Sheet, row: int, col: int, value: float | None, kind: str) -> None:
        if value is not None:
            sheet.write_number(row, col, value, self.numbers[kind])

    def figure(self, sheet: Sheet, row: int, col: int, value: Figure, kind: str) -> None:
        """A figure: a number in the format of its kind (a whole number of the
        decimal kind is a count, as the content keeps counts as ints), or a
        level or text."""
        if is_number(value):
            self.number(sheet, row, col, value, "count" if kind == "decimal" and isinstance(value, int) else kind)
        elif isinstance(value, str):
            self.string(sheet, row, col, value)

    def day(self, sheet: Sheet, row: int, col: int, value: str | None) -> None:
        """An ISO date as a spreadsheet date (a number), or the text when it is none."""
        if value is None:
            return
        if value not in self._days:  # a few dates recur on thousands of cells
            try:
                self._days[value] = datetime.combine(date.fromisoformat(value), datetime.min.time())
            except ValueError:
                self._days[value] = None
        moment = self._days[value]
        if moment is None:
            self.string(sheet, row, col, value)
        else:
            sheet.write_datetime(row, col, moment, self.date)

    def headed_sheet(self, sheet: Sheet, columns: Sequence[tuple[str, int]], header_row: int) -> None:
        """Header row, column widths, the header frozen and filterable."""
        for col, (name, width) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write_string(header_row, col, name, self.header)
        sheet.freeze_panes(header_row + 1, 0)
        sheet.autofilter(header_row, 0, header_row, len(columns) - 1)


def _value_kind(benchmark: Benchmark) -> str:
    """The number format of a cell's value."""
    return "percentage" if benchmark["measure"] == "percentage" else "decimal"


def _figure_kind(benchmark: Benchmark) -> str:
    """The number format of the combined figure, baseline, targets and expected figure."""
    return "decimal" if counts_countries(benchmark) else _value_kind(benchmark)


def _summary_row(writer: _Writer, sheet: Sheet, row: int, assumption: str, benchmark: Benchmark) -> None:
    kind = _figure_kind(benchmark)
    target = benchmark["target_in_force"]
    coverage, trend = benchmark["coverage"], benchmark["trend"]
    writer.string(sheet, row, 0, assumption)
    writer.string(sheet, row, 1, benchmark["code"])
    writer.string(sheet, row, 2, benchmark["title"])
    writer.string(sheet, row, 3, benchmark["measure"])
    writer.string(sheet, row, 4, figure_unit(benchmark) or None)
    writer.string(sheet, row, 5, direction_text(benchmark))
    writer.figure(sheet, row, 6, benchmark["baseline"]["value"], kind)
    writer.day(sheet, row, 7, benchmark["baseline"]["date"])
    writer.figure(sheet, row, 8, target["value"] if target else None, kind)
    writer.day(sheet, row, 9, target["date"] if target else None)
    writer.figure(sheet, row, 10, benchmark["combined"], kind)
    writer.figure(sheet, row, 11, benchmark["expected"], kind)
    writer.number(sheet, row, 12, benchmark["progress"], "ratio")
    writer.string(sheet, row, 13, status_label(benchmark["status"]))
    writer.string(sheet, row, 14, benchmark["colour"])
    writer.number(sheet, row, 15, coverage["countries_reporting"], "count")
    writer.number(sheet, row, 16, coverage["countries_selected"], "count")
    writer.day(sheet, row, 17, coverage["freshest"])
    writer.figure(sheet, row, 18, trend["change"], kind)
    writer.string(sheet, row, 19, trend["direction"])
    writer.number(sheet, row, 20, benchmark["position"], "position")


def _summary_sheet(workbook: Any, writer: _Writer, content: ReportContent) -> None:
    sheet = workbook.add_worksheet("Summary")
    writer.headed_sheet(sheet, SUMMARY_COLUMNS, 0)
    row = 1
    for assumption in content["assumptions"]:
        for benchmark in assumption["benchmarks"]:
            _summary_row(writer, sheet, row, assumption["code"], benchmark)
            row += 1


def _assumption_sheet(workbook: Any, writer: _Writer, name: str, assumption: Assumption) -> None:
    sheet = workbook.add_worksheet(name)
    writer.string(sheet, 0, 0, assumption["code"], writer.title)
    writer.string(sheet, 0, 1, assumption["text"], writer.title)
    writer.headed_sheet(sheet, CELL_COLUMNS, 1)
    position = writer.numbers["position"]
    row = 2
    for benchmark in assumption["benchmarks"]:
        code, kind, unit = benchmark["code"], _value_kind(benchmark), value_unit(benchmark)
        # What every cell of the benchmark shares, found once (a full edition has 6,000 cells).
        code_format = writer.guarded_text if needs_text_guard(code) else writer.text
        value_format, count_format = writer.number_format(kind, unit), writer.number_format("count", unit)
        for cell in benchmark["cells"]:
            value = cell["value"]
            sheet.write_string(row, 0, code, code_format)
            writer.string(sheet, row, 1, cell["country"])
            writer.string(sheet, row, 2, cell["sector"])
            if is_number(value):
                # A whole number of the decimal kind is a count (the content keeps counts as ints).
                whole = kind == "decimal" and isinstance(value, int)
                sheet.write_number(row, 3, value, count_format if whole else value_format)
            elif isinstance(value, str):
                writer.string(sheet, row, 3, value)
            writer.day(sheet, row, 4, cell["valid_date"])
            sheet.write_number(row, 5, cell["known_at"], position)
            row += 1


def _restatement_row(writer: _Writer, sheet: Sheet, row: int, restatement: Restatement, value_kind: str) -> None:
    writer.string(sheet, row, 0, restatement["benchmark"])
    writer.string(sheet, row, 1, restatement["country"])
    writer.string(sheet, row, 2, restatement["sector"])
    writer.day(sheet, row, 3, restatement["as_of"])
    writer.string(sheet, row, 4, restatement["reason"].replace("_", " "))
    for col, side in ((5, restatement["before"]), (8, restatement["after"])):
        if side is not None:
            writer.figure(sheet, row, col, side["value"], value_kind)
            writer.day(sheet, row, col + 1, side["valid_date"])
            writer.number(sheet, row, col + 2, side["known_at"], "position")


def _restatements_sheet(workbook: Any, writer: _Writer, content: ReportContent) -> None:
    sheet = workbook.add_worksheet("Restatements")
    writer.headed_sheet(sheet, RESTATEMENT_COLUMNS, 0)
    # A restatement names its benchmark; the benchmark says what its values are.
    value_kinds = {
        benchmark["code"]: _value_kind(benchmark)
        for assumption in content["assumptions"]
        for benchmark in assumption["benchmarks"]
    }
    for row, restatement in enumerate(content["restatements"], start=1):
        _restatement_row(writer, sheet, row, restatement, value_kinds.get(restatement["benchmark"], "decimal"))


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _workplan_sheets(workbook: Any, writer: _Writer, workplan: Workplan) -> None:
    """The deliverables (planned vs recorded) and the milestones, a sheet each."""
    sheet = workbook.add_worksheet("Deliverables")
    writer.headed_sheet(sheet, DELIVERABLE_COLUMNS, 0)
    for row, item in enumerate(workplan["deliverables"], start=1):
        for col, text in ((0, item["code"]), (1, item["area"]), (2, item["title"])):
            writer.string(sheet, row, col, text)
        writer.day(sheet, row, 3, item["planned_start"])
        writer.day(sheet, row, 4, item["planned_end"])
        writer.string(sheet, row, 5, item["status"].replace("_", " "))
        writer.day(sheet, row, 6, item["started_on"])
        writer.day(sheet, row, 7, item["delivered_on"])
        writer.string(sheet, row, 8, item["evidence"])
        writer.day(sheet, row, 9, item["dropped_on"])
        writer.string(sheet, row, 10, item["reason"])
        writer.string(sheet, row, 11, _yes_no(item["late"]))
        writer.string(sheet, row, 12, _yes_no(item["late_start"]))
    sheet = workbook.add_worksheet("Milestones")
    writer.headed_sheet(sheet, MILESTONE_COLUMNS, 0)
    for row, milestone in enumerate(workplan["milestones"], start=1):
        writer.string(sheet, row, 0, milestone["code"])
        writer.number(sheet, row, 1, milestone["paragraph"], "position")
        writer.string(sheet, row, 2, milestone["text"])
        writer.day(sheet, row, 3, milestone["due"])
        writer.string(sheet, row, 4, milestone["status"])
        writer.day(sheet, row, 5, milestone["met_on"])
        writer.day(sheet, row, 6, milestone["missed_on"])
        writer.string(sheet, row, 7, milestone["note"])
        writer.string(sheet, row, 8, _yes_no(milestone["late"]))


def _edition_sheet(workbook: Any, writer: _Writer, content: ReportContent) -> None:
    pins, programme = content["edition"], content["programme"]
    previous, checkpoint = pins["previous"], pins["checkpoint"]
    sheet = workbook.add_worksheet("Edition")
    writer.headed_sheet(sheet, (("Field", 24), ("Value", 90)), 0)
    fields: tuple[tuple[str, str | int | None], ...] = (
        ("Title", pins["title"]),
        ("Kind", pins["kind"]),
        ("As of (valid date)", pins["as_of"]),
        ("Known at (log position)", pins["position"]),
        ("Checkpoint tree size", checkpoint["size"] if checkpoint else None),
        ("Checkpoint root hash", checkpoint["root_hash"] if checkpoint else None),
        ("Checkpoint (signed note)", checkpoint["note"] if checkpoint else None),
        ("Framework", pins["framework"]),
        ("Template version", pins["template_version"]),
        ("Generator version", pins["generator_version"]),
        ("Previous edition", previous["id"] if previous else None),
        ("Previous as of", previous["as_of"] if previous else None),
        ("Previous position", previous["position"] if previous else None),
        ("Programme", programme["title"]),
        ("Programme period", f"{programme['period']['start']} to {programme['period']['end']}"),
        *((f"Colour {entry['colour']}", entry["meaning"]) for entry in content["colour_rule"]["legend"]),
    )
    for row, (name, value) in enumerate(fields, start=1):
        writer.string(sheet, row, 0, name)
        if isinstance(value, int):
            writer.number(sheet, row, 1, value, "position")
        else:
            writer.string(sheet, row, 1, value)


def sheet_names(assumptions: Sequence[Assumption]) -> list[str]:
    """A valid, unique sheet name per assumption (its code, as Excel allows it)."""
    names: list[str] = []
    taken = {name.lower() for name in RESERVED_SHEETS}
    for index, assumption in enumerate(assumptions, start=1):
        name = "".join(" " if char in "[]:*?/\\" else char for char in assumption["code"]).strip("' ")[:31]
        if not name or name.lower() in taken:
            name = f"Assumption {index}"
        taken.add(name.lower())
        names.append(name)
    return names


def _properties(content: ReportContent) -> dict[str, Any]:
    pins = content["edition"]
    return {
        "title": pins["title"],
        "subject": f"{content['programme']['title']}: {pins['kind']} stocktaking report",
        "author": "Stocktake",
        "comments": (
            f"As of {pins['as_of']}, known at log position {pins['position']}; {pins['framework']}; "
            f"template {pins['template_version']}; generator {pins['generator_version']}."
        ),
        # The edition's valid date, never the wall clock: the bytes depend on the pins alone.
        "created": datetime.combine(date.fromisoformat(pins["as_of"]), datetime.min.time()),
    }


def render_xlsx(content: ReportContent, fast_cells: bool = True) -> bytes:
    """`fast_cells`: with `_Sheet` (when XlsxWriter is a version it knows),
    else XlsxWriter's own worksheets: the same bytes (tested)."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {"in_memory": True, **XLSX_OPTIONS},
    )
    if fast_cells and xlsxwriter.__version__ in FAST_CELLS_VERSIONS:
        workbook.worksheet_class = _Sheet
    workbook.set_properties(_properties(content))
    writer = _Writer(workbook)
    _summary_sheet(workbook, writer, content)
    for name, assumption in zip(sheet_names(content["assumptions"]), content["assumptions"], strict=True):
        _assumption_sheet(workbook, writer, name, assumption)
    _restatements_sheet(workbook, writer, content)
    if content["workplan"] is not None:
        _workplan_sheets(workbook, writer, content["workplan"])
    _edition_sheet(workbook, writer, content)
    workbook.close()
    return output.getvalue()
