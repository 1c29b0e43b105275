"""`stocktake scope ...`: the programme management team selects and
deselects countries and sectors from the valid dates they take effect, and
reads the scope as of a date, as known at a log position. Each command makes
the application call of its HTTP operation (POST /scope/countries,
/scope/sectors, .../deselection; GET /scope) after the same validation (the
request bodies' own models), so the CLI and the API accept and refuse the
same decisions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from services.common.errors import DomainError, InvalidCommandError
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import catalogue
from services.measurement.domain.scope import IloRegion, SelectionCriterion
from services.measurement.domain.scope_periods import PROGRAMME_START
from services.measurement.domain.values import Period
from services.measurement.entrypoints.cli_common import DatabaseOption, cli_principal, console, opened, settings_for
from services.measurement.entrypoints.http.schemas.common import MAX_POSITION, Country
from services.measurement.entrypoints.http.schemas.scope import (
    CountrySelection,
    Deselection,
    FocalPointNomination,
    SectorSelection,
)

scope_app = typer.Typer(
    help="The programme's scope: countries and sectors, each with the dates it is in scope.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DATE_FORMS = "a day (2019-06-30) or the first day of a month (2019-06), quarter (2019-Q2) or year (2019)"
SelectedFrom = Annotated[
    str | None,
    typer.Option("--from", help=f"The first day in scope: {DATE_FORMS} (default: the programme's, {PROGRAMME_START})"),
]
LeftFrom = Annotated[str, typer.Option("--from", help=f"The first day out of scope: {DATE_FORMS}")]
Reason = Annotated[str, typer.Option(help="Why the country or sector leaves the scope (kept in the history)")]
CountryArgument = Annotated[
    str, typer.Argument(help="The country: ISO 3166-1 alpha-3 code (KHM), alpha-2 code (KH) or English name")
]
SectorArgument = Annotated[str, typer.Argument(help="The sector's code, e.g. GARMENTS (letters, digits, . _ -)")]

# Where a field of a request body (or of a domain refusal) is given on the command line.
OPTION_OF_FIELD = {
    "iso3": "COUNTRY",
    "country": "COUNTRY",
    "code": "CODE",
    "region": "--region",
    "criteria": "--decent-work-deficits, --political-commitment, --ilo-presence",
    "name": "--name",
    "rationale": "--rationale",
    "valid_from": "--from",
    "reason": "--reason",
    "email": "--email",
    "as_of": "--as-of",
}
SECTOR_CODE = TypeAdapter(Annotated[str, Field(max_length=64)])  # the path parameter of /scope/sectors/{code}
COUNTRY = TypeAdapter(Country)

Body = TypeVar("Body", bound=BaseModel)


def _option(path: Sequence[str | int]) -> str:
    """The option (or argument) that gives the field at `path`."""
    if len(path) >= 2 and path[0] == "criteria":  # criteria.ilo_presence.evidence: --ilo-presence
        return f"--{str(path[1]).replace('_', '-')}"
    return OPTION_OF_FIELD.get(str(path[0]), ".".join(map(str, path))) if path else ""


def _malformed(problems: Sequence[tuple[Sequence[str | int], str]]) -> typer.Exit:
    """A value the request's schema refuses (HTTP: 422 before any rule): exit
    2, as for any other malformed option, naming each option and what is wrong."""
    console.print("[red]Nothing was recorded: a value is not valid.[/red]", soft_wrap=True)
    for path, message in problems:
        console.print(f"  {_option(path)}: {message}", soft_wrap=True)
    return typer.Exit(2)


def _validated(model: type[Body], fields: dict[str, Any]) -> Body:
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise _malformed([(e["loc"], _message(e)) for e in error.errors()]) from None


def _message(error: Any) -> str:
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


def _checked(adapter: TypeAdapter[str], value: str, path: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        raise _malformed([((path,), _message(e)) for e in error.errors()]) from None


@contextmanager
def _deciding(database_url: str | None) -> Iterator[Measurement]:
    """The application on the store, for one decision: one the rules refuse
    ends the command with the API's sentence (exit 1), nothing recorded."""
    with opened(settings_for(database_url)) as running:
        try:
            yield running.measurement
        except DomainError as error:
            raise _refused(error) from None


def _refused(error: DomainError) -> typer.Exit:
    """A decision the programme's rules refuse (HTTP: 404, 409 or 422): exit 1, saying why."""
    console.print(f"[red]{error.detail}[/red]", soft_wrap=True)
    for problem in error.problems:
        if problem.detail != error.detail:
            console.print(f"  {_option(problem.path)}: {problem.detail}", soft_wrap=True)
    return typer.Exit(1)


def periods_text(periods: Sequence[dict[str, Any]]) -> str:
    """A country's or sector's periods in scope: "2017-01-01..2020-12-31 (Project closed); 2022-01-01.."."""
    return "; ".join(
        f"{period['first_day']}..{period['last_day'] or ''}"
        + (f" ({period['ended_because']})" if period["ended_because"] else "")
        for period in periods
    )


def periods_said(periods: Sequence[dict[str, Any]]) -> str:
    """The same in a sentence: "from 2019-07-01 to 2020-12-31 (deselected: Project closed) and from 2022-01-01"."""
    return " and ".join(
        f"from {p['first_day']}"
        + (f" to {p['last_day']}" if p["last_day"] else "")
        + (f" (deselected: {p['ended_because']})" if p["ended_because"] else "")
        for p in periods
    )


def in_scope_on(periods: Sequence[dict[str, Any]], day: date) -> bool:
    return any(p["first_day"] <= day and (p["last_day"] is None or day <= p["last_day"]) for p in periods)


def _decided(scope: dict[str, Any], kind: str, code: str, what: str) -> None:
    listed = scope["countries"] if kind == "country" else scope["sectors"]
    (entry,) = [item for item in listed if item["iso3" if kind == "country" else "code"] == code]
    console.print(
        f"{kind.capitalize()} {code} ({entry['name']}) {what}: in scope {periods_said(entry['periods'])} "
        f"(log position {scope['position']}).",
        soft_wrap=True,
        highlight=False,
    )


@scope_app.command("select-country")
def select_country(
    country: CountryArgument,
    region: Annotated[IloRegion, typer.Option(help="The ILO region it is in")],
    decent_work_deficits: Annotated[
        str, typer.Option(help="Evidence of significant decent work deficits in the sector (para. 8)")
    ],
    political_commitment: Annotated[str, typer.Option(help="Evidence of political commitment to the programme")],
    ilo_presence: Annotated[str, typer.Option(help="Evidence of a strong, well-established ILO presence")],
    not_met: Annotated[
        list[SelectionCriterion] | None,
        typer.Option(help="A criterion the evidence shows is not met (repeat for each; default: all are met)"),
    ] = None,
    valid_from: SelectedFrom = None,
    database_url: DatabaseOption = None,
) -> None:
    """Select a programme country from a date, with the evidence for the three criteria of para. 8."""
    evidence = {
        SelectionCriterion.DECENT_WORK_DEFICITS: decent_work_deficits,
        SelectionCriterion.POLITICAL_COMMITMENT: political_commitment,
        SelectionCriterion.ILO_PRESENCE: ilo_presence,
    }
    unmet = set(not_met or ())
    fields: dict[str, Any] = {
        "iso3": country,
        "region": region.value,
        "criteria": {c.value: {"met": c not in unmet, "evidence": text} for c, text in evidence.items()},
    }
    if valid_from is not None:
        fields["valid_from"] = valid_from
    body = _validated(CountrySelection, fields)
    with _deciding(database_url) as measurement:
        scope = measurement.select_country(
            body.iso3, body.region, body.criteria.model_dump(), cli_principal(), body.valid_from
        )
    _decided(scope, "country", body.iso3, "selected")


@scope_app.command("select-sector")
def select_sector(
    code: SectorArgument,
    name: Annotated[str, typer.Option(help="Its name, e.g. 'Garments and textiles'")],
    rationale: Annotated[str, typer.Option(help="The evidence the selection is based on")],
    valid_from: SelectedFrom = None,
    database_url: DatabaseOption = None,
) -> None:
    """Select a sectoral supply chain from a date (at most four in scope at the same time, para. 8)."""
    fields: dict[str, Any] = {"code": code, "name": name, "rationale": rationale}
    if valid_from is not None:
        fields["valid_from"] = valid_from
    body = _validated(SectorSelection, fields)
    with _deciding(database_url) as measurement:
        scope = measurement.select_sector(body.code, body.name, body.rationale, cli_principal(), body.valid_from)
    _decided(scope, "sector", body.code, "selected")


@scope_app.command("deselect-country")
def deselect_country(
    country: CountryArgument,
    valid_from: LeftFrom,
    reason: Reason,
    database_url: DatabaseOption = None,
) -> None:
    """End a country's period in scope: from --from on, its cells are neither recorded nor combined."""
    _deselect("country", _checked(COUNTRY, country, "country"), valid_from, reason, database_url)


@scope_app.command("deselect-sector")
def deselect_sector(
    code: SectorArgument,
    valid_from: LeftFrom,
    reason: Reason,
    database_url: DatabaseOption = None,
) -> None:
    """End a sector's period in scope: from --from on, its cells are neither recorded nor combined."""
    _deselect("sector", _checked(SECTOR_CODE, code, "code"), valid_from, reason, database_url)


def _deselect(kind: str, code: str, valid_from: str, reason: str, database_url: str | None) -> None:
    """A country's or a sector's deselection (POST /scope/{countries,sectors}/{code}/deselection)."""
    body = _validated(Deselection, {"valid_from": valid_from, "reason": reason})
    with _deciding(database_url) as measurement:
        deselect = measurement.deselect_country if kind == "country" else measurement.deselect_sector
        scope = deselect(code, body.valid_from, body.reason, cli_principal())
    _decided(scope, kind, code, "deselected")


@scope_app.command("focal-point")
def focal_point(
    region: Annotated[IloRegion, typer.Option(help="The ILO region whose Regional Office nominates")],
    name: Annotated[str, typer.Option(help="The focal point's name")],
    email: Annotated[str, typer.Option(help="The focal point's email address")],
    database_url: DatabaseOption = None,
) -> None:
    """Record the GSC focal point an ILO Regional Office nominated (para. 11); a
    later nomination for the same region replaces it from then on."""
    body = _validated(FocalPointNomination, {"region": region.value, "name": name, "email": email})
    with _deciding(database_url) as measurement:
        scope = measurement.nominate_focal_point(body.region, body.name, body.email, cli_principal())
    console.print(
        f"Focal point for {body.region.value}: {body.name} <{body.email}> (log position {scope['position']}).",
        soft_wrap=True,
        highlight=False,
    )


@scope_app.command("show")
def show(
    as_of: Annotated[
        str | None,
        typer.Option(help="Valid date: 2019-06-30, or the last day of 2019-06, 2019-Q2 or 2019 (default: today, UTC)"),
    ] = None,
    at: Annotated[
        int | None, typer.Option(min=0, max=MAX_POSITION, help="As known at this log position (default: the head)")
    ] = None,
    in_scope: Annotated[bool, typer.Option("--in-scope", help="Only the countries and sectors in scope then")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Every country and sector selected, whether it is in scope as of the
    date, and its periods in scope; then the focal points. Tab-separated lines."""
    try:
        day = datetime.now(UTC).date() if as_of is None else Period.parse(as_of, ("as_of",)).valid_date
    except InvalidCommandError as error:
        raise _malformed([(("as_of",), error.detail)]) from None
    with opened(settings_for(database_url)) as running:
        scope = catalogue.scope(running.measurement, at)
    typer.echo(f"# as of {day.isoformat()}, log position {scope['position']}")
    typer.echo("\t".join(("kind", "code", "name", "in_scope", "periods", "region")))
    rows = [("country", c["iso3"], c["name"], c["periods"], c["region"]) for c in scope["countries"]]
    rows += [("sector", s["code"], s["name"], s["periods"], "-") for s in scope["sectors"]]
    for kind, code, name, periods, region in sorted(rows, key=lambda row: (row[0], row[1])):
        now_in = in_scope_on(periods, day)
        if now_in or not in_scope:
            typer.echo("\t".join((kind, code, name, "yes" if now_in else "no", periods_text(periods), region)))
    typer.echo("# focal points: region, name, email")
    for point in sorted(scope["focal_points"], key=lambda p: p["region"]):
        typer.echo("\t".join(("focal_point", point["region"], point["name"], point["email"])))
