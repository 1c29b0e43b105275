"""An export as SDMX-CSV 2.0 (one data message of the dataflow
ILO:DF_STOCKTAKE_OBSERVATIONS(1.0), whose structure sdmx_structure.py writes).

Dimensions: BENCHMARK, REF_AREA (ISO 3166 alpha-3; _Z for the international
level), SECTOR (_Z for none), one per disaggregation (SEX, ETHNICITY,
INDIGENOUS_IDENTITY, DISABILITY: the category, or _T for the total) and
TIME_PERIOD (the period in SDMX's own forms: 2019, 2019-Q2, 2019-06,
2019-06-30). OBS_VALUE is the value. Attributes: OBS_STATUS (A as recorded,
R revised by a correction) and LOG_POSITION (the position of the event that
gave the value). An observation is one SDMX observation with every
disaggregation at _T, and one more per disaggregated value. A benchmark's
or sector's "." is written "@", as SDMX identifiers allow no dot.

A spreadsheet may open it too, so texts are guarded as in the other CSV
export (services/common/spreadsheets.py): a consumer undoes a leading
apostrophe before a formula trigger."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from services.measurement.application.export_files.csv_file import CHUNK_ROWS, csv_field
from services.measurement.application.export_files.sdmx_ids import (
    DATAFLOW,
    DIMENSIONS,
    NOT_APPLICABLE,
    TOTAL,
    sdmx_code,
)
from services.measurement.application.queries.exports import ExportRow, ObservationExport

MEDIA_TYPE = "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"
HEADER = (
    "STRUCTURE",
    "STRUCTURE_ID",
    "ACTION",
    "BENCHMARK",
    "REF_AREA",
    "SECTOR",
    *DIMENSIONS.values(),
    "TIME_PERIOD",
    "OBS_VALUE",
    "OBS_STATUS",
    "LOG_POSITION",
)


def sdmx_rows(row: ExportRow) -> Iterator[list[str]]:
    """The SDMX observations of one exported observation."""
    key = [sdmx_code(row.benchmark), row.country or NOT_APPLICABLE, sdmx_code(row.sector or NOT_APPLICABLE)]
    attributes = ["R" if row.corrected else "A", str(row.known_from)]
    totals = dict.fromkeys(DIMENSIONS, TOTAL)
    yield [
        "dataflow",
        DATAFLOW,
        "I",
        *map(csv_field, key),
        *totals.values(),
        row.period,
        csv_field(row.value),
        *attributes,
    ]
    for item in row.disaggregations:
        breakdown = {**totals, item.dimension: csv_field(item.category)}
        yield [
            "dataflow",
            DATAFLOW,
            "I",
            *map(csv_field, key),
            *breakdown.values(),
            row.period,
            csv_field(item.value),
            *attributes,
        ]


def sdmx_chunks(export: ObservationExport) -> Iterator[bytes]:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow(HEADER)
    for written, row in enumerate(export.rows(), start=1):
        writer.writerows(sdmx_rows(row))
        if written % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
