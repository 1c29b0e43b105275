"""Who is looking at a page, and how the page is answered (HTML, or its
JSON twin at the same address with `.json` or `?format=json`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from services.common.access import Principal
from services.common.errors import AuthenticationError
from services.common.http.authorization import Authenticator, bearer
from services.reporting.application.editions import Reporting
from services.reporting.application.exports import ExportsService
from services.reporting.application.pages import Pages, Pin
from services.reporting.entrypoints.pages import csrf
from services.reporting.entrypoints.pages.session import SESSION_COOKIE, Session, Sessions
from services.reporting.entrypoints.pages.templating import render_page


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or request.query_params.get("format") == "json"


def mark_page(request: Request) -> None:
    """Marks the request as a page's, so its errors are shown as a page
    (html_problems.py) unless the JSON twin was asked for."""
    request.state.page_html = not wants_json(request)


def get_sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def get_reporting(request: Request) -> Reporting:
    reporting: Reporting = request.app.state.reporting
    return reporting


def get_exports(request: Request) -> ExportsService:
    exports: ExportsService = request.app.state.exports
    return exports


@dataclass(frozen=True)
class Visitor:
    principal: Principal
    token: str
    session: Session | None  # None for a JSON twin read with a bearer key

    @property
    def csrf(self) -> str | None:
        return None if self.session is None else self.session.csrf


def get_visitor(
    request: Request,
    sessions: Annotated[Sessions, Depends(get_sessions)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Visitor:
    """The signed-in person (or a bearer key's holder), as measurement
    knows the key now: a revoked key is a 401 here, which ends the session."""
    session = sessions.read(request.cookies.get(SESSION_COOKIE))
    token = credentials.credentials if credentials is not None else None if session is None else session.token
    if token is None:
        raise AuthenticationError("Sign in with your API key to see this page.")
    authenticator: Authenticator = request.app.state.authenticator
    return Visitor(authenticator.authenticate(token), token, session if credentials is None else None)


VisitorDep = Annotated[Visitor, Depends(get_visitor)]
PagesDep = Annotated[Pages, Depends(get_pages)]
ReportingDep = Annotated[Reporting, Depends(get_reporting)]
ExportsDep = Annotated[ExportsService, Depends(get_exports)]
SessionsDep = Annotated[Sessions, Depends(get_sessions)]


def changing(visitor: VisitorDep, sent: str | None) -> Visitor:
    """The visitor of a form that changes something, once its CSRF token is
    checked (a bearer key's holder has no session and no form to forge)."""
    if visitor.session is not None:
        csrf.check(visitor.session.csrf, sent)
    return visitor


def pin(
    as_of: Annotated[date | None, Query(description="The valid date (default: today)")] = None,
    at: Annotated[int | None, Query(ge=0, description="As known at this log position")] = None,
    known_at: Annotated[str | None, Query(max_length=40, description="As known at this recorded time")] = None,
) -> Pin:
    # An empty field of the date picker's form means "not given".
    return Pin(as_of, at, known_at or None)


PinDep = Annotated[Pin, Depends(pin)]


def answer(
    request: Request, template: str, view: dict[str, Any], visitor: Visitor | None, status: int = 200
) -> Response:
    """The page, or its JSON twin: the same view either way."""
    if wants_json(request):
        return JSONResponse(view, status_code=status)
    html = render_page(template, view=view, visitor=visitor, request=request)
    return HTMLResponse(html, status_code=status)


def page_router() -> APIRouter:
    return APIRouter(include_in_schema=False, dependencies=[Depends(mark_page)])


def page(router: APIRouter, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A GET page at `path` and its JSON twin at `path.json` (`/.json` for `/`)."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.get("/.json" if path == "/" else f"{path}.json")(endpoint)
        router.get(path)(endpoint)
        return endpoint

    return register
