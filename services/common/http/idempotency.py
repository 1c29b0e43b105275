"""Idempotency-Key on creating POSTs (see adapters/idempotency.py).

A retry with the same key and the same payload returns the original status,
body and headers (with `Idempotent-Replayed: true`) and records nothing; the
same key with another payload is a 422; a retry while the first request is
still running is a 409. Only successful answers are kept: a refused request
frees its key, and its retry is checked anew.

`Creation.respond_keeping` serves a request whose work is one write
transaction: its record is kept in that transaction (no claim before it, no
completion after it), and a request that finds the key taken is answered as
`respond_naming` answers a retry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Connection

from services.common.access import Permission, Principal
from services.common.http.authorization import AllowedKey, get_principal
from services.common.idempotency import (
    Claimed,
    IdempotencyInFlightError,
    IdempotencyKeyReusedError,
    IdempotencyKeyTakenError,
    IdempotencyRecords,
    InFlight,
    Mismatch,
    Replay,
)

KEPT_HEADERS = ("Location", "ETag", "Stocktake-Log-Position")
# An answer as a key's record keeps it: status, body (JSON values) and the headers of KEPT_HEADERS it has.
KeptAnswer = tuple[int, Any, dict[str, str]]
# Called inside the write transaction with the answer it will give, to keep that answer with the work.
KeepAnswer = Callable[[Connection, KeptAnswer], None]


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
        description="Makes a retry safe: the same key and payload give the first answer again (kept 24 h)",
    ),
]


@dataclass(frozen=True)
class Creation:
    """A creating POST: who sends it, with which Idempotency-Key."""

    records: IdempotencyRecords
    principal: Principal
    key: str | None
    request: Request

    def respond(
        self,
        body: BaseModel | dict[str, Any],
        run: Callable[[], JSONResponse],
        reveals: Callable[[Any], Iterable[str]] | None = None,
    ) -> JSONResponse:
        """`reveals`: the countries an answer tells of (a batch summary's
        recorded rows), which the key a replay is given to must be able to read."""
        if reveals is None:
            return self.respond_naming(body, lambda _: run())

        def check_may_see(answer: Any) -> None:
            self._check_may_see(answer)
            if self.principal.countries:
                for country in reveals(answer):
                    self.principal.check_may_read(country)

        return respond_once(
            self.records, self.principal.name, self.key, self.request, body, lambda _: run(), check_may_see
        )

    def respond_naming(
        self, body: BaseModel | dict[str, Any], run: Callable[[str | None], JSONResponse]
    ) -> JSONResponse:
        """As `respond`, giving `run` a name for this request that a retry of it
        shares and no other request has (None without a key): what a record's
        id can be derived from."""
        return respond_once(self.records, self.principal.name, self.key, self.request, body, run, self._check_may_see)

    def respond_keeping(
        self, body: BaseModel | dict[str, Any], run: Callable[[str | None, KeepAnswer | None], JSONResponse]
    ) -> JSONResponse:
        """As `respond_naming`, for a request whose work is one write
        transaction: `run` calls `keep` (when given) inside it with the answer
        it will give (status, JSON body and headers, as the response it returns
        has them), so that the key's record commits with the work."""
        return respond_keeping(
            self.records, self.principal.name, self.key, self.request, body, run, self._check_may_see
        )

    def _check_may_see(self, answer: Any) -> None:
        """Keys are the principal's, but a country office's key acts for its
        own countries only: another key of the office may not be shown an
        observation of a country outside its own."""
        if isinstance(answer, dict) and isinstance(answer.get("country"), str) and self.principal.countries:
            self.principal.check_may_read(answer["country"])


async def get_creation(  # async: no I/O here, so no hop to a worker thread
    request: Request, principal: Annotated[Principal, Depends(get_principal)], idempotency_key: IdempotencyKey = None
) -> Creation:
    return Creation(request.app.state.idempotency, principal, idempotency_key, request)


CreationDep = Annotated[Creation, Depends(get_creation)]


def creation_allowed(permission: Permission) -> Any:
    """`CreationDep` of a caller `allowed(permission)`, as two dependencies
    rather than six (see `AllowedKey`): the key is checked before the
    Idempotency-Key header, as there."""
    allowed_key = Depends(AllowedKey(permission))  # a default, as an annotation here could not name it

    async def get_allowed_creation(  # async: no I/O here, so no hop to a worker thread
        request: Request, principal: Principal = allowed_key, idempotency_key: IdempotencyKey = None
    ) -> Creation:
        return Creation(request.app.state.idempotency, principal, idempotency_key, request)

    return Depends(get_allowed_creation)


def fingerprint(method: str, path: str, body: BaseModel | dict[str, Any]) -> str:
    """What "the same payload" means: the same operation and the same parsed
    body (or, for a body that is not one model, what stands for it)."""
    content = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    payload = {"method": method, "path": path, "body": content}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def request_name(principal: str, key: str, generation: datetime) -> str:
    """What names one request sent with an Idempotency-Key (and its retries)."""
    return f"{principal}\n{key}\n{generation.astimezone(UTC).isoformat()}"


def _kept_answer(response: JSONResponse) -> KeptAnswer:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    return response.status_code, json.loads(bytes(response.body)), headers


def respond_keeping(
    records: IdempotencyRecords,
    principal: str,
    key: str | None,
    request: Request,
    body: BaseModel | dict[str, Any],
    run: Callable[[str | None, KeepAnswer | None], JSONResponse],
    check_may_see: Callable[[Any], None] = lambda answer: None,
) -> JSONResponse:
    """Runs `run` once per (principal, key, payload). A first request keeps its
    answer in its own write transaction (one commit in all: a process stopped
    at any moment leaves the work and its record, or neither); a request that
    finds the key taken, or fails while the key has a record, is answered by
    `respond_once` as a retry (replayed, 409 in flight, 422 reused)."""
    if key is None:
        return run(None, None)
    request_fingerprint = fingerprint(request.method, request.url.path, body)
    generation = datetime.now(UTC)
    records.purge_if_due(generation)
    kept: list[bool] = []

    def keep(connection: Connection, answer: KeptAnswer) -> None:
        records.keep(connection, principal, key, request_fingerprint, generation, answer)
        kept.append(True)

    try:
        response = run(request_name(principal, key, generation), keep)
        if not kept:  # `run` answered without writing (nothing to keep it with): kept on its own
            with records.database.transaction() as connection:
                keep(connection, _kept_answer(response))
        return response
    except IdempotencyKeyTakenError:
        pass  # another request had the key first: this one is its retry
    except Exception:
        # Refused, say: but a retry whose first attempt succeeded gets that answer, whatever this one met.
        if not records.has_record(principal, key):
            raise
    return respond_once(records, principal, key, request, body, lambda name: run(name, None), check_may_see)


def respond_once(
    records: IdempotencyRecords,
    principal: str,
    key: str | None,
    request: Request,
    body: BaseModel | dict[str, Any],
    run: Callable[[str | None], JSONResponse],
    check_may_see: Callable[[Any], None] = lambda answer: None,
) -> JSONResponse:
    """Runs `run` once per (principal, key, payload), giving it the name of the request."""
    if key is None:
        return run(None)
    claim = records.claim(principal, key, fingerprint(request.method, request.url.path, body))
    if isinstance(claim, Replay):
        check_may_see(claim.body)
        return JSONResponse(
            claim.body, status_code=claim.status, headers={**claim.headers, "Idempotent-Replayed": "true"}
        )
    if isinstance(claim, InFlight):
        raise IdempotencyInFlightError(
            f"A request with Idempotency-Key {key!r} is still being processed; retry shortly."
        )
    if isinstance(claim, Mismatch):
        raise IdempotencyKeyReusedError(
            f"Idempotency-Key {key!r} was used for another request; use a new key for a new request."
        )
    assert isinstance(claim, Claimed)
    try:
        response = run(request_name(principal, key, claim.generation))
    except BaseException:
        records.release(principal, key)
        raise
    records.complete(principal, key, *_kept_answer(response))
    return response
