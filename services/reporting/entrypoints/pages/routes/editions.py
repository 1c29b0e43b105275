"""Report editions as pages: the list, a new edition (programme managers),
approval, downloads in each format, and verification. The pages call the
same application as the API, with the signed-in person's key."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from services.common.access import Role
from services.reporting.application.editions import EditionRequest
from services.reporting.domain.editions import EditionKind
from services.reporting.entrypoints.pages.deps import ReportingDep, VisitorDep, answer, changing, page, page_router
from services.reporting.entrypoints.pages.once import act_once
from services.reporting.rendering import FILE_EXTENSIONS, MEDIA_TYPES, Format

router = page_router()


@page(router, "/editions")
def editions(request: Request, visitor: VisitorDep, reporting: ReportingDep) -> Response:
    """Every report edition, oldest first, and the form to make one."""
    view = {
        **reporting.list(visitor.principal, None),
        "may_manage": visitor.principal.role is Role.PROGRAMME_MANAGER,
        "kinds": [kind.value for kind in EditionKind],
        # The form's: a double click or a resubmission makes one edition.
        "idempotency_key": f"edition-{uuid.uuid4()}",
    }
    return answer(request, "editions.html.j2", view, visitor)


@router.post("/editions")
def create(
    request: Request,
    visitor: VisitorDep,
    reporting: ReportingDep,
    kind: Annotated[EditionKind, Form()],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    as_of: Annotated[date | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Makes a draft edition, once whatever the number of clicks, and shows it."""
    changing(visitor, csrf_token)

    def make() -> dict[str, Any]:
        return {"id": reporting.create(visitor.principal, visitor.token, EditionRequest(kind, as_of))["id"]}

    form = {"kind": kind.value, "as_of": None if as_of is None else as_of.isoformat()}
    made = act_once(request, visitor, idempotency_key, form, make)
    return RedirectResponse(f"/editions/{made['id']}", status_code=303)


@page(router, "/editions/{edition_id}")
def edition(request: Request, edition_id: str, visitor: VisitorDep, reporting: ReportingDep) -> Response:
    """An edition: its pins, status, downloads and approval."""
    view = {
        **reporting.get(visitor.principal, edition_id),
        "may_manage": visitor.principal.role is Role.PROGRAMME_MANAGER,
        "formats": [fmt.value for fmt in Format],
    }
    return answer(request, "edition.html.j2", view, visitor)


@router.post("/editions/{edition_id}/approval")
def approve(
    edition_id: str, visitor: VisitorDep, reporting: ReportingDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Approves a draft edition."""
    changing(visitor, csrf_token)
    reporting.approve(visitor.principal, edition_id)
    return RedirectResponse(f"/editions/{edition_id}", status_code=303)


@router.get("/editions/{edition_id}/download/{fmt}")
def download(edition_id: str, fmt: Format, visitor: VisitorDep, reporting: ReportingDep) -> Response:
    """The edition as a file to keep or send."""
    data = reporting.rendering(visitor.principal, edition_id, fmt)
    filename = f"stocktake-{edition_id}{FILE_EXTENSIONS[fmt]}"
    return Response(
        data, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@page(router, "/editions/{edition_id}/verification")
def verification(request: Request, edition_id: str, visitor: VisitorDep, reporting: ReportingDep) -> Response:
    """The edition made again from its pins: does every rendering match?"""
    view = reporting.verify(visitor.principal, visitor.token, edition_id)
    return answer(request, "verification.html.j2", view, visitor)
