"""Measurement's exports of observations (CSV, XLSX, SDMX-CSV, and the SDMX
structure the SDMX-CSV follows), downloaded from the pages: the download is
measurement's own file, read with the signed-in person's key (a country
office's holds its countries only) and streamed through with its content
type, file name and pins."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Query
from fastapi.responses import StreamingResponse

from services.reporting.entrypoints.pages.deps import PagesDep, VisitorDep, page_router

router = page_router()


class ObservationFile(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    SDMX_CSV = "sdmx-csv"
    SDMX_STRUCTURE = "sdmx-structure"


PATHS = {
    ObservationFile.CSV: "/exports/observations.csv",
    ObservationFile.XLSX: "/exports/observations.xlsx",
    ObservationFile.SDMX_CSV: "/exports/observations.sdmx.csv",
    ObservationFile.SDMX_STRUCTURE: "/exports/observations.sdmx-structure.xml",
}
# The structure holds every valid date, benchmark and country ever known at a
# position: of the form's fields it takes only the position's.
STRUCTURE_FIELDS = frozenset({"at", "known_at"})
# What of measurement's answer the download keeps: the file's type and name,
# and its pins (Stocktake-As-Of, Stocktake-Log-Position, ...).
KEPT_HEADERS = ("content-type", "content-disposition")
PIN_PREFIX = "stocktake-"
Given = Annotated[str | None, Query(max_length=64)]


@router.get("/observation-files")
def download_observations(
    visitor: VisitorDep,
    pages: PagesDep,
    file: Annotated[ObservationFile, Query(description="csv, xlsx, sdmx-csv or sdmx-structure")] = ObservationFile.CSV,
    as_of: Given = None,
    at: Given = None,
    known_at: Given = None,
    benchmark: Given = None,
    country: Given = None,
    assumption: Given = None,
    sector: Given = None,
) -> StreamingResponse:
    """The observations as a file, or the SDMX structure (its codelists as known at `at` or `known_at`;
    the other fields do not apply to it); the fields left empty are not sent, and measurement checks
    those that are (its problem is shown as a page)."""
    given = {"as_of": as_of, "at": at, "known_at": known_at, "benchmark": benchmark, "country": country}
    given |= {"assumption": assumption, "sector": sector}
    params = {name: value.strip() for name, value in given.items() if value and value.strip()}
    if file is ObservationFile.SDMX_STRUCTURE:
        params = {name: value for name, value in params.items() if name in STRUCTURE_FIELDS}
    if "country" in params:  # typed in a field: bgd is BGD
        params["country"] = params["country"].upper()
    download = pages.measurement.download(visitor.token, PATHS[file], params)
    kept = {name: value for name, value in download.headers.items() if _kept(name)}
    return StreamingResponse(download.chunks, headers=kept)


def _kept(name: str) -> bool:
    return name.lower() in KEPT_HEADERS or name.lower().startswith(PIN_PREFIX)
