"""Upload: a CSV or XLSX file -> a preview from measurement's dry run, each
row's outcome and errors at their row and column -> confirm. The confirm
form carries the idempotency key made with the preview, so a double click or
a resubmission records once."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response

from services.common.access import Permission
from services.common.errors import InvalidCommandError
from services.reporting.application.pages import xlsx_to_csv
from services.reporting.entrypoints.pages.deps import PagesDep, VisitorDep, answer, changing, page, page_router

router = page_router()
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # measurement's ceiling for a batch
XLSX_MAGIC = b"PK\x03\x04"  # an XLSX file is a ZIP archive


@page(router, "/upload")
def upload_form(request: Request, visitor: VisitorDep) -> Response:
    """The upload form (for a key that may record observations)."""
    view = {"may_record": visitor.principal.may(Permission.RECORD_OBSERVATIONS)}
    return answer(request, "upload.html.j2", view, visitor)


def _read_file(file: UploadFile) -> bytes:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidCommandError.at(("file",), f"The file is larger than {MAX_UPLOAD_BYTES} bytes; split it.")
    if not data:
        raise InvalidCommandError.at(("file",), "Choose a CSV or XLSX file to upload; this one is empty.")
    name = (file.filename or "").lower()
    return xlsx_to_csv(data) if name.endswith(".xlsx") or data.startswith(XLSX_MAGIC) else data


@router.post("/upload")
def preview(
    request: Request,
    visitor: VisitorDep,
    pages: PagesDep,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The file checked by a dry run: nothing is recorded yet."""
    changing(visitor, csrf_token)
    visitor.principal.check_may(Permission.RECORD_OBSERVATIONS)
    data = _read_file(file)
    view = pages.preview(visitor.token, data)
    return answer(request, "preview.html.j2", {**view, "filename": file.filename}, visitor)


@router.post("/upload/confirm")
def confirm(
    request: Request,
    visitor: VisitorDep,
    pages: PagesDep,
    csv_text: Annotated[str, Form(max_length=MAX_UPLOAD_BYTES)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Records the previewed file, once, whatever the number of clicks."""
    changing(visitor, csrf_token)
    visitor.principal.check_may(Permission.RECORD_OBSERVATIONS)
    view = pages.confirm(visitor.token, csv_text.encode(), idempotency_key)
    return answer(request, "confirmed.html.j2", view, visitor)
