"""The pages' security headers. The pages need no script and no inline
style (templates and charts use the stylesheet only), so their
Content-Security-Policy lets the browser load and run nothing but this
host's files: an injected script or style would not run even if escaping
failed somewhere. The pages may not be framed (clickjacking), their media
types are not guessed, and no address is sent to another site."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class PageSecurityHeaders:
    """Adds PAGE_HEADERS to the answers of the pages' routes (deps.mark_page),
    their JSON twins and error pages included; a header already set is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and "page_html" in scope.get("state", {}):
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
