"""RFC 9457 problem details: the one place where errors become HTTP answers.

Every problem `type` is a relative URI `/problems/{slug}`, which this service
also serves as documentation of the problem."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from services.common.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    FieldProblem,
    ForbiddenError,
    InvalidCommandError,
    NotFoundError,
    PreconditionRequiredError,
    ServiceUnavailableError,
    StaleVersionError,
)
from services.common.idempotency import IdempotencyInFlightError, IdempotencyKeyReusedError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    status: int
    description: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


VALIDATION = ProblemType(
    "validation-error",
    "Your request is not valid",
    422,
    "A field is missing, has the wrong type, or breaks a rule of the programme (a percentage over 100, "
    "a country outside the programme...). `errors` lists each one with a JSON pointer (`pointer`) into "
    "the body, or the name of the query or path `parameter`. Fix those and send the request again.",
)
MALFORMED = ProblemType(
    "malformed-body",
    "The request body is not valid JSON",
    400,
    "The body could not be parsed as JSON. Send a JSON object with Content-Type: application/json.",
)
UNAUTHENTICATED = ProblemType(
    "unauthenticated",
    "An API key is needed",
    401,
    "Send `Authorization: Bearer <key>` with the API key you were given (operators issue keys with "
    "`stocktake keys issue`). The key was missing, not a Stocktake key, unknown, or revoked; `detail` says which.",
)
FORBIDDEN = ProblemType(
    "forbidden",
    "Your key does not allow this",
    403,
    "The key is valid, but its role may not call this operation, or the record belongs to a country outside "
    "the key's countries or to another office. `detail` says which. Nothing was recorded.",
)
NOT_FOUND = ProblemType("not-found", "Not found", 404, "The resource named in the URL does not exist.")
CONFLICT = ProblemType(
    "conflict",
    "The request conflicts with the current state",
    409,
    "The request is well-formed but cannot be applied to the current state (a code already taken, a fifth "
    "sector, a correction of a retracted observation...). `detail` says which rule; nothing was recorded.",
)
PRECONDITION_REQUIRED = ProblemType(
    "precondition-required",
    "If-Match is required",
    428,
    "A correction or retraction changes an existing observation: send If-Match with the ETag you read "
    "(GET the observation) so that a change based on an older version cannot overwrite a newer one.",
)
PRECONDITION_FAILED = ProblemType(
    "precondition-failed",
    "The observation changed since you read it",
    412,
    "The If-Match ETag is not the observation's current version. Read it again, check the change still "
    "makes sense, and retry with the new ETag. Nothing was recorded.",
)
IDEMPOTENCY_KEY_REUSED = ProblemType(
    "idempotency-key-reused",
    "This Idempotency-Key was used for another request",
    422,
    "An Idempotency-Key names one request: the same key with another payload is refused. Use a new key for "
    "a new request. Nothing was recorded.",
)
IDEMPOTENCY_IN_FLIGHT = ProblemType(
    "idempotency-request-in-progress",
    "A request with this Idempotency-Key is still being processed",
    409,
    "The first request with this key has not finished yet. Retry after a moment: you will get its answer.",
)
BODY_TOO_LARGE = ProblemType(
    "body-too-large",
    "The request body is too large",
    413,
    "A request body may hold at most 1 MiB (8 MiB for a batch import). Send less; nothing was recorded.",
)
UNSUPPORTED_MEDIA_TYPE = ProblemType(
    "unsupported-media-type",
    "The body is not of a type this operation reads",
    415,
    "Send the body with the Content-Type the operation documents (application/json, or text/csv for a CSV "
    "import). Nothing was recorded.",
)
METHOD_NOT_ALLOWED = ProblemType(
    "method-not-allowed", "Method not allowed", 405, "This URL does not accept that HTTP method; see the API docs."
)
HTTP_ERROR = ProblemType("http-error", "HTTP error", 400, "The request could not be served as sent.")
UNAVAILABLE = ProblemType(
    "storage-unavailable",
    "The store is busy or unreachable",
    503,
    "The database did not answer in time. Nothing was recorded; retry after the delay in Retry-After.",
)
SERVICE_UNAVAILABLE = ProblemType(
    "service-unavailable",
    "A service this one depends on is unreachable",
    503,
    "This service reads from another one (the reporting service from the measurement service), which did not "
    "answer or failed. Nothing was recorded; retry after the delay in Retry-After. `detail` names the service.",
)
INTERNAL = ProblemType(
    "internal-error",
    "Unexpected error",
    500,
    "The service failed in a way it does not expect. Nothing was recorded. Report the `instance` to the service team.",
)
PROBLEM_TYPES = {
    p.slug: p
    for p in (
        VALIDATION,
        MALFORMED,
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        CONFLICT,
        PRECONDITION_REQUIRED,
        PRECONDITION_FAILED,
        IDEMPOTENCY_KEY_REUSED,
        IDEMPOTENCY_IN_FLIGHT,
        BODY_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        METHOD_NOT_ALLOWED,
        HTTP_ERROR,
        UNAVAILABLE,
        SERVICE_UNAVAILABLE,
        INTERNAL,
    )
}


class UnsupportedMediaTypeError(Exception):
    pass


class MethodNotAllowedError(Exception):
    """A path that a route with a path parameter would also match (as
    /observations/batch matches /observations/{observation_id}) refuses the
    methods it does not accept itself."""

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = list(allowed)


# Which problem a broken rule of the domain is; the most specific class wins.
DOMAIN_PROBLEMS: dict[type[DomainError], ProblemType] = {
    DomainError: VALIDATION,
    InvalidCommandError: VALIDATION,
    NotFoundError: NOT_FOUND,
    ForbiddenError: FORBIDDEN,
    ConflictError: CONFLICT,
    PreconditionRequiredError: PRECONDITION_REQUIRED,
    StaleVersionError: PRECONDITION_FAILED,
}


class FieldError(BaseModel):
    detail: str
    pointer: str | None = Field(None, description="JSON pointer into the request body")
    parameter: str | None = Field(None, description="Name of the query, path or header parameter")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemTypeDoc(BaseModel):
    type: str
    title: str
    status: int
    description: str


def documented_problems(*problems: ProblemType) -> dict[int | str, dict[str, Any]]:
    """Problem answers for the OpenAPI document: by default those any operation may give."""
    problem_schema = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {
        problem.status: {
            "model": Problem,
            "description": f"{problem.title} (problem+json; type {problem.uri})",
            "content": {PROBLEM_JSON: problem_schema},
        }
        for problem in problems or (MALFORMED, NOT_FOUND, CONFLICT, VALIDATION, UNAVAILABLE)
    }


def problem_response(
    problem: ProblemType,
    detail: str,
    request: Request,
    errors: Sequence[FieldError] = (),
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=problem.uri,
        title=problem.title,
        status=status or problem.status,
        detail=detail,
        instance=request.url.path,
        errors=list(errors) or None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status or problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def pointer(path: Sequence[str | int]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path) if path else ""


def field_errors(problems: Sequence[FieldProblem]) -> list[FieldError]:
    return [
        FieldError(detail=p.detail, pointer=pointer(p.path))
        if p.location == "body"
        else FieldError(detail=p.detail, parameter=str(p.path[0]))
        for p in problems
    ]


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors: list[FieldError] = []
    for error in exc.errors():
        where, *path = error["loc"]
        message = pydantic_message(error)
        if where == "body":
            errors.append(FieldError(detail=message, pointer=pointer(path)))
        else:
            errors.append(FieldError(detail=f"{where} parameter: {message}", parameter=str(path[0]) if path else where))
    return errors


def pydantic_message(error: Any) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "This field is not part of the request; remove it (check its spelling)."
    if kind == "missing":
        return "This field is required."
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


def install(app: FastAPI) -> None:
    """Answers every error the app raises with its problem document."""
    _install_refusals(app)
    _install_request_errors(app)
    _install_failures(app)


def _install_refusals(app: FastAPI) -> None:
    """The domain's and the gate's refusals: the request was understood and refused."""

    @app.exception_handler(DomainError)
    def domain(request: Request, exc: DomainError) -> JSONResponse:
        problem = next(DOMAIN_PROBLEMS[kind] for kind in type(exc).__mro__ if kind in DOMAIN_PROBLEMS)
        return problem_response(problem, exc.detail, request, field_errors(exc.problems))

    @app.exception_handler(AuthenticationError)
    def unauthenticated(request: Request, exc: AuthenticationError) -> JSONResponse:
        return problem_response(
            UNAUTHENTICATED, str(exc), request, headers={"WWW-Authenticate": 'Bearer realm="stocktake"'}
        )

    @app.exception_handler(UnsupportedMediaTypeError)
    def unsupported_media_type(request: Request, exc: UnsupportedMediaTypeError) -> JSONResponse:
        return problem_response(UNSUPPORTED_MEDIA_TYPE, str(exc), request)

    @app.exception_handler(MethodNotAllowedError)
    def method_not_allowed(request: Request, exc: MethodNotAllowedError) -> JSONResponse:
        allowed = ", ".join(exc.allowed)
        detail = f"{request.method} is not allowed on {request.url.path}; use {allowed}."
        return problem_response(METHOD_NOT_ALLOWED, detail, request, headers={"Allow": allowed})

    @app.exception_handler(IdempotencyKeyReusedError)
    def key_reused(request: Request, exc: IdempotencyKeyReusedError) -> JSONResponse:
        return problem_response(IDEMPOTENCY_KEY_REUSED, str(exc), request)

    @app.exception_handler(IdempotencyInFlightError)
    def in_flight(request: Request, exc: IdempotencyInFlightError) -> JSONResponse:
        return problem_response(IDEMPOTENCY_IN_FLIGHT, str(exc), request, headers={"Retry-After": "1"})


def _install_request_errors(app: FastAPI) -> None:
    """Requests that could not be read, or name no resource or method there is."""

    @app.exception_handler(RequestValidationError)
    def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(error.get("type") == "json_invalid" for error in exc.errors()):
            return problem_response(MALFORMED, "The body is not valid JSON: " + _json_problem(exc), request)
        errors = _validation_errors(exc)
        summary = errors[0].detail if len(errors) == 1 else f"{len(errors)} fields need fixing; see errors."
        return problem_response(VALIDATION, summary, request, errors)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(exc.status_code, HTTP_ERROR)
        detail = str(exc.detail) if exc.detail else problem.title
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no resource at {request.url.path}; see /docs for the API."
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}."
        return problem_response(problem, detail, request, status=exc.status_code, headers=headers or None)


def _install_failures(app: FastAPI) -> None:
    """The service's own failures: the store's, a service it reads from, and anything unexpected."""

    @app.exception_handler(ServiceUnavailableError)
    def service_unavailable(request: Request, exc: ServiceUnavailableError) -> JSONResponse:
        return problem_response(SERVICE_UNAVAILABLE, str(exc), request, headers={"Retry-After": "2"})

    @app.exception_handler(DBAPIError)
    def storage(request: Request, exc: DBAPIError) -> JSONResponse:
        log.warning("storage error on %s %s: %s", request.method, request.url.path, exc)
        if exc.connection_invalidated or "locked" in str(exc.orig) or "connect" in str(exc.orig).lower():
            return problem_response(
                UNAVAILABLE,
                "The database is busy or unreachable; retry shortly.",
                request,
                headers={"Retry-After": "2"},
            )
        return unexpected(request, exc)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem_response(INTERNAL, "The service failed unexpectedly; nothing was recorded.", request)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts at this path (Starlette names only the first route's)."""
    allowed: set[str] = set()
    routes = list(request.app.router.routes)
    while routes:
        route = routes.pop()
        included = getattr(route, "original_router", None)  # FastAPI's wrapper of an included router
        if included is not None:
            routes.extend(included.routes)
            continue
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE:
            allowed |= set(getattr(route, "methods", None) or ())
    return sorted(allowed)


def _json_problem(exc: RequestValidationError) -> str:
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            context = error.get("ctx") or {}
            return str(context.get("error", error.get("msg")))
    return json.dumps(exc.errors()[0], default=str)
