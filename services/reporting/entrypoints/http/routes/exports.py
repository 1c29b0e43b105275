"""Pinned exports for other systems: the Programme Implementation
contribution and the IATI activity; made, listed, read in each format and
verified."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.deps import created
from services.common.http.idempotency import CreationDep
from services.reporting.application.exports import ExportRequest
from services.reporting.domain.exports import ExportFormat, ExportKind
from services.reporting.entrypoints.http.deps import CallerDep, ExportsDep, needs, rendering_response, serves_renderings
from services.reporting.entrypoints.http.export_schemas import (
    ExportCreate,
    ExportList,
    ExportPublic,
    ExportVerification,
)
from services.reporting.rendering.exports import MEDIA_TYPES

router = APIRouter(prefix="/exports", tags=["exports"])
MANAGE, READ, VERIFY = Permission.MANAGE_REPORTS, Permission.READ_REPORTS, Permission.VERIFY_REPORTS


@router.post("", status_code=201, response_model=ExportPublic, operation_id="createExport", **needs(MANAGE))
def create_export(body: ExportCreate, caller: CallerDep, exports: ExportsDep, creation: CreationDep) -> JSONResponse:
    """Make a new export, pinned to its valid date and log position (the head when not given)."""
    request = ExportRequest(body.kind, body.biennium, body.as_of, body.known_at)

    def make() -> JSONResponse:
        export = exports.create(caller.principal, caller.token, request)
        return created(ExportPublic, export, f"/exports/{export['id']}")

    return creation.respond(body, make)


@router.get("", response_model=ExportList, operation_id="listExports", **needs(READ))
def list_exports(caller: CallerDep, exports: ExportsDep, kind: ExportKind | None = None) -> dict[str, Any]:
    """Every export (of one kind, if given), oldest first."""
    return exports.list(caller.principal, kind)


@router.get("/{export_id}", response_model=ExportPublic, operation_id="getExport", **needs(READ))
def get_export(export_id: str, caller: CallerDep, exports: ExportsDep) -> dict[str, Any]:
    """An export's pins, its formats and the SHA-256 of each rendering."""
    return exports.get(caller.principal, export_id)


@router.get(
    "/{export_id}/renderings/{fmt}",
    operation_id="getExportRendering",
    response_class=Response,
    **serves_renderings(MEDIA_TYPES.values()),
)
def get_rendering(export_id: str, fmt: ExportFormat, caller: CallerDep, exports: ExportsDep) -> Response:
    """The export as JSON, CSV or XLSX (a contribution), or XML or JSON (an IATI activity); a country
    office's key gets its own countries' cells of a contribution."""
    export, data = exports.rendering(caller.principal, export_id, fmt)
    filename = f"stocktake-{export.kind}-{export_id}.{fmt}"
    return rendering_response(data, MEDIA_TYPES[fmt], filename)


@router.get(
    "/{export_id}/verification", response_model=ExportVerification, operation_id="verifyExport", **needs(VERIFY)
)
def verify_export(export_id: str, caller: CallerDep, exports: ExportsDep) -> dict[str, Any]:
    """Make the export again from its pins and compare each rendering's SHA-256 with the stored one."""
    return exports.verify(caller.principal, caller.token, export_id)
