"""Who the bearer key belongs to: any valid key may ask (the reporting
service asks it for the key of each of its callers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from services.common.access import ROLE_PERMISSIONS, Principal, Role
from services.common.http.authorization import get_principal
from services.common.http.problems import UNAUTHENTICATED, documented_problems
from services.measurement.entrypoints.http.schemas.report import Me

router = APIRouter(tags=["keys"])


ANY_KEY = "any valid key"


@router.get(
    "/me",
    response_model=Me,
    operation_id="getMe",
    responses=documented_problems(UNAUTHENTICATED),
    openapi_extra={"x-permission": ANY_KEY, "x-roles": [role.value for role in Role]},
    description="The principal, role and countries of the key sent, and what it may do.\n\n"
    f"Roles: {', '.join(Role)} ({ANY_KEY}).",
)
def me(principal: Annotated[Principal, Depends(get_principal)]) -> dict[str, Any]:
    """The principal, role and countries of the key sent, and what it may do."""
    return {
        "principal": principal.name,
        "role": principal.role.value,
        "countries": sorted(principal.countries),
        "permissions": sorted(permission.value for permission in ROLE_PERMISSIONS[principal.role]),
    }
