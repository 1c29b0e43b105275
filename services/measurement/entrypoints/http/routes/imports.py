"""Bulk import: many observations in one request, as JSON or as CSV."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at
from services.common.http.idempotency import Creation, CreationDep
from services.common.http.problems import (
    UNSUPPORTED_MEDIA_TYPE,
    UnsupportedMediaTypeError,
    documented_problems,
    pointer,
)
from services.measurement.application.imports import MAX_ROWS, ObservationImport, RowResult
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.import_rows import ReadRow, csv_rows, json_rows
from services.measurement.entrypoints.http.schemas.imports import ImportSummary, ObservationBatch

router = APIRouter(
    prefix="/observations/batch", tags=["observations"], dependencies=[allowed(Permission.RECORD_OBSERVATIONS)]
)

DryRun = Annotated[bool, Query(description="Check every row and say what would happen; record nothing")]
AllOrNothing = Annotated[bool, Query(description="Record nothing if any row is rejected (default: every valid row)")]
CSV_TYPES = ("text/csv", "application/csv")
BATCH_DOC = f"""

Up to {MAX_ROWS} rows. Every valid row is recorded (in one transaction) and every invalid one is
reported with its index, field and reason; with `all_or_nothing=true` one rejected row stops the
batch. A row sent again (same principal, benchmark, country, sector and period, same value) is
`already_present`: a retried batch never duplicates anything. Answers 200 with the summary
whenever the batch could be read."""


@router.post(
    "",
    response_model=ImportSummary,
    operation_id="importObservations",
    description="Record a batch of observations given as JSON." + BATCH_DOC,
)
def import_json(
    body: ObservationBatch,
    measurement: MeasurementDep,
    creation: CreationDep,
    dry_run: DryRun = False,
    all_or_nothing: AllOrNothing = False,
) -> JSONResponse:
    payload = {"observations": body.observations, "dry_run": dry_run, "all_or_nothing": all_or_nothing}
    rows = json_rows(body.observations)
    return creation.respond(payload, lambda: _run(measurement, creation, rows, dry_run, all_or_nothing, csv=False))


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/csv",
    response_model=ImportSummary,
    operation_id="importObservationsCsv",
    description="Record a batch of observations given as a CSV file (`Content-Type: text/csv`): "
    "columns benchmark, country, period, value; optionally sector, comment, evidence_title, "
    "evidence_url and `<dimension>:<category>` for disaggregated values (e.g. `sex:female`)." + BATCH_DOC,
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    responses=documented_problems(UNSUPPORTED_MEDIA_TYPE),
)
def import_csv(
    data: Annotated[bytes, Depends(raw_body)],
    measurement: MeasurementDep,
    creation: CreationDep,
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
    dry_run: DryRun = False,
    all_or_nothing: AllOrNothing = False,
) -> JSONResponse:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in CSV_TYPES:
        raise UnsupportedMediaTypeError(
            f"Send the file with Content-Type: text/csv (got {media_type or 'none'}); "
            "for JSON, POST to /observations/batch."
        )
    rows = csv_rows(data)
    payload = {"csv_sha256": hashlib.sha256(data).hexdigest(), "dry_run": dry_run, "all_or_nothing": all_or_nothing}
    return creation.respond(payload, lambda: _run(measurement, creation, rows, dry_run, all_or_nothing, csv=True))


def _run(
    measurement: MeasurementDep,
    creation: Creation,
    rows: Sequence[ReadRow],
    dry_run: bool,
    all_or_nothing: bool,
    csv: bool,
) -> JSONResponse:
    summary = ObservationImport(measurement, creation.principal).run([r.row for r in rows], dry_run, all_or_nothing)
    summary["rows"] = [_outcome(result, rows[result.index], csv) for result in summary["rows"]]
    response = JSONResponse(ImportSummary.model_validate(summary).model_dump(mode="json", exclude_none=True))
    answer_at(response, summary["position"])
    return response


def _outcome(result: RowResult, read: ReadRow, csv: bool) -> dict[str, Any]:
    errors = [
        {"detail": problem.detail, "column": read.column(problem.path)}
        if csv
        else {"detail": problem.detail, "pointer": f"/observations/{result.index}{pointer(problem.path)}"}
        for problem in result.problems
    ]
    return {
        "index": result.index,
        "line": read.line,
        "outcome": result.outcome.value,
        "id": result.id,
        "position": result.position,
        "errors": errors,
    }
