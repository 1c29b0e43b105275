"""Programme scope: sectors, countries and GSC focal points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import JSONResponse

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at, created
from services.common.http.idempotency import CreationDep
from services.measurement.application.queries import catalogue
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.common import Country, LogPosition
from services.measurement.entrypoints.http.schemas.scope import (
    CountrySelection,
    Deselection,
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
    """Selected sectors and countries, each with its periods in scope, and focal points."""
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
    """Select a sectoral supply chain from a date (at most four in scope at the same time, para. 8)."""

    def select() -> JSONResponse:
        scope = measurement.select_sector(
            body.code, body.name, body.rationale, creation.principal.name, body.valid_from
        )
        return created(ScopePublic, scope)

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
    """Select a programme country from a date, recording the three criteria of para. 8."""

    def select() -> JSONResponse:
        scope = measurement.select_country(
            body.iso3, body.region, body.criteria.model_dump(), creation.principal.name, body.valid_from
        )
        return created(ScopePublic, scope)

    return creation.respond(body, select)


@router.post(
    "/sectors/{code}/deselection",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopePublic,
    operation_id="deselectSector",
    dependencies=MANAGE,
)
def deselect_sector(
    code: Annotated[str, Path(max_length=64)],
    body: Deselection,
    measurement: MeasurementDep,
    creation: CreationDep,
) -> JSONResponse:
    """End a sector's period in scope: from valid_from on, its cells are neither recorded nor combined."""

    def deselect() -> JSONResponse:
        scope = measurement.deselect_sector(code, body.valid_from, body.reason, creation.principal.name)
        return created(ScopePublic, scope)

    return creation.respond(body, deselect)


@router.post(
    "/countries/{country}/deselection",
    status_code=status.HTTP_201_CREATED,
    response_model=ScopePublic,
    operation_id="deselectCountry",
    dependencies=MANAGE,
)
def deselect_country(
    country: Annotated[Country, Path()],
    body: Deselection,
    measurement: MeasurementDep,
    creation: CreationDep,
) -> JSONResponse:
    """End a country's period in scope: from valid_from on, its cells are neither recorded nor combined."""

    def deselect() -> JSONResponse:
        scope = measurement.deselect_country(country, body.valid_from, body.reason, creation.principal.name)
        return created(ScopePublic, scope)

    return creation.respond(body, deselect)


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
