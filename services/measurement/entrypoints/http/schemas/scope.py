from __future__ import annotations

from pydantic import BaseModel, Field, StrictBool

from services.measurement.domain.scope import IloRegion
from services.measurement.entrypoints.http.schemas.common import Code, Country, LogPosition, RequestModel, Text, Title


class SectorSelection(RequestModel):
    code: Code
    name: Title
    rationale: Text = Field(min_length=1, description="The evidence the selection is based on")


class Criterion(RequestModel):
    met: StrictBool
    evidence: Text = Field(min_length=1)


class SelectionCriteria(RequestModel):
    """The three criteria of roadmap para. 8."""

    decent_work_deficits: Criterion = Field(description="Evidence of significant decent work deficits in the sector")
    political_commitment: Criterion = Field(description="Political commitment to work with the programme")
    ilo_presence: Criterion = Field(description="Strong and well-established ILO presence")


class CountrySelection(RequestModel):
    iso3: Country
    region: IloRegion
    criteria: SelectionCriteria


class FocalPointNomination(RequestModel):
    region: IloRegion
    name: Title
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class SectorPublic(BaseModel):
    code: str
    name: str
    rationale: str


class CriterionPublic(BaseModel):
    met: StrictBool
    evidence: str


class CountryPublic(BaseModel):
    iso3: str
    name: str
    region: IloRegion
    criteria: dict[str, CriterionPublic]


class FocalPointPublic(BaseModel):
    region: IloRegion
    name: str
    email: str


class ScopePublic(BaseModel):
    sectors: list[SectorPublic]
    countries: list[CountryPublic]
    focal_points: list[FocalPointPublic]
    position: LogPosition
