"""Sign-in with an API key (exchanged for a session cookie) and sign-out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.common.errors import AuthenticationError
from services.common.http.authorization import Authenticator
from services.reporting.entrypoints.pages import csrf
from services.reporting.entrypoints.pages.deps import SessionsDep, VisitorDep, changing, page_router
from services.reporting.entrypoints.pages.session import SESSION_COOKIE, SIGN_IN_COOKIE, Sessions, end
from services.reporting.entrypoints.pages.templating import render_page

router = page_router()
Field = Annotated[str, Form()]


def _safe_next(target: str) -> str:
    """Only a path of this site: never an address elsewhere (an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _sign_in_form(request: Request, sessions: Sessions, next_path: str, error: str | None, status: int) -> Response:
    nonce = secrets.token_urlsafe(32)
    html = render_page(
        "sign_in.html.j2",
        nonce=nonce,
        next_path=_safe_next(next_path),
        error=error,
        ended=request.query_params.get("ended") == "1",
        visitor=None,
        view={},
    )
    response = HTMLResponse(html, status_code=status)
    sessions.set_cookie(request, response, SIGN_IN_COOKIE, nonce)
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, sessions: SessionsDep, next: str = "/") -> Response:
    """The sign-in form."""
    return _sign_in_form(request, sessions, next, None, 200)


@router.post("/sign-in")
def sign_in(
    request: Request, sessions: SessionsDep, api_key: Field = "", csrf_token: Field = "", next: Field = "/"
) -> Response:
    """Exchanges an API key measurement accepts for a session cookie."""
    csrf.check(request.cookies.get(SIGN_IN_COOKIE), csrf_token)
    authenticator: Authenticator = request.app.state.authenticator
    try:
        principal = authenticator.authenticate(api_key.strip())
    except AuthenticationError:
        message = "Measurement does not accept this key (mistyped, unknown or revoked). Check it and try again."
        return _sign_in_form(request, sessions, next, message, 401)
    _, cookie = sessions.open(api_key.strip(), principal.name)
    response = RedirectResponse(_safe_next(next), status_code=303)
    sessions.set_cookie(request, response, SESSION_COOKIE, cookie)
    response.delete_cookie(SIGN_IN_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.post("/sign-out")
def sign_out(visitor: VisitorDep, sessions: SessionsDep, csrf_token: Field = "") -> Response:
    """Ends the session on the server (any copy of its cookie is refused), and the browser forgets its cookie."""
    changing(visitor, csrf_token)
    if visitor.session is not None:
        sessions.close(visitor.session)
    response = RedirectResponse("/sign-in", status_code=303)
    end(response)
    return response
