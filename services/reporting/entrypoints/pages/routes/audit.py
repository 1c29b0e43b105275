"""Audit: the log's latest signed checkpoint, and the proof that an
observation's events are in the log."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import Response

from services.reporting.entrypoints.pages.deps import PagesDep, VisitorDep, answer, page, page_router

router = page_router()


@page(router, "/audit")
def audit(
    request: Request,
    visitor: VisitorDep,
    pages: PagesDep,
    observation: Annotated[UUID | None, Query(description="An observation to prove")] = None,
) -> Response:
    """The latest checkpoint, and (given an observation) each of its events proven to be in the log."""
    view = {
        "checkpoint": pages.checkpoint(visitor.token),
        "proof": None if observation is None else pages.prove(visitor.token, str(observation)),
    }
    return answer(request, "audit.html.j2", view, visitor)
