"""The service's own state, for operators and health checks: no key needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.common.http.deps import version_answer
from services.reporting.entrypoints.http.deps import ReportingDep
from services.reporting.entrypoints.http.schemas import Health, ServiceVersion

router = APIRouter(tags=["service"])
SERVICE = "Stocktake reporting service"


@router.get("/health", response_model=Health, operation_id="getHealth")
def health(reporting: ReportingDep) -> dict[str, Any]:
    """Whether the service and its store answer (503 when the store does not), how many editions it
    holds, and whether measurement answers (`degraded` when it does not)."""
    return reporting.health()


@router.get("/version", response_model=ServiceVersion, operation_id="getVersion")
def service_version(request: Request) -> dict[str, Any]:
    """The version of the service (the installed package) and of its API."""
    return version_answer(SERVICE, request)
