"""Workplan delivery and milestone outcomes: what the programme management
team records, and the answers planned vs recorded as of a valid date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, HttpUrl

from services.measurement.entrypoints.http.schemas.common import (
    MAX_REASON_LENGTH,
    IsoDate,
    LogPosition,
    Reason,
    RequestModel,
)
from services.measurement.entrypoints.http.schemas.framework import DateRange, FrameworkVersionInForce

DeliveryStatus = Literal["not_started", "started", "delivered", "dropped"]
MilestoneStatus = Literal["upcoming", "due", "overdue", "open", "met", "missed"]
Note = Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]
On = Annotated[
    IsoDate,
    Field(description="The valid date it happened on (YYYY-MM-DD): from the programme's start, not after today"),
]


class DeliveryRecord(RequestModel):
    """A deliverable started, delivered (with `evidence`) or dropped (with `reason`), on a date."""

    status: Literal["started", "delivered", "dropped"]
    on: On
    evidence: HttpUrl | None = Field(None, description="Delivered: an http(s) link to what was delivered")
    reason: Reason | None = Field(None, description="Dropped: why")
    note: Note | None = Field(None, description="Started or delivered: anything to add")


class MilestoneOutcomeRecord(RequestModel):
    """A milestone met, or missed (after its due date), on a date, with a note."""

    outcome: Literal["met", "missed"]
    on: On
    note: Note = Field(description="What was done (met), or what happened instead (missed)")


class DeliveryRecordWithdrawal(RequestModel):
    """Withdraws a deliverable's record made in error; the right one can then be recorded."""

    record: Literal["started", "delivered", "dropped"] = Field(description="The record to withdraw")
    reason: Reason = Field(description="Why it is withdrawn (kept in the history)")


class MilestoneOutcomeWithdrawal(RequestModel):
    """Withdraws a milestone's outcome recorded in error; the right one can then be recorded."""

    outcome: Literal["met", "missed"] = Field(description="The outcome to withdraw")
    reason: Reason = Field(description="Why it is withdrawn (kept in the history)")


class Pinned(BaseModel):
    as_of: date = Field(description="The valid date of the answer")
    position: LogPosition
    framework_version: FrameworkVersionInForce


class Withdrawn(BaseModel):
    """The withdrawal of a record made in error."""

    position: LogPosition = Field(description="From this log position on, the record no longer counts")
    recorded_at: datetime
    principal: str
    reason: str


class WorkplanFact(BaseModel):
    """One record of the history, as recorded."""

    event: Literal["started", "delivered", "dropped", "met", "missed"]
    on: date
    position: LogPosition
    recorded_at: datetime
    principal: str
    evidence: str | None = None
    reason: str | None = None
    note: str | None = None
    withdrawn: Withdrawn | None = Field(None, description="Set once the record is withdrawn (as known at the position)")


class DeliveryPublic(BaseModel):
    """A deliverable's planned quarters (Appendix I) beside what was recorded of it by as_of."""

    code: str
    area: str
    title: str
    planned_quarters: list[str]
    planned_start: date = Field(description="The first day of its first planned quarter")
    planned_end: date = Field(description="The last day of its last planned quarter")
    status: DeliveryStatus = Field(description="As of as_of")
    started_on: date | None
    delivered_on: date | None
    evidence: str | None = Field(description="The link given with its delivery")
    dropped_on: date | None
    reason: str | None = Field(description="Why it was dropped")
    late: bool = Field(description="Its last planned quarter has passed without its delivery (nor its dropping)")
    late_start: bool = Field(description="Its first planned quarter has passed with nothing recorded of it")


class DeliveryDetail(DeliveryPublic, Pinned):
    history: list[WorkplanFact] = Field(description="Every record of it up to the position, in log order")


class DeliverySummary(BaseModel):
    deliverables: int
    by_status: dict[str, int]
    late: int
    late_start: int


class DeliveryList(Pinned):
    summary: DeliverySummary = Field(description="Of every deliverable, whatever the filters")
    items: list[DeliveryPublic]


class MilestonePublic(BaseModel):
    """A roadmap milestone (paras 8-12): when it is due, and met or missed by as_of."""

    code: str
    paragraph: int
    text: str
    period: DateRange | None
    due: date | None = Field(description="The end of its period; null: the roadmap gives it no date")
    status: MilestoneStatus = Field(
        description="upcoming (before its period), due (within it), overdue (after it, no outcome recorded), "
        "open (no date, no outcome), met or missed (from the date recorded)"
    )
    met_on: date | None
    missed_on: date | None
    note: str | None = Field(description="The note of the outcome in force")
    late: bool = Field(description="Met after its due date")


class MilestoneDetail(MilestonePublic, Pinned):
    history: list[WorkplanFact] = Field(description="Every outcome recorded of it up to the position, in log order")


class MilestoneSummary(BaseModel):
    milestones: int
    by_status: dict[str, int]


class MilestoneList(Pinned):
    summary: MilestoneSummary
    items: list[MilestonePublic]
