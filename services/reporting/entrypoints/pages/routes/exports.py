"""Exports as pages: the list, a new export (programme managers), and
downloads in each format. The pages call the same application as the API,
with the signed-in person's key."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from services.common.access import Permission, Role
from services.reporting.application.exports import ExportRequest
from services.reporting.domain.exports import ExportFormat, ExportKind
from services.reporting.entrypoints.pages.deps import ExportsDep, VisitorDep, answer, changing, page, page_router
from services.reporting.entrypoints.pages.once import act_once
from services.reporting.rendering.exports import MEDIA_TYPES

router = page_router()


@page(router, "/export-files")
def exports_page(request: Request, visitor: VisitorDep, exports: ExportsDep) -> Response:
    """Every export, oldest first, and the form to make one."""
    may_manage = visitor.principal.role is Role.PROGRAMME_MANAGER
    view = {
        **exports.list(visitor.principal, None),
        "may_manage": may_manage,
        # The form to download measurement's exports of observations (observation_files.py).
        "may_read_observations": visitor.principal.may(Permission.READ_OBSERVATIONS),
        "kinds": [kind.value for kind in ExportKind],
        "bienniums": exports.bienniums(visitor.token) if may_manage else [],
        # The form's: a double click or a resubmission makes one export.
        "idempotency_key": f"export-{uuid.uuid4()}",
    }
    return answer(request, "exports.html.j2", view, visitor)


@router.post("/export-files")
def create(
    request: Request,
    visitor: VisitorDep,
    exports: ExportsDep,
    kind: Annotated[ExportKind, Form()],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    biennium: Annotated[str | None, Form(max_length=16)] = None,
    as_of: Annotated[date | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Makes an export, once whatever the number of clicks, and shows it."""
    changing(visitor, csrf_token)
    # The form sends its biennium field with either kind; it is the contribution's.
    chosen = (biennium or None) if kind is ExportKind.PI_CONTRIBUTION else None

    def make() -> dict[str, Any]:
        request_ = ExportRequest(kind, chosen, as_of)
        return {"id": exports.create(visitor.principal, visitor.token, request_)["id"]}

    form = {"kind": kind.value, "biennium": chosen, "as_of": None if as_of is None else as_of.isoformat()}
    made = act_once(request, visitor, idempotency_key, form, make)
    return RedirectResponse(f"/export-files/{made['id']}", status_code=303)


@page(router, "/export-files/{export_id}")
def export_page(request: Request, export_id: str, visitor: VisitorDep, exports: ExportsDep) -> Response:
    """An export: its pins and downloads."""
    return answer(request, "export.html.j2", exports.get(visitor.principal, export_id), visitor)


@router.get("/export-files/{export_id}/download/{fmt}")
def download(export_id: str, fmt: ExportFormat, visitor: VisitorDep, exports: ExportsDep) -> Response:
    """The export as a file to keep or send."""
    export, data = exports.rendering(visitor.principal, export_id, fmt)
    filename = f"stocktake-{export.kind}-{export_id}.{fmt}"
    return Response(
        data, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
