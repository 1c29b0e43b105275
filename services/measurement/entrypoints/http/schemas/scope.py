from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, WithJsonSchema

from services.common.errors import InvalidCommandError
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.scope_periods import PROGRAMME_START
from services.measurement.domain.values import Period
from services.measurement.entrypoints.http.schemas.common import (
    Code,
    Country,
    LogPosition,
    Reason,
    RequestModel,
    Text,
    Title,
)


def _first_day(value: Any) -> Any:
    """A day or a period (2019-06-30, 2019-06, 2019-Q2, 2019) as the day it starts."""
    if not isinstance(value, str) or len(value) > 10:
        raise ValueError("Give a day (2019-06-30), a month (2019-06), a quarter (2019-Q2) or a year (2019).")
    try:
        return Period.parse(value).start
    except InvalidCommandError as error:
        raise ValueError(error.detail) from None


ScopeDate = Annotated[
    date,
    BeforeValidator(_first_day),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 10,
            "description": "A day (2019-06-30), or the first day of a month (2019-06), quarter (2019-Q2) or "
            "year (2019)",
            "examples": ["2019-Q3"],
        }
    ),
]


class SectorSelection(RequestModel):
    code: Code
    name: Title
    rationale: Text = Field(min_length=1, description="The evidence the selection is based on")
    valid_from: ScopeDate = Field(
        PROGRAMME_START,
        description=f"The first day the sector is in scope (default: the programme's, {PROGRAMME_START})",
    )


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
    valid_from: ScopeDate = Field(
        PROGRAMME_START,
        description=f"The first day the country is in scope (default: the programme's, {PROGRAMME_START})",
    )


class Deselection(RequestModel):
    valid_from: ScopeDate = Field(description="The first day out of scope")
    reason: Reason


class FocalPointNomination(RequestModel):
    region: IloRegion
    name: Title
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class ScopePeriodPublic(BaseModel):
    first_day: date = Field(description="The first day in scope")
    last_day: date | None = Field(description="The last day in scope; null while it is still in scope")
    ended_because: str | None = Field(description="The reason given for the deselection that ended it")


class SectorPublic(BaseModel):
    code: str
    name: str
    rationale: str
    periods: list[ScopePeriodPublic] = Field(description="The periods the sector is in scope")


class CriterionPublic(BaseModel):
    met: StrictBool
    evidence: str


class CountryPublic(BaseModel):
    iso3: str
    name: str
    region: IloRegion
    criteria: dict[str, CriterionPublic]
    periods: list[ScopePeriodPublic] = Field(description="The periods the country is in scope")


class FocalPointPublic(BaseModel):
    region: IloRegion
    name: str
    email: str


class ScopePublic(BaseModel):
    sectors: list[SectorPublic]
    countries: list[CountryPublic]
    focal_points: list[FocalPointPublic]
    position: LogPosition
