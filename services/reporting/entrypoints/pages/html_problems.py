"""A page's errors, shown as a page. problems.py makes every error an RFC
9457 problem; for a request marked as a page's (deps.mark_page) this
middleware shows that same problem to a person: a readable error page with
the same status, or, for a 401 (no session, an expired one, or a key
measurement no longer accepts), the sign-in page, with the session cookie
removed. The JSON twins keep the problem as it was."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.http.problems import PROBLEM_JSON
from services.reporting.entrypoints.pages.session import end
from services.reporting.entrypoints.pages.templating import render_page


class ProblemPages:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_problems(message: Message) -> None:
            if held or (message["type"] == "http.response.start" and _is_page_problem(scope, message)):
                held.append(message)
                if not message.get("more_body", False) and message["type"] == "http.response.body":
                    await _as_page(scope, held)(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, hold_problems)


def _is_page_problem(scope: Scope, start: Message) -> bool:
    headers = MutableHeaders(raw=list(start.get("headers", [])))
    is_problem = headers.get("content-type", "").startswith(PROBLEM_JSON)
    return is_problem and bool(scope.get("state", {}).get("page_html"))


def _as_page(scope: Scope, held: list[Message]) -> Response:
    status = int(held[0]["status"])
    body = b"".join(message.get("body", b"") for message in held[1:])
    try:
        problem: dict[str, Any] = json.loads(body)
    except ValueError:
        problem = {"title": "Error", "detail": body.decode(errors="replace")}
    if status == 401:
        path = str(scope.get("path", "/"))
        response: Response = RedirectResponse(f"/sign-in?next={quote(path)}&ended=1", status_code=303)
        end(response)
        return response
    html = render_page("error.html.j2", problem=problem, status=status, visitor=None, view={})
    return HTMLResponse(html, status_code=status)
