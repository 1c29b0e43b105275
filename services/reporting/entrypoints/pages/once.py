"""A changing form that acts once whatever the number of clicks: the form
carries an idempotency key made with the page that shows it, and its POST is
kept under that key as the API's creating POSTs are
(services/common/http/idempotency.py). A second click that arrives while the
first is still being done waits for it and is given its answer, so the
browser, which shows the last answer, shows what the first click made."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from services.common.http.idempotency import respond_once
from services.common.idempotency import IdempotencyInFlightError, IdempotencyRecords
from services.reporting.entrypoints.pages.deps import Visitor

WAIT_SECONDS = 0.25
TRIES = 480  # two minutes, when a claim whose request never finished is given up (common/idempotency.py)


def act_once(
    request: Request, visitor: Visitor, key: str, form: dict[str, Any], act: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """What `act` answered for the first POST of `form` with `key` (run now if this is it)."""
    records: IdempotencyRecords = request.app.state.idempotency
    for _ in range(TRIES):
        try:
            response = respond_once(records, visitor.principal.name, key, request, form, lambda _: JSONResponse(act()))
        except IdempotencyInFlightError:
            time.sleep(WAIT_SECONDS)
            continue
        answer: dict[str, Any] = json.loads(bytes(response.body))
        return answer
    raise IdempotencyInFlightError(f"The first request with idempotency key {key!r} has not finished; retry shortly.")
