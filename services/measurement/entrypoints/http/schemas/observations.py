from __future__ import annotations

import time
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, HttpUrl

from services.common.errors import InvalidCommandError
from services.measurement.domain.framework import PROGRAMME_WINDOW
from services.measurement.domain.values import Dimension, Period
from services.measurement.entrypoints.http.schemas.common import (
    MAX_LIST_LENGTH,
    Code,
    Country,
    LogPosition,
    Reason,
    RequestModel,
    Text,
    Title,
    Value,
)


class DisaggregatedValue(RequestModel):
    dimension: Dimension
    category: Title
    value: Value


class EvidenceLink(RequestModel):
    title: Title
    url: HttpUrl = Field(description="http(s) link to the document")


def _within_the_programme(period: str) -> str:
    """A period that has begun, within the programme's window."""
    problem = _outside_the_programme(period, _utc_today())
    if problem is not None:
        raise ValueError(problem)
    return period


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _utc_today() -> date:
    """Today's date in UTC, as datetime.now(UTC).date() gives it (a batch asks once per row)."""
    return _day(int(time.time() // 86_400))


@lru_cache(maxsize=8)
def _day(days_since_epoch: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch)


@lru_cache(maxsize=4096)
def _outside_the_programme(period: str, today: date) -> str | None:
    """Why `period` is refused on `today`, or None: kept for the labels seen most (a batch's rows
    share a few)."""
    try:
        parsed = Period.parse(period)
    except InvalidCommandError:
        return None  # the domain says what a period is
    try:
        PROGRAMME_WINDOW.check_holds(parsed, today, ("period",))
    except InvalidCommandError as error:
        return error.detail
    return None


class ObservationCreate(RequestModel):
    benchmark: Code
    country: Country | None = Field(
        None, description="The country; leave it out for an international benchmark's observation (para. 10)"
    )
    sector: Code | None = None
    period: Annotated[str, AfterValidator(_within_the_programme)] = Field(
        max_length=10,
        description="Day (2019-06-30), month (2019-06), quarter (2019-Q2) or year (2019); "
        f"within the programme's window ({PROGRAMME_WINDOW}) and not one that starts after today",
    )
    value: Value
    disaggregations: list[DisaggregatedValue] = Field(default_factory=list, max_length=MAX_LIST_LENGTH)
    evidence: list[EvidenceLink] = Field(default_factory=list, max_length=MAX_LIST_LENGTH)
    comment: Text | None = None


class Correction(RequestModel):
    value: Value
    disaggregations: list[DisaggregatedValue] | None = Field(
        None, max_length=MAX_LIST_LENGTH, description="Replaces the disaggregated values; omit to keep them"
    )
    reason: Reason


class Retraction(RequestModel):
    reason: Reason


class DisaggregatedValuePublic(BaseModel):
    dimension: Dimension
    category: str
    value: float | int | str


class EvidencePublic(BaseModel):
    title: str
    url: str


class RetractionPublic(BaseModel):
    reason: str
    by: str
    at: datetime


class ObservationPublic(BaseModel):
    id: UUID
    benchmark: str
    assumption: str
    country: str | None = Field(description="null for an international benchmark's observation")
    sector: str | None
    period: str
    period_start: date
    period_end: date = Field(description="The valid date: the value is in force from this date")
    value: float | int | str
    disaggregations: list[DisaggregatedValuePublic]
    evidence: list[EvidencePublic]
    comment: str | None
    status: str = Field(description="recorded, corrected or retracted")
    corrections: int
    retraction: RetractionPublic | None
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime
    version: int = Field(description="Version of the observation's stream (its ETag)")
    recorded_position: int
    last_position: int


class ObservationRead(ObservationPublic):
    position: LogPosition


class ObservationPage(BaseModel):
    items: list[ObservationPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
    position: LogPosition
