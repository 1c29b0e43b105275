"""Schemas of the reporting reads: who a key belongs to, and the bulk read a
stocktaking report is made from."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.measurement.entrypoints.http.schemas.common import LogPosition
from services.measurement.entrypoints.http.schemas.framework import FrameworkVersionInForce
from services.measurement.entrypoints.http.schemas.progress import BenchmarkState, TargetInForce


class Me(BaseModel):
    principal: str = Field(description="Who holds the key (recorded on every event it causes)")
    role: str = Field(description="country-office, programme-manager, auditor or reporting")
    countries: list[str] = Field(description="A country office key's countries (ISO alpha-3, sorted); empty otherwise")
    permissions: list[str] = Field(description="What the role may do, e.g. read:progress (sorted)")


class SeriesPoint(BaseModel):
    date: date
    combined: float | int | str | None
    expected: float | None
    status: str


class BenchmarkReport(BenchmarkState):
    targets: list[TargetInForce] = Field(description="Every target, in date order")
    levels: list[str] = Field(description="The levels of an ordinal or nominal measure, in order")
    threshold: float | int | str | None = Field(description="The threshold of a count_meeting_threshold benchmark")
    disaggregations: list[str] = Field(description="The dimensions its observations may be disaggregated by, e.g. sex")
    deliverables: list[str] = Field(description="The workplan deliverables it measures, e.g. 2.4")
    pb_indicators: list[str] = Field(
        description="The P&B indicators it contributes to (para. 14), as BIENNIUM:CODE, e.g. 2018-19:7.1"
    )
    series: list[SeriesPoint] = Field(
        description="With series=true: the state at each quarter end from the programme's start to as_of"
    )


class FrameworkVersion(BaseModel):
    code: str
    version: int


class StatusRule(BaseModel):
    on_track_tolerance: float = Field(description="on_track within this fraction of |target - baseline|")
    at_risk_tolerance: float = Field(description="at_risk within this fraction; off_track beyond")


class ProgressReport(BaseModel):
    as_of: date
    position: LogPosition
    framework: FrameworkVersion = Field(description="The framework as known at the position")
    framework_version: FrameworkVersionInForce
    countries_selected: list[str]
    status_rule: StatusRule
    benchmarks: list[BenchmarkReport] = Field(description="Every benchmark not retired at the position, by code")
