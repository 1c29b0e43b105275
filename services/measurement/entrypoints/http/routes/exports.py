"""Exports of observations, as of a valid date and as known at a log
position: CSV and XLSX in the import's columns, and SDMX-CSV 2.0 with its
SDMX-ML 3.0 structure. Every export names its pins in its headers and is the
same, byte for byte, when made again with them (give `as_of` and `at`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from services.common.access import Permission
from services.common.errors import InvalidCommandError
from services.common.http.authorization import ObservationReader, allowed
from services.common.http.deps import POSITION_HEADER
from services.measurement.application.export_files.csv_file import csv_chunks
from services.measurement.application.export_files.pins import pin_headers
from services.measurement.application.export_files.sdmx_csv import MEDIA_TYPE as SDMX_CSV
from services.measurement.application.export_files.sdmx_csv import sdmx_chunks
from services.measurement.application.export_files.sdmx_ids import DATAFLOW
from services.measurement.application.export_files.sdmx_ids import STRUCTURE_MEDIA_TYPE as SDMX_STRUCTURE
from services.measurement.application.export_files.xlsx_file import MAX_SHEET_ROWS, xlsx_file
from services.measurement.application.queries.exports import (
    ExportFilter,
    ObservationExport,
    plan_export,
    structure_codes,
)
from services.measurement.application.transparency import TransparencyLog
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.routes.progress import PinnedDep, SectorFilter
from services.measurement.entrypoints.http.schemas.common import Country

router = APIRouter(prefix="/exports", tags=["exports"])

CSV = "text/csv; charset=utf-8; header=present"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PIN_HEADERS_DOC = (
    " Its pins are in the headers Stocktake-As-Of, Stocktake-Log-Position, Stocktake-Framework-Version, "
    "Stocktake-Checkpoint-Size and Stocktake-Checkpoint-Root-Hash (the signed checkpoint of the log at that "
    "position); the same `as_of` and `at` give the same bytes."
)


def export_filter(
    benchmark: Annotated[str | None, Query(max_length=64, description="Only this benchmark's observations")] = None,
    country: Annotated[Country | None, Query(description="Only this country's observations")] = None,
    assumption: Annotated[
        str | None, Query(max_length=8, description="Only those of this critical assumption's benchmarks")
    ] = None,
    sector: SectorFilter = None,
) -> ExportFilter:
    return ExportFilter(benchmark, country, assumption, sector)


FilterDep = Annotated[ExportFilter, Depends(export_filter)]


def _planned(
    request: Request, measurement: MeasurementDep, reader: ObservationReader, when: PinnedDep, where: FilterDep
) -> ObservationExport:
    transparency: TransparencyLog = request.app.state.transparency
    return plan_export(measurement, transparency, where, when.as_of, when.at, when.known_at, reader)


PlannedDep = Annotated[ObservationExport, Depends(_planned)]


def _file(
    export: ObservationExport, media_type: str, name: str, chunks: Callable[[ObservationExport], Iterator[bytes]]
) -> StreamingResponse:
    pins = export.pins
    filename = f"observations-{pins.as_of.isoformat()}-at-{pins.position}{name}"
    headers = {
        **pin_headers(pins),
        POSITION_HEADER: str(pins.position),
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    return StreamingResponse(chunks(export), media_type=media_type, headers=headers)


def _export_route(path: str, operation_id: str, media_type: str, description: str) -> Callable[[Any], Any]:
    return router.get(
        path,
        operation_id=operation_id,
        response_class=StreamingResponse,
        responses={200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}},
        description=description + PIN_HEADERS_DOC,
    )


@_export_route(
    "/observations.csv",
    "exportObservationsCsv",
    CSV,
    (
        "The observations that stand as of `as_of` (for each cell and valid date up to it, the one that counts), "
        "as known at `at` or `known_at`, as CSV in exactly the columns the import reads: import it as it is. "
        "A country office's holds its countries' only."
    ),
)
def export_csv(export: PlannedDep) -> StreamingResponse:
    """Observations as CSV, in the import's columns."""
    return _file(export, CSV, ".csv", csv_chunks)


@_export_route(
    "/observations.xlsx",
    "exportObservationsXlsx",
    XLSX,
    (
        "The observations of the CSV export as an XLSX workbook: the sheet Observations in the import's columns "
        f"(at most {MAX_SHEET_ROWS - 1:,} rows, a sheet's limit), the sheet Export naming the pins and the signed "
        "checkpoint."
    ),
)
def export_xlsx(export: PlannedDep) -> StreamingResponse:
    """Observations as an XLSX workbook, in the import's columns."""
    rows = export.count()
    if rows >= MAX_SHEET_ROWS:
        raise InvalidCommandError(
            f"The export holds {rows:,} observations; a sheet holds at most {MAX_SHEET_ROWS - 1:,}. "
            "Export it as CSV, or narrow it (benchmark, country, assumption, sector)."
        )
    return _file(export, XLSX, ".xlsx", xlsx_file)


@_export_route(
    "/observations.sdmx.csv",
    "exportObservationsSdmxCsv",
    SDMX_CSV,
    (
        f"The observations of the CSV export as SDMX-CSV 2.0 (dataflow {DATAFLOW}): dimensions BENCHMARK, "
        "REF_AREA (ISO 3166 alpha-3), SECTOR (_Z: none), SEX, ETHNICITY, INDIGENOUS_IDENTITY and DISABILITY "
        "(_T: the total) and TIME_PERIOD (2019, 2019-Q2, 2019-06, 2019-06-30); OBS_VALUE; attributes OBS_STATUS "
        "(A as recorded, R corrected) and LOG_POSITION (of the event that gave the value). One SDMX observation "
        "per value and one per disaggregated value."
    ),
)
def export_sdmx_csv(export: PlannedDep) -> StreamingResponse:
    """Observations as SDMX-CSV 2.0."""
    return _file(export, SDMX_CSV, ".sdmx.csv", sdmx_chunks)


@router.get(
    "/observations.sdmx-structure.xml",
    operation_id="exportObservationsSdmxStructure",
    response_class=Response,
    responses={200: {"content": {SDMX_STRUCTURE: {"schema": {"type": "string"}}}}},
    dependencies=[allowed(Permission.READ_FRAMEWORK)],
)
def export_sdmx_structure(measurement: MeasurementDep, when: PinnedDep) -> Response:
    """The structure of the SDMX-CSV export as an SDMX-ML 3.0 structure message: the dataflow
    ILO:DF_STOCKTAKE_OBSERVATIONS(1.0), its data structure definition (the SDMX-CSV's columns, in order),
    its concepts, and the codelists as known at `at` or `known_at` (default: the head): every benchmark
    defined, country and sector ever selected (_Z: the international level, no sector), and the observation
    statuses. Codes are only ever added; a code's "." is "@", as in the data. The same `at` gives the same
    bytes; `as_of` is not used (the structure holds every valid date)."""
    # pysdmx's writer takes some 0.2 s to import: only a process asked for a structure pays it.
    from services.measurement.application.export_files.sdmx_structure import structure_message

    codes = structure_codes(measurement, when.at, when.known_at)
    return Response(
        structure_message(codes).encode("utf-8"),
        media_type=SDMX_STRUCTURE,
        headers={
            POSITION_HEADER: str(codes.position),
            "Content-Disposition": f'attachment; filename="observations-structure-at-{codes.position}.xml"',
        },
    )
