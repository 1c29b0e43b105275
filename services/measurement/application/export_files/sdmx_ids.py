"""The identifiers the SDMX data (sdmx_csv.py) and its structure
(sdmx_structure.py) share: the dataflow, the special codes, the
disaggregation dimensions, and how a Stocktake code is written as an SDMX
id. Kept apart from the structure's writer so that the data, and the app's
start, do not import pysdmx."""

from __future__ import annotations

from services.measurement.domain.values import Dimension

STRUCTURE_MEDIA_TYPE = "application/vnd.sdmx.structure+xml; version=3.0.0; charset=utf-8"
AGENCY = "ILO"
VERSION = "1.0"
DATAFLOW_ID = "DF_STOCKTAKE_OBSERVATIONS"
DSD_ID = "DSD_STOCKTAKE_OBSERVATIONS"
DATAFLOW = f"{AGENCY}:{DATAFLOW_ID}({VERSION})"
TOTAL = "_T"
NOT_APPLICABLE = "_Z"
DIMENSIONS = {dimension.value: dimension.value.upper() for dimension in Dimension}


def sdmx_code(code: str) -> str:
    """A Stocktake code as an SDMX identifier: "." (which SDMX refuses) as "@" (which Stocktake refuses)."""
    return code.replace(".", "@")
