"""Reading a batch of observations from a request: a JSON array, or a CSV
file as a spreadsheet saves it, or the first sheet of an XLSX workbook (with
the same columns). Each row is read on its own, so that one bad
row is reported with its index and field rather than failing the batch.

CSV: UTF-8 (a byte-order mark is allowed), comma- or semicolon-separated (as
the header line shows; a semicolon-separated sheet may write 18,5 for 18.5),
a header line naming the columns. Required:
benchmark, country, period, value. Optional: sector, comment, evidence_title,
evidence_url, and one column per disaggregated value named
`<dimension>:<category>` (e.g. `sex:female`). Empty cells are absent values.
Values are read by the benchmark's measure (a number for a count or a
percentage). A CSV cell guarded against spreadsheet formulas (an apostrophe
before =, +, -, @, tab or carriage return, as the exports write it) is read
as the text it guards; an XLSX cell holds the text itself."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import Any, NamedTuple

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import TypeAdapter, ValidationError

from services.common.errors import FieldPath, FieldProblem, InvalidCommandError
from services.common.http.problems import pydantic_message
from services.common.spreadsheets import text_from_csv
from services.measurement.application.imports import MAX_ROWS, ImportRow
from services.measurement.domain.values import Dimension
from services.measurement.entrypoints.http.schemas.observations import ObservationCreate

REQUIRED_COLUMNS = ("benchmark", "country", "period", "value")
OPTIONAL_COLUMNS = ("sector", "comment", "evidence_title", "evidence_url")


class ReadRow(NamedTuple):
    """A row and where it was read (immutable, and made for every row: a named tuple, see ImportRow)."""

    row: ImportRow
    line: int | None = None  # CSV: the line; XLSX: the row of the sheet
    disaggregation_columns: Sequence[str] = ()
    sheet: str | None = None  # XLSX only

    def column(self, path: FieldPath) -> str | None:
        """The CSV column a field of the row came from."""
        if not path:
            return None
        if path[0] == "evidence" and len(path) >= 3:
            return f"evidence_{path[2]}"
        if path[0] == "disaggregations" and len(path) >= 2 and isinstance(path[1], int):
            return self.disaggregation_columns[path[1]] if path[1] < len(self.disaggregation_columns) else None
        return str(path[0])


def fields_of(observation: ObservationCreate) -> dict[str, Any]:
    """The fields the application records, from a parsed observation."""
    return {
        "benchmark": observation.benchmark,
        "country": observation.country,
        "sector": observation.sector,
        "period": observation.period,
        "value": observation.value,
        # As item.model_dump() gives them, without a serializer's call per item.
        "disaggregations": [
            {"dimension": item.dimension, "category": item.category, "value": item.value}
            for item in observation.disaggregations
        ],
        "evidence": [{"title": e.title, "url": str(e.url)} for e in observation.evidence],
        "comment": observation.comment,
    }


NOT_AN_OBJECT = "Each observation is a JSON object, as for POST /observations."
_ROWS: TypeAdapter[list[ObservationCreate]] = TypeAdapter(list[ObservationCreate])


def _validated(item: dict[str, Any], decimal_comma: bool) -> ImportRow:
    """A CSV row, its values still texts."""
    try:
        parsed = ObservationCreate.model_validate(item)
    except ValidationError as error:
        return ImportRow(None, [FieldProblem(tuple(e["loc"]), pydantic_message(e)) for e in error.errors()])
    return ImportRow(fields_of(parsed), text_values=True, decimal_comma=decimal_comma)


def json_rows(items: Sequence[Any]) -> list[ReadRow]:
    """Validates the rows as one list (much quicker than one at a time); if
    some are invalid, their errors are kept and the others validated again."""
    problems: dict[int, list[FieldProblem]] = {
        index: [FieldProblem((), NOT_AN_OBJECT)] for index, item in enumerate(items) if not isinstance(item, dict)
    }
    candidates = [index for index in range(len(items)) if index not in problems]
    try:
        parsed = _ROWS.validate_python(list(items) if not problems else [items[index] for index in candidates])
    except ValidationError as error:
        for problem in error.errors():
            position, *path = problem["loc"]
            problems.setdefault(candidates[int(position)], []).append(
                FieldProblem(tuple(path), pydantic_message(problem))
            )
        candidates = [index for index in candidates if index not in problems]
        parsed = _ROWS.validate_python([items[index] for index in candidates])
    if not problems:  # every row valid, as in most batches
        return [ReadRow(ImportRow(fields_of(row))) for row in parsed]
    valid = {index: ImportRow(fields_of(row)) for index, row in zip(candidates, parsed, strict=True)}
    return [
        ReadRow(valid[index] if index in valid else ImportRow(None, problems[index])) for index in range(len(items))
    ]


def csv_rows(data: bytes) -> list[ReadRow]:
    """The rows of a CSV file; a file that cannot be read as one is refused whole."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidCommandError(
            f"The CSV is not UTF-8 text (byte {error.start} is not): save it as 'CSV UTF-8' and send it again."
        ) from None
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in header_line and "," not in header_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[str]]]:
        while True:
            first_line = reader.line_num + 1  # a quoted cell may run over several lines
            record = next(reader, None)
            if record is None:
                return
            yield first_line, [text_from_csv(cell) for cell in record]

    try:
        return _table_rows(records(), "The CSV", None, decimal_comma=delimiter == ";")
    except csv.Error as error:
        raise InvalidCommandError(f"The CSV cannot be read at line {reader.line_num}: {error}.") from None


def xlsx_rows(data: bytes) -> list[ReadRow]:
    """The rows of the first sheet of an XLSX workbook, with the columns of a
    CSV file (read in openpyxl's read-only mode: a large sheet is streamed)."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException):
        raise InvalidCommandError(
            "The file is not an XLSX workbook: save the sheet as Excel Workbook (.xlsx) or CSV UTF-8."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        records = (
            (number, [_cell_text(cell) for cell in cells])
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _table_rows(records, f"Sheet {sheet.title!r}", sheet.title, decimal_comma=False)
    finally:
        workbook.close()


def _cell_text(cell: Any) -> str:
    """A cell as the text a CSV file would hold: a date as 2019-06-30 (a
    spreadsheet turns a typed period into one), a whole number without .0."""
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2**53:
        return str(int(cell))
    return str(cell)


def _table_rows(
    records: Iterator[tuple[int, list[str]]], what: str, sheet: str | None, decimal_comma: bool
) -> list[ReadRow]:
    """The rows under a header line (`what` names the file or sheet in errors)."""
    first = next(records, None)
    if first is None:
        raise InvalidCommandError(f"{what} is empty: send a header line and at least one row.")
    header = [_column_name(name) for name in first[1]]
    while header and not header[-1]:
        header.pop()  # a sheet's blank columns on the right
    dimensions = _check_header(header)
    rows: list[ReadRow] = []
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue  # a blank line, as spreadsheets leave at the end
        if len(rows) == MAX_ROWS:
            raise InvalidCommandError(f"A batch holds at most {MAX_ROWS} rows: split the file and send each part.")
        if sheet is not None and len(record) > len(header) and not any(c.strip() for c in record[len(header) :]):
            record = record[: len(header)]
        rows.append(_csv_row(header, dimensions, record, line, decimal_comma, sheet))
    if not rows:
        raise InvalidCommandError(f"{what} has a header but no rows: send at least one observation.")
    return rows


def _column_name(name: str) -> str:
    """A header cell as the column it names: case and surrounding spaces do
    not matter ("Country ", "Sex:female" are country and sex:female)."""
    dimension, colon, category = name.strip().partition(":")
    return f"{dimension.strip().lower()}{colon}{category.strip()}"


def _check_header(header: list[str]) -> dict[str, tuple[str, str]]:
    """The disaggregation columns (name: (dimension, category)); refuses a
    header that lacks a required column or has one it does not know."""
    problems = []
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append(f"the header lacks {', '.join(missing)}")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        problems.append(f"{', '.join(duplicated)} appear more than once")
    dimensions: dict[str, tuple[str, str]] = {}
    unknown = []
    for name in header:
        if name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS:
            continue
        dimension, _, category = name.partition(":")
        if dimension in {d.value for d in Dimension} and category.strip():
            dimensions[name] = (dimension, category.strip())
        else:
            unknown.append(name)
    if unknown:
        problems.append(
            f"unknown columns {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}, "
            f"and <dimension>:<category> with a dimension of {', '.join(d.value for d in Dimension)})"
        )
    if problems:
        raise InvalidCommandError("The CSV header cannot be used: " + "; ".join(problems) + ".")
    return dimensions


def _csv_row(
    header: list[str],
    dimensions: dict[str, tuple[str, str]],
    record: list[str],
    line: int,
    decimal_comma: bool,
    sheet: str | None = None,
) -> ReadRow:
    if len(record) != len(header):
        where = "Line" if sheet is None else "Row"
        problem = FieldProblem((), f"{where} {line} has {len(record)} cells; the header has {len(header)}.")
        return ReadRow(ImportRow(None, [problem]), line, sheet=sheet)
    cells = {name: cell.strip() for name, cell in zip(header, record, strict=True) if cell.strip()}
    item: dict[str, Any] = {name: cells[name] for name in (*REQUIRED_COLUMNS, "sector", "comment") if name in cells}
    if "evidence_title" in cells or "evidence_url" in cells:
        item["evidence"] = [{"title": cells.get("evidence_title", ""), "url": cells.get("evidence_url", "")}]
    present = [name for name in dimensions if name in cells]
    item["disaggregations"] = [
        {"dimension": dimensions[name][0], "category": dimensions[name][1], "value": cells[name]} for name in present
    ]
    return ReadRow(_validated(item, decimal_comma), line, tuple(present), sheet)
