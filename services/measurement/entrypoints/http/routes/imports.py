"""Bulk import: many observations in one request, as JSON or as CSV."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile as StarletteUploadFile

from services.common.access import Permission
from services.common.errors import InvalidCommandError
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
from services.measurement.entrypoints.http.import_rows import ReadRow, csv_rows, json_rows, xlsx_rows
from services.measurement.entrypoints.http.schemas.imports import ImportCounts, ImportSummary, ObservationBatch

router = APIRouter(
    prefix="/observations/batch", tags=["observations"], dependencies=[allowed(Permission.RECORD_OBSERVATIONS)]
)

DryRun = Annotated[bool, Query(description="Check every row and say what would happen; record nothing")]
AllOrNothing = Annotated[bool, Query(description="Record nothing if any row is rejected (default: every valid row)")]
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
    return creation.respond(
        payload, lambda: _run(measurement, creation, rows, dry_run, all_or_nothing, csv=False), _revealed(rows)
    )


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_TYPES = {"text/csv": csv_rows, "application/csv": csv_rows, XLSX_TYPE: xlsx_rows}


@dataclass(frozen=True)
class Upload:
    media_type: str
    data: bytes


async def uploaded_file(request: Request) -> Upload:
    """The file, sent as the body or, as browsers send it, as the `file` part
    of a multipart/form-data body (its type then told by its name if need be)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        return Upload(media_type, await request.body())
    form = await request.form()
    part = form.get("file")
    if not isinstance(part, StarletteUploadFile):
        raise InvalidCommandError.at(("file",), "Send the sheet as the form's `file` field (a .csv or .xlsx file).")
    part_type = (part.content_type or "").split(";")[0].strip().lower()
    if part_type not in UPLOAD_TYPES:
        by_name = {".csv": "text/csv", ".xlsx": XLSX_TYPE}
        part_type = by_name.get(Path(part.filename or "").suffix.lower(), part_type)
    return Upload(part_type, await part.read())


@router.post(
    "/csv",
    response_model=ImportSummary,
    operation_id="importObservationsCsv",
    description="Record a batch of observations given as a spreadsheet file: CSV (`Content-Type: text/csv`), "
    f"or the first sheet of an XLSX workbook (`{XLSX_TYPE}`), as the body or as the `file` field of a "
    "multipart/form-data upload (as a browser sends it). Columns: benchmark, country, period, value; optionally "
    "sector, comment, evidence_title, evidence_url and `<dimension>:<category>` for disaggregated values "
    "(e.g. `sex:female`); header names in any case. A rejected row is reported with its line (CSV) or sheet "
    "and row (XLSX) and the column at fault." + BATCH_DOC,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
    responses=documented_problems(UNSUPPORTED_MEDIA_TYPE),
)
def import_csv(
    upload: Annotated[Upload, Depends(uploaded_file)],
    measurement: MeasurementDep,
    creation: CreationDep,
    dry_run: DryRun = False,
    all_or_nothing: AllOrNothing = False,
) -> JSONResponse:
    read = UPLOAD_TYPES.get(upload.media_type)
    if read is None:
        raise UnsupportedMediaTypeError(
            f"Send the file with Content-Type: text/csv or {XLSX_TYPE} (got {upload.media_type or 'none'}), or as "
            "the `file` field of a multipart/form-data upload; for JSON, POST to /observations/batch."
        )
    rows = read(upload.data)
    payload = {
        "csv_sha256": hashlib.sha256(upload.data).hexdigest(),
        "dry_run": dry_run,
        "all_or_nothing": all_or_nothing,
    }
    return creation.respond(
        payload, lambda: _run(measurement, creation, rows, dry_run, all_or_nothing, csv=True), _revealed(rows)
    )


def _revealed(rows: Sequence[ReadRow]) -> Callable[[Any], list[str]]:
    """The countries of a summary's rows that were not rejected: a replay
    of it tells of their observations."""

    def countries(summary: Any) -> list[str]:
        recorded = [rows[row["index"]].row.fields for row in summary["rows"] if row["outcome"] != "rejected"]
        return [fields["country"] for fields in recorded if fields is not None and fields.get("country")]

    return countries


def _run(
    measurement: MeasurementDep,
    creation: Creation,
    rows: Sequence[ReadRow],
    dry_run: bool,
    all_or_nothing: bool,
    csv: bool,
) -> JSONResponse:
    summary = ObservationImport(measurement, creation.principal).run([r.row for r in rows], dry_run, all_or_nothing)
    # The answer as ImportSummary dumps it (mode="json", exclude_none=True), built as such: validating and
    # dumping a thousand rows' outcomes again took more time than making them.
    answer = {
        "status": summary["status"],
        "dry_run": summary["dry_run"],
        "all_or_nothing": summary["all_or_nothing"],
        "counts": {name: summary["counts"][name] for name in ImportCounts.model_fields},
        "rows": [_outcome(result, rows[result.index], csv) for result in summary["rows"]],
        "position": summary["position"],
    }
    response = JSONResponse(answer)
    answer_at(response, summary["position"])
    return response


def _outcome(result: RowResult, read: ReadRow, csv: bool) -> dict[str, Any]:
    """A row's RowOutcome, as dumped: fields without a value left out."""
    errors: list[dict[str, Any]] = []
    for problem in result.problems:  # most rows have none
        if not csv:
            errors.append({"detail": problem.detail, "pointer": f"/observations/{result.index}{pointer(problem.path)}"})
            continue
        column = read.column(problem.path)
        errors.append({"detail": problem.detail} if column is None else {"detail": problem.detail, "column": column})
    outcome: dict[str, Any] = {"index": result.index}
    if read.line is not None:
        outcome["line"] = read.line
    if read.sheet is not None:
        outcome["sheet"] = read.sheet
    outcome["outcome"] = result.outcome.value
    if result.id is not None:
        outcome["id"] = str(result.id)
    if result.position is not None:
        outcome["position"] = result.position
    outcome["errors"] = errors
    return outcome
