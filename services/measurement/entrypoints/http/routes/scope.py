"""Programme scope: sectors, countries and GSC focal points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at, created
from services.common.http.idempotency import CreationDep
from services.measurement.application.queries import catalogue
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.common import LogPosition
from services.measurement.entrypoints.http.schemas.scope import (
    CountrySelection,
    FocalPointNomination,
    ScopePublic,
    SectorSelection,
)

router = APIRouter(prefix="/scope", tags=["scope"])
MANAGE = [allowed(Permission.MANAGE_SCOPE)]


def _answer(response: Response, scope: dict[str, Any]) -> dict[str, Any]:
    answer_at(response, scope["position"])
    return scope


@router.get("", response_model=ScopePublic, operation_id="getScope", dependencies=[allowed(Permission.READ_FRAMEWORK)])
def get_scope(
    measurement: MeasurementDep,
    response: Response,
    at: Annotated[LogPosition | None, Query(description="As known at this log position")] = None,
) -> dict[str, Any]:
    """Selected sectors, countries and focal points."""
    return _answer(response, catalogue.scope(measurement, at))


@router.post(
    "/sectors",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopePublic,
    operation_id="selectSector",
    dependencies=MANAGE,
)
def select_sector(
    body: SectorSelection,
    measurement: MeasurementDep,
    creation: CreationDep,
) -> JSONResponse:
    """Select a sectoral supply chain (at most four, para. 8)."""

    def select() -> JSONResponse:
        return created(
            ScopePublic, measurement.select_sector(body.code, body.name, body.rationale, creation.principal.name)
        )

    return creation.respond(body, select)


@router.post(
    "/countries",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopePublic,
    operation_id="selectCountry",
    dependencies=MANAGE,
)
def select_country(
    body: CountrySelection,
    measurement: MeasurementDep,
    creation: CreationDep,
) -> JSONResponse:
    """Select a programme country, recording the three criteria of para. 8."""

    def select() -> JSONResponse:
        scope = measurement.select_country(body.iso3, body.region, body.criteria.model_dump(), creation.principal.name)
        return created(ScopePublic, scope)

    return creation.respond(body, select)


@router.post(
    "/focal-points",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopePublic,
    operation_id="nominateFocalPoint",
    dependencies=MANAGE,
)
def nominate_focal_point(
    body: FocalPointNomination,
    measurement: MeasurementDep,
    creation: CreationDep,
) -> JSONResponse:
    """Record the GSC focal point nominated by an ILO Regional Office (para. 11)."""

    def nominate() -> JSONResponse:
        return created(
            ScopePublic, measurement.nominate_focal_point(body.region, body.name, body.email, creation.principal.name)
        )

    return creation.respond(body, nominate)
