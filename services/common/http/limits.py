"""A ceiling on request bodies, enforced while they arrive (a declared
Content-Length over it is refused at once; a chunked body is refused as soon
as it passes it), so that no request makes the service hold more than it."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.http.problems import PROBLEM_JSON

MAX_BODY_BYTES = 1_048_576
# A batch import may send up to MAX_ROWS observations: it gets more room.
MAX_BATCH_BODY_BYTES = 8 * MAX_BODY_BYTES
LARGER_BODIES = {"/observations/batch": MAX_BATCH_BODY_BYTES, "/observations/batch/csv": MAX_BATCH_BODY_BYTES}


def _problem(path: str, limit: int) -> bytes:
    return json.dumps(
        {
            "type": "/problems/body-too-large",
            "title": "The request body is too large",
            "status": 413,
            "detail": f"A request body to {path} may hold at most {limit} bytes; send less (split a batch).",
            "instance": path,
        }
    ).encode()


class BodySizeLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = LARGER_BODIES if larger is None else larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.limit)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        # Read the body here, never more than the limit, then hand it on whole.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(scope, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = _problem(scope.get("path", ""), limit)
        headers: list[Any] = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(chunks: list[bytes], last: Message | None, receive_more: Receive) -> Receive:
    """A receive channel giving what was read (the body as one message, or
    `last`), then what the client sends next (a disconnect)."""
    pending: list[Message] = []
    if last is None:
        pending.append({"type": "http.request", "body": b"".join(chunks), "more_body": False})
    else:
        pending.append(last)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await receive_more()

    return receive
