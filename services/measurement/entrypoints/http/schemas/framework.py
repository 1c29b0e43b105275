from __future__ import annotations

from pydantic import BaseModel

from services.measurement.entrypoints.http.schemas.common import LogPosition


class Source(BaseModel):
    document: str
    title: str
    session: str


class DateRange(BaseModel):
    start: str
    end: str


class FrameworkHeader(BaseModel):
    code: str
    version: int
    title: str
    source: Source
    period: DateRange


class TheoryOfChange(BaseModel):
    intervention: str
    future_situation: str


class AreaOfAction(BaseModel):
    code: str
    number: int
    title: str


class CriticalAssumption(BaseModel):
    code: str
    text: str


class ExpectedChange(BaseModel):
    code: str
    text: str


class Deliverable(BaseModel):
    code: str
    area: str
    title: str
    key_activities: list[str]
    active_quarters: list[str]


class PbAlignment(BaseModel):
    biennium: str
    outcome: str
    text: str
    direct_indicators: list[str]
    indirect_indicators: list[str]
    condition: str | None


class Sdg(BaseModel):
    goal: int
    title: str


class Milestone(BaseModel):
    code: str
    paragraph: int
    text: str
    period: DateRange | None


class FrameworkPublic(BaseModel):
    framework: FrameworkHeader
    theory_of_change: TheoryOfChange
    areas_of_action: list[AreaOfAction]
    critical_assumptions: list[CriticalAssumption]
    expected_changes: list[ExpectedChange]
    deliverables: list[Deliverable]
    pb_alignment: list[PbAlignment]
    cross_cutting_policy_drivers_note: str
    sdgs: list[Sdg]
    milestones: list[Milestone]
    position: LogPosition


class CriticalAssumptionList(BaseModel):
    items: list[CriticalAssumption]
    framework_version: int
    position: LogPosition


class DeliverableList(BaseModel):
    items: list[Deliverable]
    framework_version: int
    position: LogPosition
