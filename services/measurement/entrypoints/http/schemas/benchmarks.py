from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, StrictBool

from services.measurement.domain.benchmarks import Level
from services.measurement.domain.values import Combination, Dimension, Measure
from services.measurement.entrypoints.http.schemas.common import (
    MAX_LIST_LENGTH,
    Code,
    IsoDate,
    LogPosition,
    Reason,
    RequestModel,
    Text,
    Title,
    Value,
)


class BaselineIn(RequestModel):
    value: Value
    date: IsoDate


class TargetIn(RequestModel):
    value: Value
    date: IsoDate
    label: str | None = Field(None, max_length=200, description="e.g. 'mid-term 2019 milestone'")


class BenchmarkCreate(RequestModel):
    code: Code
    assumption: str = Field(max_length=8, description="Critical assumption code, CA1 ... CA10")
    title: Title
    description: Text = ""
    measure: Measure
    ascending: StrictBool = Field(description="True when a higher value is better")
    unit_label: str | None = Field(None, max_length=100)
    levels: list[Title] = Field(
        default_factory=list, max_length=MAX_LIST_LENGTH, description="Ordinal (in order) or nominal levels"
    )
    baseline: BaselineIn
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_LIST_LENGTH)
    combination: Combination
    threshold: Value | None = None
    disaggregations: list[Dimension] = Field(default_factory=list, max_length=len(Dimension))
    deliverables: list[str] = Field(
        default_factory=list, max_length=MAX_LIST_LENGTH, description="Workplan codes, e.g. 2.4"
    )
    pb_indicators: list[str] = Field(
        default_factory=list, max_length=MAX_LIST_LENGTH, description="BIENNIUM:CODE, e.g. 2018-19:7.1"
    )
    level: Level = Field(
        Level.NATIONAL,
        description="national: observations per programme country, combined; international (para. 10, e.g. "
        "critical assumptions 5 and 7): observations name no country, are recorded by the programme management "
        "team, and the state is the latest value (combination 'latest')",
    )


class BaselineRevision(RequestModel):
    baseline: BaselineIn
    reason: Reason


class TargetRevision(RequestModel):
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_LIST_LENGTH)
    reason: Reason


class Retirement(RequestModel):
    reason: Reason


class BaselineOut(BaseModel):
    value: float | int | str
    date: date


class TargetOut(BaseModel):
    value: float | int | str
    date: date
    label: str | None


class Retired(BaseModel):
    reason: str
    by: str
    at: datetime


class HistoryEntry(BaseModel):
    event: str
    position: int
    recorded_at: datetime
    principal: str
    reason: str | None


class BenchmarkPublic(BaseModel):
    code: str
    assumption: str
    title: str
    description: str
    measure: Measure
    ascending: bool
    unit_label: str | None
    levels: list[str]
    baseline: BaselineOut
    targets: list[TargetOut]
    combination: Combination
    threshold: float | int | str | None
    disaggregations: list[Dimension]
    deliverables: list[str]
    pb_indicators: list[str]
    level: Level
    framework_version: int
    defined_at: datetime
    retired: Retired | None
    history: list[HistoryEntry]
    version: int
    last_position: int


class BenchmarkRead(BenchmarkPublic):
    position: LogPosition


class BenchmarkList(BaseModel):
    items: list[BenchmarkPublic]
    position: LogPosition
