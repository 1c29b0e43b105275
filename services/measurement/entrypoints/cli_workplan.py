"""`stocktake workplan ...`: the programme management team records a
deliverable's delivery and a milestone's outcome from the command line,
withdraws a record made in error, and reads the workplan planned vs
recorded (as the HTTP API does)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from services.common.errors import DomainError
from services.measurement.application import workplan
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import workplan as queries
from services.measurement.application.workplan import DeliveryStatus, MilestoneOutcome
from services.measurement.domain.values import Period
from services.measurement.entrypoints.cli_common import DatabaseOption, cli_principal, console, opened, settings_for

workplan_app = typer.Typer(
    help="Workplan delivery and roadmap milestones.", no_args_is_help=True, rich_markup_mode=None
)

On = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="The date it happened on, YYYY-MM-DD")]


def _refused(error: DomainError) -> typer.Exit:
    console.print(f"[red]{error.detail}[/red]", soft_wrap=True)
    for problem in error.problems:
        if problem.detail != error.detail:
            console.print(f"  --{'.'.join(map(str, problem.path))}: {problem.detail}", soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def _recording(database_url: str | None) -> Iterator[Measurement]:
    """The application on the store, for one record: one the rules refuse ends
    the command with the API's sentence (exit 1), nothing recorded."""
    with opened(settings_for(database_url)) as running:
        try:
            yield running.measurement
        except DomainError as error:
            raise _refused(error) from None


@workplan_app.command("deliverable")
def record_delivery(
    code: Annotated[str, typer.Argument(help="The deliverable, e.g. 2.1 (Appendix I)")],
    status: Annotated[DeliveryStatus, typer.Argument(help="started, delivered or dropped")],
    on: On,
    evidence: Annotated[str | None, typer.Option(help="Delivered: a link to what was delivered")] = None,
    reason: Annotated[str | None, typer.Option(help="Dropped: why")] = None,
    note: Annotated[str | None, typer.Option(help="Started or delivered: anything to add")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record that a deliverable was started, delivered or dropped on a date."""
    with _recording(database_url) as measurement:
        answer = workplan.record_delivery(
            measurement,
            code,
            status=status,
            on=on.date(),
            evidence=evidence,
            reason=reason,
            note=note,
            principal=cli_principal(),
        )
    console.print(f"Deliverable {code}: {status} on {on.date().isoformat()} (log position {answer['position']}).")


@workplan_app.command("milestone")
def record_milestone_outcome(
    code: Annotated[str, typer.Argument(help="The milestone, e.g. M1 (`stocktake workplan show`)")],
    outcome: Annotated[MilestoneOutcome, typer.Argument(help="met or missed")],
    on: On,
    note: Annotated[str, typer.Option(help="What was done (met), or what happened instead (missed)")],
    database_url: DatabaseOption = None,
) -> None:
    """Record that a milestone was met, or missed, on a date, with a note."""
    with _recording(database_url) as measurement:
        answer = workplan.record_milestone_outcome(
            measurement, code, outcome=outcome, on=on.date(), note=note, principal=cli_principal()
        )
    console.print(f"Milestone {code}: {outcome} on {on.date().isoformat()} (log position {answer['position']}).")


Reason = Annotated[str, typer.Option(help="Why the record is withdrawn (kept in the history)")]


@workplan_app.command("withdraw-deliverable")
def withdraw_delivery_record(
    code: Annotated[str, typer.Argument(help="The deliverable, e.g. 2.1 (Appendix I)")],
    record: Annotated[DeliveryStatus, typer.Argument(help="The record made in error: started, delivered or dropped")],
    reason: Reason,
    database_url: DatabaseOption = None,
) -> None:
    """Withdraw a deliverable's record made in error (it stays in the history, marked withdrawn)."""
    with _recording(database_url) as measurement:
        answer = workplan.withdraw_delivery_record(
            measurement, code, record=record, reason=reason, principal=cli_principal()
        )
    _withdrawn(f"Deliverable {code}: its {record} record", answer)


@workplan_app.command("withdraw-milestone")
def withdraw_milestone_outcome(
    code: Annotated[str, typer.Argument(help="The milestone, e.g. M1 (`stocktake workplan show`)")],
    outcome: Annotated[MilestoneOutcome, typer.Argument(help="The outcome recorded in error: met or missed")],
    reason: Reason,
    database_url: DatabaseOption = None,
) -> None:
    """Withdraw a milestone's outcome recorded in error (it stays in the history, marked withdrawn)."""
    with _recording(database_url) as measurement:
        answer = workplan.withdraw_milestone_outcome(
            measurement, code, outcome=outcome, reason=reason, principal=cli_principal()
        )
    _withdrawn(f"Milestone {code}: its {outcome} outcome", answer)


def _withdrawn(what: str, answer: dict[str, Any]) -> None:
    console.print(f"{what} is withdrawn; now {answer['status']} (log position {answer['position']}).", soft_wrap=True)


@workplan_app.command("show")
def show(
    as_of: Annotated[
        str | None, typer.Option(help="Valid date: 2019-06-30, 2019-06, 2019-Q2 or 2019 (default: today, UTC)")
    ] = None,
    at: Annotated[int | None, typer.Option(min=0, help="As known at this log position (default: the head)")] = None,
    late: Annotated[bool, typer.Option("--late", help="Only the late deliverables")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Each deliverable planned vs recorded and each milestone, as tab-separated lines."""
    try:
        day = datetime.now(UTC).date() if as_of is None else Period.parse(as_of, ("as_of",)).valid_date
        with opened(settings_for(database_url)) as running:
            deliveries = queries.deliverables(running.measurement, day, at, late=True if late else None)
            milestones = queries.milestones(running.measurement, day, at)
    except DomainError as error:
        raise _refused(error) from None
    typer.echo(
        f"# as of {day.isoformat()}, log position {deliveries['position']}, "
        f"framework version {deliveries['framework_version']}"
    )
    typer.echo("\t".join(("deliverable", "status", "planned", "started", "delivered", "dropped", "late")))
    for item in deliveries["items"]:
        planned = f"{item['planned_quarters'][0]}..{item['planned_quarters'][-1]}"
        typer.echo("\t".join((item["code"], item["status"], planned, *map(_day, _dates(item)), _late(item))))
    typer.echo("\t".join(("milestone", "status", "due", "met", "missed")))
    for item in milestones["items"]:
        typer.echo("\t".join((item["code"], item["status"], *(_day(item[k]) for k in ("due", "met_on", "missed_on")))))


def _dates(item: dict[str, Any]) -> tuple[date | None, ...]:
    return item["started_on"], item["delivered_on"], item["dropped_on"]


def _day(day: date | None) -> str:
    return "-" if day is None else day.isoformat()


def _late(item: dict[str, Any]) -> str:
    return "late" if item["late"] else "late start" if item["late_start"] else "-"
