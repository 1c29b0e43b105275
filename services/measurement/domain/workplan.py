"""Delivery of the workplan (Appendix I) and outcomes of the roadmap's
milestones (paras 8-12), as the programme management team records them.

Each fact is dated with the valid date it happened on (`on`): a deliverable
started, delivered (with a link to the evidence) or dropped (with the
reason); a milestone met or missed (with a note). The dates of one
deliverable or milestone must tell one story: nothing is delivered after it
was dropped, nor before it was started; a milestone met is not missed after.
A date is within the programme (from its start) and not in the future.

A record made in error is withdrawn, with the reason, by an event of its
own: it stays in the history (marked withdrawn from that position on), no
longer counts, and the right one can then be recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.common.errors import ConflictError, InvalidCommandError, NotFoundError, did_you_mean
from services.measurement.domain.framework import STOCKTAKE_NAMESPACE, FrameworkDocument


@dataclass(frozen=True)
class Delivery:
    """What was recorded of one deliverable, each with its date (None: not recorded)."""

    started: date | None = None
    delivered: date | None = None
    evidence: str | None = None
    dropped: date | None = None
    reason: str | None = None

    def status_on(self, day: date) -> str:
        """not_started, started, delivered or dropped, as of the valid date `day`."""
        if self.delivered is not None and self.delivered <= day:
            return "delivered"
        if self.dropped is not None and self.dropped <= day:
            return "dropped"
        if self.started is not None and self.started <= day:
            return "started"
        return "not_started"


@dataclass(frozen=True)
class Outcome:
    """What was recorded of one milestone: met and/or missed, each with its date and note."""

    met: date | None = None
    met_note: str | None = None
    missed: date | None = None
    missed_note: str | None = None


def _check_date(on: date, programme_start: date, today: date) -> None:
    if on < programme_start:
        raise InvalidCommandError.at(
            ("on",), f"{on.isoformat()} is before the programme began ({programme_start.isoformat()})."
        )
    if on > today:
        raise InvalidCommandError.at(
            ("on",), f"{on.isoformat()} is after today ({today.isoformat()}): record what has happened."
        )


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidCommandError.at(("reason",), "Say why the record is withdrawn: the reason is kept in the history.")
    return reason


def programme_start(framework: FrameworkDocument) -> date:
    return date.fromisoformat(str(framework.content["framework"]["period"]["start"]))


def check_deliverable(framework: FrameworkDocument, code: str) -> None:
    known = framework.deliverable_codes()
    if code not in known:
        raise NotFoundError(
            f"There is no workplan deliverable {code!r} in framework version {framework.version} "
            f"(codes run 1.1 ... 9.2).{did_you_mean(code, known)}"
        )


def milestone(framework: FrameworkDocument, code: str) -> dict[str, Any]:
    """The framework's milestone `code`; a code an earlier version used for it is named."""
    milestones: list[dict[str, Any]] = framework.content["milestones"]
    for found in milestones:
        if found["code"] == code:
            return found
    for found in milestones:
        if code in found.get("replaces", []):
            raise NotFoundError(
                f"Milestone {code} of an earlier framework version is {found['code']} in version "
                f"{framework.version}: use {found['code']}."
            )
    known = [m["code"] for m in milestones]
    raise NotFoundError(
        f"There is no milestone {code!r} in framework version {framework.version} "
        f"({known[0]} ... {known[-1]}).{did_you_mean(code, known)}"
    )


class Workplan(Aggregate):
    """One stream per programme: every delivery and milestone outcome recorded."""

    @staticmethod
    def create_id(programme: str) -> UUID:
        return uuid5(STOCKTAKE_NAMESPACE, f"workplan:{programme}")

    # Each event's class name and attributes are stored (topic and state):
    # renaming or moving one needs a registered old topic or an upcaster.
    @dataclass(frozen=True)
    class Opened(Aggregate.Created):
        programme: str
        principal: str

    @dataclass(frozen=True)
    class DeliverableStarted(Aggregate.Event):
        deliverable: str
        on: date
        note: str | None
        principal: str

    @dataclass(frozen=True)
    class DeliverableDelivered(Aggregate.Event):
        deliverable: str
        on: date
        evidence: str
        note: str | None
        principal: str

    @dataclass(frozen=True)
    class DeliverableDropped(Aggregate.Event):
        deliverable: str
        on: date
        reason: str
        principal: str

    @dataclass(frozen=True)
    class DeliveryRecordWithdrawn(Aggregate.Event):
        deliverable: str
        record: str  # started, delivered or dropped
        reason: str
        principal: str

    @dataclass(frozen=True)
    class MilestoneMet(Aggregate.Event):
        milestone: str
        on: date
        note: str
        principal: str

    @dataclass(frozen=True)
    class MilestoneMissed(Aggregate.Event):
        milestone: str
        on: date
        note: str
        principal: str

    @dataclass(frozen=True)
    class MilestoneOutcomeWithdrawn(Aggregate.Event):
        milestone: str
        outcome: str  # met or missed
        reason: str
        principal: str

    @event(Opened)
    def __init__(self, programme: str, principal: str) -> None:
        self.programme = programme
        self.deliveries: dict[str, Delivery] = {}
        self.outcomes: dict[str, Outcome] = {}

    def delivery(self, code: str) -> Delivery:
        return self.deliveries.get(code, Delivery())

    def outcome(self, code: str) -> Outcome:
        return self.outcomes.get(code, Outcome())

    # -- deliverables -----------------------------------------------------

    def start(
        self, framework: FrameworkDocument, code: str, on: date, note: str | None, principal: str, today: date
    ) -> None:
        check_deliverable(framework, code)
        _check_date(on, programme_start(framework), today)
        self._check_open(code, "started")
        if (started := self.delivery(code).started) is not None:
            raise ConflictError(f"Deliverable {code} was already started, on {started.isoformat()}.")
        self._start(deliverable=code, on=on, note=note, principal=principal)

    def deliver(
        self,
        framework: FrameworkDocument,
        code: str,
        on: date,
        evidence: str,
        note: str | None,
        principal: str,
        today: date,
    ) -> None:
        check_deliverable(framework, code)
        _check_date(on, programme_start(framework), today)
        self._check_open(code, "delivered")
        self._check_not_before_start(code, on, "delivered")
        self._deliver(deliverable=code, on=on, evidence=evidence, note=note, principal=principal)

    def drop(self, framework: FrameworkDocument, code: str, on: date, reason: str, principal: str, today: date) -> None:
        check_deliverable(framework, code)
        _check_date(on, programme_start(framework), today)
        self._check_open(code, "dropped")
        self._check_not_before_start(code, on, "dropped")
        self._drop(deliverable=code, on=on, reason=reason, principal=principal)

    def _check_open(self, code: str, change: str) -> None:
        """Nothing changes a deliverable once delivered or dropped."""
        delivery = self.delivery(code)
        if delivery.delivered is not None:
            raise ConflictError(
                f"Deliverable {code} was delivered on {delivery.delivered.isoformat()}; it cannot be {change} now."
            )
        if delivery.dropped is not None:
            raise ConflictError(
                f"Deliverable {code} was dropped on {delivery.dropped.isoformat()} ({delivery.reason}); "
                f"it cannot be {change} now."
            )

    def _check_not_before_start(self, code: str, on: date, change: str) -> None:
        started = self.delivery(code).started
        if started is not None and on < started:
            raise InvalidCommandError.at(
                ("on",),
                f"Deliverable {code} was started on {started.isoformat()}: it cannot have been {change} "
                f"before, on {on.isoformat()}.",
            )

    @event(DeliverableStarted)
    def _start(self, deliverable: str, on: date, note: str | None, principal: str) -> None:
        self._set_delivery(deliverable, started=on)

    @event(DeliverableDelivered)
    def _deliver(self, deliverable: str, on: date, evidence: str, note: str | None, principal: str) -> None:
        self._set_delivery(deliverable, delivered=on, evidence=evidence)

    @event(DeliverableDropped)
    def _drop(self, deliverable: str, on: date, reason: str, principal: str) -> None:
        self._set_delivery(deliverable, dropped=on, reason=reason)

    def withdraw_delivery_record(
        self, framework: FrameworkDocument, code: str, record: str, reason: str, principal: str
    ) -> None:
        """Withdraws the deliverable's `record` (started, delivered or dropped), made in error."""
        check_deliverable(framework, code)
        if getattr(self.delivery(code), record) is None:
            raise ConflictError(f"Deliverable {code} has no {record} record to withdraw ({self._recorded(code)}).")
        self._withdraw_delivery_record(deliverable=code, record=record, reason=_reason(reason), principal=principal)

    def _recorded(self, code: str) -> str:
        delivery = self.delivery(code)
        made = [
            f"{name} on {day.isoformat()}"
            for name, day in (
                ("started", delivery.started),
                ("delivered", delivery.delivered),
                ("dropped", delivery.dropped),
            )
            if day is not None
        ]
        return "recorded: " + ", ".join(made) if made else "nothing is recorded of it"

    @event(DeliveryRecordWithdrawn)
    def _withdraw_delivery_record(self, deliverable: str, record: str, reason: str, principal: str) -> None:
        details = {"delivered": {"evidence": None}, "dropped": {"reason": None}}.get(record, {})
        self._set_delivery(deliverable, **{record: None, **details})

    def _set_delivery(self, code: str, **changes: Any) -> None:
        current = self.delivery(code)
        self.deliveries = {**self.deliveries, code: Delivery(**{**current.__dict__, **changes})}

    # -- milestones -------------------------------------------------------

    def meet(self, framework: FrameworkDocument, code: str, on: date, note: str, principal: str, today: date) -> None:
        milestone(framework, code)
        _check_date(on, programme_start(framework), today)
        outcome = self.outcome(code)
        if outcome.met is not None:
            raise ConflictError(f"Milestone {code} was already met, on {outcome.met.isoformat()}.")
        if outcome.missed is not None and on < outcome.missed:
            raise InvalidCommandError.at(
                ("on",),
                f"Milestone {code} was recorded missed on {outcome.missed.isoformat()}: if it was met since, "
                "give the date it was met, on or after that.",
            )
        self._meet(milestone=code, on=on, note=note, principal=principal)

    def miss(self, framework: FrameworkDocument, code: str, on: date, note: str, principal: str, today: date) -> None:
        found = milestone(framework, code)
        _check_date(on, programme_start(framework), today)
        outcome = self.outcome(code)
        if outcome.met is not None:
            raise ConflictError(f"Milestone {code} was met on {outcome.met.isoformat()}; it cannot be missed.")
        if outcome.missed is not None:
            raise ConflictError(f"Milestone {code} was already recorded missed, on {outcome.missed.isoformat()}.")
        if found["period"] is not None:
            due = date.fromisoformat(str(found["period"]["end"]))
            if on <= due:
                raise InvalidCommandError.at(
                    ("on",),
                    f"Milestone {code} is due by {due.isoformat()}: it can be missed from "
                    f"{(due + timedelta(days=1)).isoformat()}, not on {on.isoformat()}.",
                )
        self._miss(milestone=code, on=on, note=note, principal=principal)

    @event(MilestoneMet)
    def _meet(self, milestone: str, on: date, note: str, principal: str) -> None:
        self._set_outcome(milestone, met=on, met_note=note)

    @event(MilestoneMissed)
    def _miss(self, milestone: str, on: date, note: str, principal: str) -> None:
        self._set_outcome(milestone, missed=on, missed_note=note)

    def withdraw_outcome(
        self, framework: FrameworkDocument, code: str, outcome: str, reason: str, principal: str
    ) -> None:
        """Withdraws the milestone's `outcome` (met or missed), recorded in error (under
        its code, or a code of an earlier framework version it replaces)."""
        found = milestone(framework, code)
        for subject in (code, *found.get("replaces", [])):
            if getattr(self.outcome(subject), outcome) is not None:
                self._withdraw_outcome(milestone=subject, outcome=outcome, reason=_reason(reason), principal=principal)
                return
        raise ConflictError(f"Milestone {code} has no {outcome} outcome to withdraw.")

    @event(MilestoneOutcomeWithdrawn)
    def _withdraw_outcome(self, milestone: str, outcome: str, reason: str, principal: str) -> None:
        self._set_outcome(milestone, **{outcome: None, f"{outcome}_note": None})

    def _set_outcome(self, code: str, **changes: Any) -> None:
        current = self.outcome(code)
        self.outcomes = {**self.outcomes, code: Outcome(**{**current.__dict__, **changes})}
