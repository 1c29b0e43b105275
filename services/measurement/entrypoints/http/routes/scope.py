"""Programme scope: sectors, countries and GSC focal points."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from services.measurement.entrypoints.http.deps import MeasurementDep, PrincipalDep, answer_at
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
    body: SectorSelection, measurement: MeasurementDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    """Select a sectoral supply chain (at most four, para. 8)."""
    return _answer(response, measurement.select_sector(body.code, body.name, body.rationale, principal))


@router.post(
    "/countries", status_code=status.HTTP_201_CREATED, response_model=ScopePublic, operation_id="selectCountry"
)
def select_country(
    body: CountrySelection, measurement: MeasurementDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    """Select a programme country, recording the three criteria of para. 8."""
    scope = measurement.select_country(body.iso3, body.region, body.criteria.model_dump(), principal)
    return _answer(response, scope)


@router.post(
    "/focal-points", status_code=status.HTTP_201_CREATED, response_model=ScopePublic, operation_id="nominateFocalPoint"
)
def nominate_focal_point(
    body: FocalPointNomination, measurement: MeasurementDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    """Record the GSC focal point nominated by an ILO Regional Office (para. 11)."""
    return _answer(response, measurement.nominate_focal_point(body.region, body.name, body.email, principal))
