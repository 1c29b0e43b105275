"""The measurement service, over HTTP only (never its tables or its modules).

Every call carries the CALLER's own bearer key, so the reporting service
never sees more than its caller may: measurement decides, by that key, what
to answer. Measurement's problems are translated faithfully (same status,
same detail, same fields); a measurement that does not answer, or fails, is
a ServiceUnavailableError (503)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from services.common.access import Principal, Role
from services.common.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    FieldProblem,
    ForbiddenError,
    InvalidCommandError,
    NotFoundError,
    ServiceUnavailableError,
)

# Which of our errors a problem of measurement's is; anything else (a 5xx)
# means measurement could not answer.
IN_FLIGHT = "/problems/idempotency-request-in-progress"
IN_FLIGHT_RETRIES = 30  # a second apart: a batch of 5000 rows takes a few seconds at most

_ERRORS: dict[int, type[DomainError]] = {
    400: InvalidCommandError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidCommandError,
}


def _field_problems(problem: dict[str, Any]) -> list[FieldProblem]:
    found = []
    for error in problem.get("errors") or []:
        if error.get("parameter"):
            found.append(FieldProblem((str(error["parameter"]),), str(error["detail"]), "query"))
        elif error.get("pointer") is not None:
            path = tuple(part for part in str(error["pointer"]).split("/")[1:])
            found.append(FieldProblem(path, str(error["detail"])))
    return found


def translated(response: httpx.Response) -> Exception:
    """The error that says to our caller what measurement said to us."""
    try:
        problem: dict[str, Any] = response.json()
        detail = str(problem["detail"])
    except (ValueError, KeyError, TypeError):
        problem, detail = {}, response.text[:300] or response.reason_phrase
    if response.status_code == 401:
        return AuthenticationError(detail)
    error = _ERRORS.get(response.status_code)
    if error is None:
        return ServiceUnavailableError(
            f"The measurement service answered {response.status_code} ({detail}); nothing was done, retry shortly."
        )
    return error(detail, _field_problems(problem))


class MeasurementClient:
    """A measurement service at `base_url`. `transport`: for tests that
    bind the client to an app in the same process (the end-to-end tests use
    a real server instead)."""

    def __init__(self, base_url: str, timeout: float = 120.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _get(self, token: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = self._http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError as error:
            raise ServiceUnavailableError(
                f"The measurement service at {self.base_url} did not answer ({type(error).__name__}); "
                "nothing was done, retry shortly."
            ) from None
        if response.status_code != 200:
            raise translated(response)
        answer: dict[str, Any] = response.json()
        return answer

    def health(self) -> int | None:
        """The measurement log's head if measurement answers its health check (no key needed), else None."""
        try:
            response = self._http.get("/health", timeout=5.0)
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        position = response.json().get("position")
        return position if isinstance(position, int) else None

    def known(self, token: str) -> Principal | None:
        """Nothing is known without asking measurement: a key's rights are measurement's to say, each time."""
        return None

    def authenticate(self, token: str) -> Principal:
        """Who holds `token`, as measurement knows it (`GET /me`); the
        Authenticator of the reporting app."""
        me = self._get(token, "/me")
        try:
            role = Role(me["role"])
        except ValueError:
            raise ForbiddenError(
                f"The measurement service says this key's role is {me['role']!r}, which reporting does not know."
            ) from None
        return Principal(str(me["principal"]), role, frozenset(me["countries"]))

    def framework(self, token: str, at: int) -> dict[str, Any]:
        """The programme framework as known at log position `at`."""
        return self._get(token, "/framework", {"at": at})

    def report(self, token: str, as_of: date, at: int | None, series: bool) -> dict[str, Any]:
        """Every benchmark's definition, state and values in force at
        `as_of` as known at `at` (the head when None): one call."""
        params: dict[str, Any] = {"as_of": as_of.isoformat(), "series": str(series).lower()}
        if at is not None:
            params["at"] = at
        return self._get(token, "/progress/report", params)

    def workplan(self, token: str, as_of: date, at: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The workplan's deliverables (planned vs delivered) and the
        roadmap's milestones (met or missed) at `as_of` as known at `at`."""
        params = {"as_of": as_of.isoformat(), "at": at}
        return self._get(token, "/workplan/deliverables", params), self._get(token, "/workplan/milestones", params)

    def checkpoint(self, token: str, size: int) -> dict[str, Any]:
        """The log's signed checkpoint of the tree of `size` events:
        `{origin, size, root_hash, note}` (needs read:checkpoints)."""
        return self.read(token, "/transparency/checkpoint", {"size": size})

    def _send(self, method: str, token: str, path: str, stream: bool = False, **options: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **options.pop("headers", {})}
        try:
            return self._http.send(self._http.build_request(method, path, headers=headers, **options), stream=stream)
        except httpx.TransportError as error:
            raise ServiceUnavailableError(
                f"The measurement service at {self.base_url} did not answer ({type(error).__name__}); "
                "nothing was done, retry shortly."
            ) from None

    def read(self, token: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Any read of measurement's API that answers JSON (the pages')."""
        response = self._send("GET", token, path, params=params, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise translated(response)
        answer: dict[str, Any] = response.json()
        return answer

    def read_text(self, token: str, path: str) -> str:
        """A read of measurement's API that answers text (the checkpoints' verifier key)."""
        response = self._send("GET", token, path)
        if response.status_code != 200:
            raise translated(response)
        return response.text

    def download(self, token: str, path: str, params: dict[str, Any]) -> Download:
        """A read of measurement's API that answers a file, streamed: its
        body is read from measurement as the caller reads it. A problem is
        read whole and raised, as every other read's."""
        response = self._send("GET", token, path, stream=True, params=params)
        if response.status_code != 200:
            try:
                response.read()
            finally:
                response.close()
            raise translated(response)
        return Download(dict(response.headers), _chunks(response))

    def import_csv(self, token: str, data: bytes, dry_run: bool, idempotency_key: str | None) -> dict[str, Any]:
        """`POST /observations/batch/csv`: the import's summary. With a key,
        a request that finds the first one with that key still running waits
        for it and gets its answer (a double click records once)."""
        headers = {"Content-Type": "text/csv"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        params = {"dry_run": str(dry_run).lower()}
        for _ in range(IN_FLIGHT_RETRIES):
            response = self._send(
                "POST", token, "/observations/batch/csv", params=params, headers=headers, content=data
            )
            if response.status_code != 409 or _problem_type(response) != IN_FLIGHT:
                break
            time.sleep(1)
        if response.status_code != 200:
            raise translated(response)
        summary: dict[str, Any] = response.json()
        return summary


@dataclass(frozen=True)
class Download:
    """A file measurement answered: its headers (names in lower case) and its
    body, in chunks as they arrive (the response is closed once read)."""

    headers: dict[str, str]
    chunks: Iterator[bytes]


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()


def _problem_type(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("type"))
    except (ValueError, AttributeError):
        return None
