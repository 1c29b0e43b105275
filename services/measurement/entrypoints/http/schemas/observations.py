from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field, HttpUrl

from services.measurement.domain.values import Dimension
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


class ObservationCreate(RequestModel):
    benchmark: Code
    country: Country
    sector: Code | None = None
    period: str = Field(
        max_length=10, description="Day (2019-06-30), month (2019-06), quarter (2019-Q2) or year (2019)"
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
    country: str
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
