"""FastAPI dependencies of the reporting service, as `Annotated` aliases.

The caller's key is read here once: reporting learns who holds it from
measurement (`GET /me`, the app's authenticator) and sends it on with every
call it makes for the caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from services.common.access import Permission, Principal, roles_with
from services.common.http.authorization import bearer, get_principal
from services.common.http.problems import FORBIDDEN, UNAUTHENTICATED, documented_problems
from services.reporting.application.editions import Reporting
from services.reporting.application.exports import ExportsService


def get_reporting(request: Request) -> Reporting:
    reporting: Reporting = request.app.state.reporting
    return reporting


ReportingDep = Annotated[Reporting, Depends(get_reporting)]


def get_exports(request: Request) -> ExportsService:
    exports: ExportsService = request.app.state.exports
    return exports


ExportsDep = Annotated[ExportsService, Depends(get_exports)]


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token: str


def get_caller(
    principal: Annotated[Principal, Depends(get_principal)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    assert credentials is not None  # get_principal refused a request without a key
    return Caller(principal, credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]


def needs(permission: Permission) -> dict[str, Any]:
    """The OpenAPI parts of an operation that needs `permission`: its roles
    (`x-roles`), and the 401 and 403 it may answer."""
    roles = [role.value for role in roles_with(permission)]
    return {
        "openapi_extra": {"x-permission": permission.value, "x-roles": roles},
        "responses": documented_problems(UNAUTHENTICATED, FORBIDDEN),
    }


def serves_renderings(media_types: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI parts of a rendering's read (permission to read reports):
    a 200 in each of `media_types`, beside the 401 and 403."""
    parts = needs(Permission.READ_REPORTS)
    parts["responses"] = {
        200: {"content": {media: {} for media in media_types}, "description": "The rendering"},
        **parts["responses"],
    }
    return parts


def rendering_response(data: bytes, media_type: str, filename: str) -> Response:
    """A rendering, shown inline by a browser, saved under `filename`."""
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{filename}"'})
