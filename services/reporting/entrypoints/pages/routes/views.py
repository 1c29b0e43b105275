"""The pages that show progress: the dashboard, a critical assumption, a
country, an observation with its history. Each has a JSON twin."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Path, Request
from fastapi.responses import Response

from services.common.access import Permission
from services.reporting.entrypoints.pages.deps import PagesDep, PinDep, VisitorDep, answer, page, page_router

router = page_router()
AssumptionCode = Annotated[str, Path(pattern=r"^CA\d{1,2}$", description="CA1 ... CA10")]
Iso3 = Annotated[str, Path(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3")]


@page(router, "/")
def dashboard(request: Request, visitor: VisitorDep, pages: PagesDep, pin: PinDep) -> Response:
    """The ten critical assumptions at a glance."""
    view = pages.dashboard(visitor.token, pin)
    view["pin"] = {"as_of": request.query_params.get("as_of"), "at": pin.at, "known_at": pin.known_at}
    return answer(request, "dashboard.html.j2", view, visitor)


@page(router, "/assumptions/{code}")
def assumption(request: Request, code: AssumptionCode, visitor: VisitorDep, pages: PagesDep, pin: PinDep) -> Response:
    """A critical assumption: its benchmarks, charts, cells and observations."""
    view = pages.assumption(visitor.token, code, pin, visitor.principal.may(Permission.READ_OBSERVATIONS))
    return answer(request, "assumption.html.j2", view, visitor)


@page(router, "/countries/{iso3}")
def country(request: Request, iso3: Iso3, visitor: VisitorDep, pages: PagesDep, pin: PinDep) -> Response:
    """A country: its cells, what is missing this quarter, its recent submissions."""
    view = pages.country(visitor.token, iso3, pin, visitor.principal.may(Permission.READ_OBSERVATIONS))
    return answer(request, "country.html.j2", view, visitor)


@page(router, "/observations/{observation_id}")
def observation(request: Request, observation_id: UUID, visitor: VisitorDep, pages: PagesDep) -> Response:
    """An observation as it stands, and every event of it."""
    return answer(request, "observation.html.j2", pages.observation(visitor.token, str(observation_id)), visitor)
