"""Report editions: made, listed, read in each format, approved, deleted
(drafts only), verified and compared."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.deps import created
from services.common.http.idempotency import CreationDep
from services.reporting.application.editions import EditionRequest
from services.reporting.domain.editions import EditionKind
from services.reporting.entrypoints.http.deps import (
    CallerDep,
    ReportingDep,
    needs,
    rendering_response,
    serves_renderings,
)
from services.reporting.entrypoints.http.schemas import (
    EditionCreate,
    EditionDiff,
    EditionList,
    EditionPublic,
    Verification,
)
from services.reporting.rendering import FILE_EXTENSIONS, MEDIA_TYPES, Format

router = APIRouter(prefix="/reports", tags=["reports"])
MANAGE, READ, VERIFY = Permission.MANAGE_REPORTS, Permission.READ_REPORTS, Permission.VERIFY_REPORTS


@router.post("", status_code=201, response_model=EditionPublic, operation_id="createEdition", **needs(MANAGE))
def create_edition(
    body: EditionCreate, caller: CallerDep, reporting: ReportingDep, creation: CreationDep
) -> JSONResponse:
    """Make a new draft edition, pinned to its valid date and log position (the head when not given)."""
    request = EditionRequest(
        body.kind, body.as_of, body.known_at, None if body.supersedes is None else str(body.supersedes)
    )

    def make() -> JSONResponse:
        edition = reporting.create(caller.principal, caller.token, request)
        return created(EditionPublic, edition, f"/reports/{edition['id']}")

    return creation.respond(body, make)


@router.get("", response_model=EditionList, operation_id="listEditions", **needs(READ))
def list_editions(caller: CallerDep, reporting: ReportingDep, kind: EditionKind | None = None) -> dict[str, Any]:
    """Every edition (of one kind, if given), oldest first."""
    return reporting.list(caller.principal, kind)


@router.get("/{edition_id}", response_model=EditionPublic, operation_id="getEdition", **needs(READ))
def get_edition(edition_id: str, caller: CallerDep, reporting: ReportingDep) -> dict[str, Any]:
    """An edition's pins, status and the SHA-256 of each rendering."""
    return reporting.get(caller.principal, edition_id)


@router.get(
    "/{edition_id}/renderings/{fmt}",
    operation_id="getEditionRendering",
    response_class=Response,
    **serves_renderings(MEDIA_TYPES.values()),
)
def get_rendering(edition_id: str, fmt: Format, caller: CallerDep, reporting: ReportingDep) -> Response:
    """The edition as JSON, HTML, CSV or XLSX (a country office's key gets its own countries' cells)."""
    data = reporting.rendering(caller.principal, edition_id, fmt)
    filename = f"stocktake-{edition_id}{FILE_EXTENSIONS[fmt]}"
    return rendering_response(data, MEDIA_TYPES[fmt], filename)


@router.post("/{edition_id}/approval", response_model=EditionPublic, operation_id="approveEdition", **needs(MANAGE))
def approve_edition(edition_id: str, caller: CallerDep, reporting: ReportingDep) -> dict[str, Any]:
    """Approve a draft edition (who and when are recorded); it can no longer be deleted."""
    return reporting.approve(caller.principal, edition_id)


@router.delete("/{edition_id}", status_code=204, operation_id="deleteEdition", **needs(MANAGE))
def delete_edition(edition_id: str, caller: CallerDep, reporting: ReportingDep) -> Response:
    """Delete a draft edition; an approved edition is never deleted (409)."""
    reporting.delete(caller.principal, edition_id)
    return Response(status_code=204)


@router.get("/{edition_id}/verification", response_model=Verification, operation_id="verifyEdition", **needs(VERIFY))
def verify_edition(edition_id: str, caller: CallerDep, reporting: ReportingDep) -> dict[str, Any]:
    """Make the edition again from its pins and compare each rendering's SHA-256 with the stored one."""
    return reporting.verify(caller.principal, caller.token, edition_id)


@router.get("/{edition_id}/diff", response_model=EditionDiff, operation_id="diffEditions", **needs(READ))
def diff_editions(
    edition_id: str,
    caller: CallerDep,
    reporting: ReportingDep,
    against: Annotated[str, Query(max_length=36, description="The edition to compare with (before)")],
) -> dict[str, Any]:
    """Per critical assumption, benchmark and cell, what differs from edition `against` (before) to this one."""
    return reporting.compare(caller.principal, edition_id, against)
