"""Reading a batch of observations from a request: a JSON array, or a CSV
file as a spreadsheet saves it. Each row is read on its own, so that one bad
row is reported with its index and field rather than failing the batch.

CSV: UTF-8 (a byte-order mark is allowed), comma- or semicolon-separated (as
the header line shows; a semicolon-separated sheet may write 18,5 for 18.5),
a header line naming the columns. Required:
benchmark, country, period, value. Optional: sector, comment, evidence_title,
evidence_url, and one column per disaggregated value named
`<dimension>:<category>` (e.g. `sex:female`). Empty cells are absent values.
Values are read by the benchmark's measure (a number for a count or a
percentage)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from services.common.errors import FieldPath, FieldProblem, InvalidCommandError
from services.common.http.problems import pydantic_message
from services.measurement.application.imports import MAX_ROWS, ImportRow
from services.measurement.domain.values import Dimension
from services.measurement.entrypoints.http.schemas.observations import ObservationCreate

REQUIRED_COLUMNS = ("benchmark", "country", "period", "value")
OPTIONAL_COLUMNS = ("sector", "comment", "evidence_title", "evidence_url")


@dataclass(frozen=True)
class ReadRow:
    row: ImportRow
    line: int | None = None  # CSV only
    disaggregation_columns: Sequence[str] = field(default_factory=tuple)

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
        "disaggregations": [item.model_dump() for item in observation.disaggregations],
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
        parsed = _ROWS.validate_python([items[index] for index in candidates])
    except ValidationError as error:
        for problem in error.errors():
            position, *path = problem["loc"]
            problems.setdefault(candidates[int(position)], []).append(
                FieldProblem(tuple(path), pydantic_message(problem))
            )
        candidates = [index for index in candidates if index not in problems]
        parsed = _ROWS.validate_python([items[index] for index in candidates])
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
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidCommandError("The CSV is empty: send a header line and at least one row.")
        header = [_column_name(name) for name in header]
        dimensions = _check_header(header)
        rows: list[ReadRow] = []
        while True:
            first_line = reader.line_num + 1  # a quoted cell may run over several lines
            record = next(reader, None)
            if record is None:
                break
            if not any(cell.strip() for cell in record):
                continue  # a blank line, as spreadsheets leave at the end
            if len(rows) == MAX_ROWS:
                raise InvalidCommandError(f"A batch holds at most {MAX_ROWS} rows: split the file and send each part.")
            rows.append(_csv_row(header, dimensions, record, first_line, decimal_comma=delimiter == ";"))
    except csv.Error as error:
        raise InvalidCommandError(f"The CSV cannot be read at line {reader.line_num}: {error}.") from None
    if not rows:
        raise InvalidCommandError("The CSV has a header but no rows: send at least one observation.")
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
    header: list[str], dimensions: dict[str, tuple[str, str]], record: list[str], line: int, decimal_comma: bool
) -> ReadRow:
    if len(record) != len(header):
        problem = FieldProblem((), f"Line {line} has {len(record)} cells; the header has {len(header)}.")
        return ReadRow(ImportRow(None, [problem]), line)
    cells = {name: cell.strip() for name, cell in zip(header, record, strict=True) if cell.strip()}
    item: dict[str, Any] = {name: cells[name] for name in (*REQUIRED_COLUMNS, "sector", "comment") if name in cells}
    if "evidence_title" in cells or "evidence_url" in cells:
        item["evidence"] = [{"title": cells.get("evidence_title", ""), "url": cells.get("evidence_url", "")}]
    present = [name for name in dimensions if name in cells]
    item["disaggregations"] = [
        {"dimension": dimensions[name][0], "category": dimensions[name][1], "value": cells[name]} for name in present
    ]
    return ReadRow(_validated(item, decimal_comma), line, tuple(present))
