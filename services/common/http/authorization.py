"""Who is calling, and may they call this operation (function level).

The app's `state.authenticator` turns a bearer key into its principal (the
key store in measurement; measurement's own answer about the key in
reporting).

Every operation but the problem documentation names the permission it needs
with `allowed(...)`; the object-level rules (which countries, whose
observation) are the application's, as they depend on the record."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.access import Permission, Principal, roles_with
from services.common.errors import AuthenticationError
from services.common.http.problems import FORBIDDEN, UNAUTHENTICATED, documented_problems


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Principal:
        """The principal holding `token`; AuthenticationError if none does."""

    def known(self, token: str) -> Principal | None:
        """The principal of `token` if it is already known to be valid (no
        I/O); None when only `authenticate` can tell."""


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`stk_...`), issued with `stocktake keys issue`; `./dev up` prints one per role.",
)


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """async: a key already known is answered in the event loop; only a
    lookup (I/O) goes to a worker thread."""
    return await principal_of(request, credentials)


async def principal_of(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The principal whose key `credentials` holds (401 if none)."""
    if credentials is None:
        raise AuthenticationError(
            "This API needs an API key: send `Authorization: Bearer <key>` (operators issue keys with "
            "`stocktake keys issue`)."
        )
    authenticator: Authenticator = request.app.state.authenticator
    known = authenticator.known(credentials.credentials)
    if known is not None:
        return known
    return await run_in_threadpool(authenticator.authenticate, credentials.credentials)


def allowed(permission: Permission) -> Any:
    """A dependency giving the caller, if its role has `permission` (else 403)."""
    return Depends(AllowedKey(permission))


class AllowedKey(HTTPBearer):
    """`allowed(permission)`: the `bearer` scheme itself, answering with the
    key's principal if its role has `permission` (else 403). One dependency,
    not three (the scheme, `get_principal` and the role's check): FastAPI
    solves each at a cost on every request. async: a key already known is
    answered in the event loop."""

    def __init__(self, permission: Permission) -> None:
        super().__init__(auto_error=False, scheme_name=bearer.scheme_name, description=bearer.model.description)
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        principal = await principal_of(request, await super().__call__(request))
        principal.check_may(self.permission)
        return principal


FrameworkReader = Annotated[Principal, allowed(Permission.READ_FRAMEWORK)]
ProgressReader = Annotated[Principal, allowed(Permission.READ_PROGRESS)]
ObservationReader = Annotated[Principal, allowed(Permission.READ_OBSERVATIONS)]
LogReader = Annotated[Principal, allowed(Permission.READ_LOG)]
BenchmarkManager = Annotated[Principal, allowed(Permission.MANAGE_BENCHMARKS)]
ScopeManager = Annotated[Principal, allowed(Permission.MANAGE_SCOPE)]
Reporter = Annotated[Principal, allowed(Permission.RECORD_OBSERVATIONS)]


def permission_of(route: APIRoute) -> Permission | None:
    """The permission an operation needs, found among its dependencies."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        found: Callable[..., Any] | None = dependant.call
        if found is not None and hasattr(found, "permission"):
            return found.permission  # type: ignore[no-any-return]
        pending.extend(dependant.dependencies)
    return None


def document_permissions(router: APIRouter) -> None:
    """Says in the OpenAPI document which roles may call each operation of
    `router`, and that it may answer 401 and 403 (before it is included)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        permission = permission_of(route)
        if permission is None:
            continue
        roles = [role.value for role in roles_with(permission)]
        route.openapi_extra = {**(route.openapi_extra or {}), "x-permission": permission.value, "x-roles": roles}
        summary = inspect.cleandoc(route.endpoint.__doc__ or "")
        route.description = f"{summary}\n\nRoles: {', '.join(roles)} ({permission.value})."
        route.responses = {**documented_problems(UNAUTHENTICATED, FORBIDDEN), **route.responses}
