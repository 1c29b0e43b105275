from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.measurement.application.imports import MAX_ROWS
from services.measurement.entrypoints.http.schemas.common import LogPosition, RequestModel


class ObservationBatch(RequestModel):
    observations: list[Any] = Field(
        min_length=1,
        max_length=MAX_ROWS,
        description=f"Up to {MAX_ROWS} observations, each as for POST /observations (`ObservationCreate`). "
        "A row is read alone: one that does not fit that schema (a missing or unknown field, a field of the "
        "wrong type, not an object) is rejected in the summary with its pointers, and the others are imported.",
        # Any JSON value: a row that does not fit is the summary's to report, not a refusal of the batch.
        json_schema_extra={"items": {}},
    )


class RowError(BaseModel):
    detail: str
    pointer: str | None = Field(None, description="JSON pointer into the request body (JSON batches)")
    column: str | None = Field(None, description="The column at fault (CSV batches)")


class RowOutcome(BaseModel):
    index: int = Field(description="The row's index in the batch, from 0")
    line: int | None = Field(
        None, description="The row's line in the CSV file, or its row in the XLSX sheet (the header is 1)"
    )
    sheet: str | None = Field(None, description="The XLSX sheet the row is on")
    outcome: Literal["imported", "already_present", "rejected", "skipped"]
    id: UUID | None = Field(None, description="The observation's id (imported or already present)")
    position: LogPosition | None = Field(None, description="The log position of the row's event, once saved")
    errors: list[RowError] = Field(default_factory=list, description="Why the row was rejected")


class ImportCounts(BaseModel):
    received: int
    imported: int = Field(description="Recorded now (or, in a dry run, that would be)")
    already_present: int = Field(description="Imported before with the same value: nothing recorded")
    rejected: int
    skipped: int = Field(description="Valid, but not recorded because the all-or-nothing batch had a rejected row")


class ImportSummary(BaseModel):
    status: Literal["OK", "WARNING", "ERROR"] = Field(
        description="OK: no row rejected; WARNING: some rejected, others imported or present; ERROR: none imported"
    )
    dry_run: bool
    all_or_nothing: bool
    counts: ImportCounts
    rows: list[RowOutcome]
    position: LogPosition
