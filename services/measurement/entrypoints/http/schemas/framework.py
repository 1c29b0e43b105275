from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from services.measurement.entrypoints.http.schemas.common import LogPosition

FrameworkVersionInForce = Annotated[
    int | None,
    Field(
        description="The version of the programme framework in force at the answer's log position (also in the "
        "Stocktake-Framework-Version header); null before any was loaded"
    ),
]
Note = Annotated[
    str | None,
    Field(description="Which paragraph (or box) of the roadmap a version 2 correction follows, and why"),
]
Derived = Annotated[
    bool,
    Field(description="True where the roadmap implies rather than spells this out (the note says how)"),
]


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
    current_situation: str | None = Field(None, description="Appendix II's box; absent from version 1")
    future_situation: str
    notes: dict[str, str] = Field(default_factory=dict, description="Per box, where the roadmap gives it")


class Priority(BaseModel):
    """Areas of action the roadmap puts first for a period (para. 7)."""

    code: str
    paragraph: int
    text: str
    areas: list[str]
    period: DateRange
    note: Note = None


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
    derived: Derived = False
    note: Note = None


class Sdg(BaseModel):
    goal: int
    title: str


class MilestoneMention(BaseModel):
    """Another paragraph stating the same milestone, in its own words and date."""

    paragraph: int
    text: str
    period: DateRange | None


class Milestone(BaseModel):
    code: str
    paragraph: int
    text: str
    period: DateRange | None = Field(description="When it is due: its end is the deadline; null: no date given")
    derived: Derived = False
    also_in: list[MilestoneMention] = Field(default_factory=list)
    replaces: list[str] = Field(
        default_factory=list, description="Codes of earlier versions' milestones this one stands for"
    )
    note: Note = None


class FrameworkPublic(BaseModel):
    framework: FrameworkHeader
    theory_of_change: TheoryOfChange
    priorities: list[Priority] = Field(default_factory=list, description="Para. 7's priority; absent from version 1")
    areas_of_action: list[AreaOfAction]
    critical_assumptions: list[CriticalAssumption]
    expected_changes: list[ExpectedChange]
    deliverables: list[Deliverable]
    pb_alignment: list[PbAlignment]
    cross_cutting_policy_drivers_note: str
    sdgs: list[Sdg]
    milestones: list[Milestone]
    framework_version: FrameworkVersionInForce
    position: LogPosition


class CriticalAssumptionRead(CriticalAssumption):
    framework_version: FrameworkVersionInForce
    position: LogPosition


class DeliverableRead(Deliverable):
    framework_version: FrameworkVersionInForce
    position: LogPosition


class CriticalAssumptionList(BaseModel):
    items: list[CriticalAssumption]
    framework_version: FrameworkVersionInForce
    position: LogPosition


class DeliverableList(BaseModel):
    items: list[Deliverable]
    framework_version: FrameworkVersionInForce
    position: LogPosition
