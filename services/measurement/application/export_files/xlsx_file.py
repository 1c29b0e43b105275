"""An export as an XLSX workbook: the sheet "Observations" in the import's
columns (the import reads the first sheet), and the sheet "Export" naming
the pins.

Written in XlsxWriter's constant-memory mode (a row at a time, through
temporary files), so a large export does not grow the process. Nothing is
ever a formula: texts go through `write_string` with XlsxWriter's string
conversions off, and a text starting with a formula trigger gets Excel's
quote prefix (the cell holds the text itself, so it is imported as it is).

Byte-reproducible: the document's creation date is the export's valid date,
and the zip is written anew with every entry stamped 1980-01-01 (XlsxWriter
stamps a workbook it writes through files with their local modification
time and mode)."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter  # type: ignore[import-untyped]  # XlsxWriter ships no type information

from services.common.spreadsheets import XLSX_OPTIONS, needs_text_guard
from services.measurement.application.export_files.columns import Cell, cells, header
from services.measurement.application.export_files.pins import pin_fields
from services.measurement.application.queries.exports import ObservationExport

# The most rows a sheet holds, its header included (Excel's limit).
MAX_SHEET_ROWS = 1_048_576
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CHUNK_BYTES = 1 << 16


class _Cells:
    def __init__(self, workbook: Any) -> None:
        self.header = workbook.add_format({"bold": True})
        self.guarded = workbook.add_format({"quote_prefix": True})

    def write(self, sheet: Any, row: int, col: int, value: Cell) -> None:
        if value is None:
            return
        if isinstance(value, str):
            sheet.write_string(row, col, value, self.guarded if needs_text_guard(value) else None)
        else:
            sheet.write_number(row, col, value)


def _workbook(export: ObservationExport, path: Path, scratch: str) -> None:
    pins = export.pins
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": scratch, **XLSX_OPTIONS})
    workbook.set_properties(
        {
            "title": "Stocktake observations",
            "author": "Stocktake",
            "comments": "; ".join(f"{name}: {value}" for name, value in pin_fields(pins) if name != "Checkpoint"),
            # The export's valid date, never the wall clock: the bytes depend on the pins alone.
            "created": datetime.combine(pins.as_of, datetime.min.time()),
        }
    )
    writer = _Cells(workbook)
    sheet = workbook.add_worksheet("Observations")
    columns = header(export)
    for col, name in enumerate(columns):
        sheet.write_string(0, col, name, writer.header)
    sheet.freeze_panes(1, 0)
    for number, row in enumerate(export.rows(), start=1):
        for col, value in enumerate(cells(export, row)):
            writer.write(sheet, number, col, value)
    about = workbook.add_worksheet("Export")
    about.set_column(0, 0, 28)
    about.set_column(1, 1, 90)
    about.write_string(0, 0, "Pin", writer.header)
    about.write_string(0, 1, "Value", writer.header)
    for number, (name, value) in enumerate(pin_fields(pins), start=1):
        writer.write(about, number, 0, name)
        writer.write(about, number, 1, value)
    workbook.close()


def _restamped(source: Path, target: Path) -> None:
    """The zip of `source` again, each entry with a fixed time and no file mode."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for entry in original.infolist():
            stamped = zipfile.ZipInfo(entry.filename, ZIP_TIME)
            stamped.compress_type = zipfile.ZIP_DEFLATED
            with original.open(entry) as reading, copy.open(stamped, "w") as writing:
                shutil.copyfileobj(reading, writing, CHUNK_BYTES)


def xlsx_file(export: ObservationExport) -> Iterator[bytes]:
    """Builds the workbook (on disk), then yields it in chunks; its files
    are removed when the generator ends or is closed."""
    with tempfile.TemporaryDirectory(prefix="stocktake-export-") as scratch:
        built, final = Path(scratch, "built.xlsx"), Path(scratch, "export.xlsx")
        _workbook(export, built, scratch)
        _restamped(built, final)
        built.unlink()
        with final.open("rb") as reading:
            while chunk := reading.read(CHUNK_BYTES):
                yield chunk
