"""The programme management team's records of the workplan: a deliverable
started, delivered or dropped, a milestone met or missed, each on a date,
and the withdrawal of a record made in error. Each answers with the
deliverable or milestone as it now stands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Literal

from services.common.errors import ConflictError, ErrorCollector
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import workplan as queries
from services.measurement.domain.framework import PROGRAMME, FrameworkDocument
from services.measurement.domain.workplan import Workplan

DeliveryStatus = Literal["started", "delivered", "dropped"]
MilestoneOutcome = Literal["met", "missed"]
# Every record goes on the programme's one workplan stream: one saved at the
# same moment by another manager is no conflict of facts, so it is retried.
SAVING_ATTEMPTS = 3


def _today() -> date:
    return datetime.now(UTC).date()


def _record(measurement: Measurement, change: Callable[[Workplan, FrameworkDocument], None], principal: str) -> int:
    """Applies `change` to the workplan as it stands and saves it; the log position of the record."""
    for attempt in range(SAVING_ATTEMPTS):
        framework = measurement.current_framework()
        found = measurement.find(Workplan.create_id(PROGRAMME), Workplan)
        workplan = found or Workplan(programme=PROGRAMME, principal=principal)
        change(workplan, framework)
        try:
            measurement.save(workplan)
        except ConflictError:
            if attempt == SAVING_ATTEMPTS - 1:
                raise
            continue
        (*_, last) = measurement.last_saved().projected()
        return last.position
    raise AssertionError("unreachable")


def record_delivery(
    measurement: Measurement,
    code: str,
    *,
    status: DeliveryStatus,
    on: date,
    evidence: str | None,
    reason: str | None,
    note: str | None,
    principal: str,
) -> dict[str, Any]:
    """Records that deliverable `code` was started, delivered (with `evidence`)
    or dropped (with `reason`) `on` a date."""
    _check_details(status, evidence, reason, note)
    today = _today()

    def change(workplan: Workplan, framework: FrameworkDocument) -> None:
        if status == "started":
            workplan.start(framework, code, on, note, principal, today)
        elif status == "delivered":
            assert evidence is not None
            workplan.deliver(framework, code, on, evidence, note, principal, today)
        else:
            assert reason is not None
            workplan.drop(framework, code, on, reason, principal, today)

    position = _record(measurement, change, principal)
    return queries.deliverable(measurement, code, today, at=position)


def _check_details(status: DeliveryStatus, evidence: str | None, reason: str | None, note: str | None) -> None:
    errors = ErrorCollector()
    if status == "delivered" and evidence is None:
        errors.add(("evidence",), "A delivery needs `evidence`: a link to what was delivered.")
    if status != "delivered" and evidence is not None:
        errors.add(("evidence",), f"Only a delivery has evidence, not a deliverable {status}.")
    if status == "dropped" and reason is None:
        errors.add(("reason",), "Dropping a deliverable needs a `reason`.")
    if status != "dropped" and reason is not None:
        errors.add(("reason",), f"Only a dropped deliverable has a reason: give a {status} one a `note`.")
    if status == "dropped" and note is not None:
        errors.add(("note",), "A dropped deliverable has a `reason`, not a note.")
    errors.raise_if_any("The details do not fit the status.")


def record_milestone_outcome(
    measurement: Measurement, code: str, *, outcome: MilestoneOutcome, on: date, note: str, principal: str
) -> dict[str, Any]:
    """Records that milestone `code` was met, or missed, `on` a date, with a note."""
    today = _today()

    def change(workplan: Workplan, framework: FrameworkDocument) -> None:
        if outcome == "met":
            workplan.meet(framework, code, on, note, principal, today)
        else:
            workplan.miss(framework, code, on, note, principal, today)

    position = _record(measurement, change, principal)
    return queries.milestone_detail(measurement, code, today, at=position)


def withdraw_delivery_record(
    measurement: Measurement, code: str, *, record: DeliveryStatus, reason: str, principal: str
) -> dict[str, Any]:
    """Withdraws deliverable `code`'s `record`, made in error, saying why."""

    def change(workplan: Workplan, framework: FrameworkDocument) -> None:
        workplan.withdraw_delivery_record(framework, code, record, reason, principal)

    position = _record(measurement, change, principal)
    return queries.deliverable(measurement, code, _today(), at=position)


def withdraw_milestone_outcome(
    measurement: Measurement, code: str, *, outcome: MilestoneOutcome, reason: str, principal: str
) -> dict[str, Any]:
    """Withdraws milestone `code`'s `outcome`, recorded in error, saying why."""

    def change(workplan: Workplan, framework: FrameworkDocument) -> None:
        workplan.withdraw_outcome(framework, code, outcome, reason, principal)

    position = _record(measurement, change, principal)
    return queries.milestone_detail(measurement, code, _today(), at=position)
