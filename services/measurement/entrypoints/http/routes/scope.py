"""Programme scope: sectors, countries and GSC focal points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from services.measurement.entrypoints.http.deps import MeasurementDep, PrincipalDep, answer_at, created
from services.measurement.entrypoints.http.idempotency import IdempotencyKey, IdempotencyRecordsDep, respond_once
from services.measurement.entrypoints.http.schemas.common import LogPosition
from services.measurement.entrypoints.http.schemas.scope import (
    CountrySelection,
    FocalPointNomination,
    ScopePublic,
    SectorSelection,
)

router = APIRouter(prefix="/scope", tags=["scope"])


def _answer(response: Response, scope: dict[str, Any]) -> dict[str, Any]:
    answer_at(response, scope["position"])
    return scope


@router.get("", response_model=ScopePublic, operation_id="getScope")
def get_scope(
    measurement: MeasurementDep,
    response: Response,
    at: Annotated[LogPosition | None, Query(description="As known at this log position")] = None,
) -> dict[str, Any]:
    """Selected sectors, countries and focal points."""
    return _answer(response, measurement.scope(at))


@router.post("/sectors", status_code=status.HTTP_201_CREATED, response_model=ScopePublic, operation_id="selectSector")
def select_sector(
    body: SectorSelection,
    request: Request,
    measurement: MeasurementDep,
    principal: PrincipalDep,
    records: IdempotencyRecordsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Select a sectoral supply chain (at most four, para. 8)."""

    def select() -> JSONResponse:
        return created(ScopePublic, measurement.select_sector(body.code, body.name, body.rationale, principal))

    return respond_once(records, principal, idempotency_key, request, body, select)


@router.post(
    "/countries", status_code=status.HTTP_201_CREATED, response_model=ScopePublic, operation_id="selectCountry"
)
def select_country(
    body: CountrySelection,
    request: Request,
    measurement: MeasurementDep,
    principal: PrincipalDep,
    records: IdempotencyRecordsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Select a programme country, recording the three criteria of para. 8."""

    def select() -> JSONResponse:
        scope = measurement.select_country(body.iso3, body.region, body.criteria.model_dump(), principal)
        return created(ScopePublic, scope)

    return respond_once(records, principal, idempotency_key, request, body, select)


@router.post(
    "/focal-points", status_code=status.HTTP_201_CREATED, response_model=ScopePublic, operation_id="nominateFocalPoint"
)
def nominate_focal_point(
    body: FocalPointNomination,
    request: Request,
    measurement: MeasurementDep,
    principal: PrincipalDep,
    records: IdempotencyRecordsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the GSC focal point nominated by an ILO Regional Office (para. 11)."""

    def nominate() -> JSONResponse:
        return created(ScopePublic, measurement.nominate_focal_point(body.region, body.name, body.email, principal))

    return respond_once(records, principal, idempotency_key, request, body, nominate)
