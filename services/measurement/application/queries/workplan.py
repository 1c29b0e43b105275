"""Workplan delivery and milestones as of a valid date, as known at a log
position: each deliverable's planned quarters beside what was recorded of
it, and each milestone's due date beside its outcome.

The workplan's stream holds a few events per deliverable and milestone, so
an answer folds them in memory: the stream up to the position, read in one
snapshot, then the facts dated on or before the valid date.

- A deliverable is `late` once its last planned quarter has passed without
  its delivery (nor its dropping), and `late_start` once its first planned
  quarter has passed with nothing recorded.
- A milestone is `upcoming` before its period, `due` within it, `overdue`
  after it with no outcome recorded, `met` or `missed` from the date
  recorded; one the roadmap gives no date is `open` until an outcome.

A record withdrawn (made in error) no longer counts from the withdrawal's
position on; the history keeps it, marked `withdrawn`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eventsourcing.application import project_aggregate

from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.progress import resolve_position
from services.measurement.domain.framework import PROGRAMME, FrameworkDocument
from services.measurement.domain.values import Period
from services.measurement.domain.workplan import Delivery, Outcome, Workplan, check_deliverable, milestone

DELIVERY_STATUSES = ("not_started", "started", "delivered", "dropped")
MILESTONE_STATUSES = ("upcoming", "due", "overdue", "open", "met", "missed")
_EVENT_NAMES: dict[type, str] = {
    Workplan.DeliverableStarted: "started",
    Workplan.DeliverableDelivered: "delivered",
    Workplan.DeliverableDropped: "dropped",
    Workplan.MilestoneMet: "met",
    Workplan.MilestoneMissed: "missed",
}


@dataclass(frozen=True)
class WorkplanAt:
    """The workplan as known at one position: the framework then, the
    recorded facts folded, and each fact with its position (for histories)."""

    position: int
    framework: FrameworkDocument
    workplan: Workplan | None
    facts: list[dict[str, Any]]

    def delivery(self, code: str) -> Delivery:
        return Delivery() if self.workplan is None else self.workplan.delivery(code)

    def outcome(self, code: str, replaces: list[str]) -> Outcome:
        """The milestone's outcome; one recorded under a code it replaces counts too."""
        if self.workplan is None:
            return Outcome()
        for each in (code, *replaces):
            outcome = self.workplan.outcome(each)
            if outcome != Outcome():
                return outcome
        return Outcome()

    def history(self, subject: str, aliases: list[str] | None = None) -> list[dict[str, Any]]:
        names = {subject, *(aliases or [])}
        return [{k: v for k, v in fact.items() if k != "subject"} for fact in self.facts if fact["subject"] in names]


def workplan_at(app: EventLogApplication, at: int | None, known_at: datetime | None) -> WorkplanAt:
    with app.database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        logged = app.event_log.select_logged(
            originator_id=Workplan.create_id(PROGRAMME), until=position, limit=1_000_000, connection=connection
        )
    found = catalogue.framework(app, position)
    events = [app.mapper.to_domain_event(item.as_stored_event()) for item in logged]
    aggregate = project_aggregate(None, events)
    facts: list[dict[str, Any]] = []
    for event, item in zip(events, logged, strict=True):
        if type(event) in _EVENT_NAMES:
            facts.append(_fact(event, item.position, item.recorded_at))
        elif isinstance(event, Workplan.DeliveryRecordWithdrawn | Workplan.MilestoneOutcomeWithdrawn):
            _mark_withdrawn(facts, event, item.position, item.recorded_at)
    return WorkplanAt(
        position=position,
        framework=FrameworkDocument(found["document"]),
        workplan=aggregate if isinstance(aggregate, Workplan) else None,
        facts=facts,
    )


def _subject(event: Any) -> str:
    subject: str = getattr(event, "deliverable", None) or event.milestone
    return subject


def _fact(event: Any, position: int, recorded_at: datetime) -> dict[str, Any]:
    fact = {
        "subject": _subject(event),
        "event": _EVENT_NAMES[type(event)],
        "on": event.on,
        "position": position,
        "recorded_at": recorded_at,
        "principal": event.principal,
        "withdrawn": None,
    }
    for detail in ("evidence", "reason", "note"):
        if hasattr(event, detail):
            fact[detail] = getattr(event, detail)
    return fact


def _mark_withdrawn(facts: list[dict[str, Any]], event: Any, position: int, recorded_at: datetime) -> None:
    """The record a withdrawal names (the last of its kind still standing) is
    marked withdrawn, from the withdrawal's position on."""
    kind = getattr(event, "record", None) or event.outcome
    subject = _subject(event)
    for fact in reversed(facts):
        if fact["subject"] == subject and fact["event"] == kind and fact["withdrawn"] is None:
            fact["withdrawn"] = {
                "position": position,
                "recorded_at": recorded_at,
                "principal": event.principal,
                "reason": event.reason,
            }
            return


def _quarter(label: str) -> Period:
    return Period.parse(label, ("active_quarters",))


def deliverable_item(deliverable: dict[str, Any], delivery: Delivery, as_of: date) -> dict[str, Any]:
    quarters = [_quarter(label) for label in deliverable["active_quarters"]]
    status = delivery.status_on(as_of)

    def on(day: date | None) -> date | None:
        return day if day is not None and day <= as_of else None

    delivered, dropped = on(delivery.delivered), on(delivery.dropped)
    return {
        "code": deliverable["code"],
        "area": deliverable["area"],
        "title": deliverable["title"],
        "planned_quarters": deliverable["active_quarters"],
        "planned_start": quarters[0].start,
        "planned_end": quarters[-1].end,
        "status": status,
        "started_on": on(delivery.started),
        "delivered_on": delivered,
        "evidence": delivery.evidence if delivered else None,
        "dropped_on": dropped,
        "reason": delivery.reason if dropped else None,
        "late": status in ("not_started", "started") and as_of > quarters[-1].end,
        "late_start": status == "not_started" and as_of > quarters[0].end,
    }


def milestone_item(found: dict[str, Any], outcome: Outcome, as_of: date) -> dict[str, Any]:
    period = found["period"]
    due = None if period is None else date.fromisoformat(str(period["end"]))
    met = outcome.met if outcome.met is not None and outcome.met <= as_of else None
    missed = outcome.missed if outcome.missed is not None and outcome.missed <= as_of else None
    if met is not None:
        status = "met"
    elif missed is not None:
        status = "missed"
    elif period is None:
        status = "open"
    elif as_of < date.fromisoformat(str(period["start"])):
        status = "upcoming"
    else:
        status = "due" if due is not None and as_of <= due else "overdue"
    return {
        "code": found["code"],
        "paragraph": found["paragraph"],
        "text": found["text"],
        "period": period,
        "due": due,
        "status": status,
        "met_on": met,
        "missed_on": missed,
        "note": outcome.met_note if met is not None else outcome.missed_note if missed is not None else None,
        "late": met is not None and due is not None and met > due,
    }


def _pinned(known: WorkplanAt, as_of: date) -> dict[str, Any]:
    return {"as_of": as_of, "position": known.position, "framework_version": known.framework.version}


def deliverables(
    app: EventLogApplication,
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    area: str | None = None,
    status: str | None = None,
    late: bool | None = None,
) -> dict[str, Any]:
    """Every deliverable planned vs recorded (`area`, `status`, `late`: only those)."""
    known = workplan_at(app, at, known_at)
    every = [
        deliverable_item(deliverable, known.delivery(deliverable["code"]), as_of)
        for deliverable in known.framework.content["deliverables"]
    ]
    counts = Counter(item["status"] for item in every)
    summary = {
        "deliverables": len(every),
        "by_status": {name: counts[name] for name in DELIVERY_STATUSES},
        "late": sum(item["late"] for item in every),
        "late_start": sum(item["late_start"] for item in every),
    }
    items = [
        item
        for item in every
        if (area is None or item["area"] == area)
        and (status is None or item["status"] == status)
        and (late is None or item["late"] == late)
    ]
    return {**_pinned(known, as_of), "summary": summary, "items": items}


def deliverable(
    app: EventLogApplication, code: str, as_of: date, at: int | None = None, known_at: datetime | None = None
) -> dict[str, Any]:
    """One deliverable planned vs recorded, with every fact recorded of it up to the position."""
    known = workplan_at(app, at, known_at)
    check_deliverable(known.framework, code)
    (found,) = (d for d in known.framework.content["deliverables"] if d["code"] == code)
    item = deliverable_item(found, known.delivery(code), as_of)
    return {**item, **_pinned(known, as_of), "history": known.history(code)}


def milestones(
    app: EventLogApplication,
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Every roadmap milestone: due when, and met or missed (`status`: only those)."""
    known = workplan_at(app, at, known_at)
    every = [
        milestone_item(found, known.outcome(found["code"], found.get("replaces", [])), as_of)
        for found in known.framework.content["milestones"]
    ]
    counts = Counter(item["status"] for item in every)
    summary = {"milestones": len(every), "by_status": {name: counts[name] for name in MILESTONE_STATUSES}}
    items = [item for item in every if status is None or item["status"] == status]
    return {**_pinned(known, as_of), "summary": summary, "items": items}


def milestone_detail(
    app: EventLogApplication, code: str, as_of: date, at: int | None = None, known_at: datetime | None = None
) -> dict[str, Any]:
    """One milestone, with every outcome recorded of it up to the position."""
    known = workplan_at(app, at, known_at)
    found = milestone(known.framework, code)
    replaces = found.get("replaces", [])
    item = milestone_item(found, known.outcome(code, replaces), as_of)
    return {**item, **_pinned(known, as_of), "history": known.history(code, replaces)}
