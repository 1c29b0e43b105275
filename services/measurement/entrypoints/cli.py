"""`stocktake`: the operational verbs (migrate, load the framework, load the
illustrative sample, serve)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.common.access import Principal, Role
from services.common.api_keys import ApiKeys, KeyInfo
from services.common.errors import DomainError, InvalidCommandError
from services.common.migrations import upgrade
from services.measurement.adapters.framework_file import FrameworkFileError, read_framework_file
from services.measurement.application.commands import Measurement
from services.measurement.application.queries import catalogue
from services.measurement.application.rebuild import RebuildReport, RebuildRunningError, needs_rebuild, rebuild
from services.measurement.entrypoints.cli_audit import audit_app, db_app
from services.measurement.entrypoints.cli_common import DatabaseOption, cli_principal, console, opened, settings_for
from services.measurement.entrypoints.cli_scope import in_scope_on, periods_said, scope_app
from services.measurement.entrypoints.cli_workplan import workplan_app
from services.measurement.sample import load_sample, sample_keys
from services.measurement.settings import Settings

# Click's plain help (rich_markup_mode=None): a flag is shown as a flag (no "<bool>"), and
# docstrings are re-wrapped to the terminal rather than broken where the source breaks them.
app = typer.Typer(
    help="Stocktake measurement service.", no_args_is_help=True, add_completion=False, rich_markup_mode=None
)
keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(workplan_app, name="workplan")
app.add_typer(scope_app, name="scope")


def run_migrations(settings: Settings) -> None:
    settings.ensure_sqlite_folder()
    upgrade(settings.owner_url)


def _load_framework(measurement: Measurement, path: Path | None) -> None:
    try:
        document, digest = read_framework_file(path)
        result = measurement.load_framework(document, digest, cli_principal())
    except (FrameworkFileError, DomainError) as error:
        console.print(f"[red]Framework not loaded:[/red] {error}")
        raise typer.Exit(1) from None
    state = "loaded" if result["loaded"] else "already loaded"
    console.print(f"Framework {result['code']} version {result['version']}: {state}.")


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade every table (alembic upgrade head), then rebuild the
    read models if they are behind the log (after a read-model change)."""
    settings = settings_for(database_url)
    run_migrations(settings)
    console.print(f"Database at head: {settings.database_url}")
    # As the owner: a rebuild creates and swaps tables.
    with opened(settings.as_owner()) as running:
        if needs_rebuild(running.measurement):
            console.print("Read models are behind the log: rebuilding them.")
            _rebuild_with_progress(running.measurement, verify=False)


def _rebuild_with_progress(measurement: Measurement, verify: bool, workers: int | None = None) -> RebuildReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = {"replay": "Replaying the log (position)", "write": "Writing rebuilt rows"}[phase]
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done, total=max(total, done))

        try:
            return rebuild(measurement, verify=verify, progress=report, workers=workers)
        except RebuildRunningError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from None


@app.command("rebuild")
def rebuild_command(
    verify: Annotated[
        bool, typer.Option("--verify", help="Compare a fresh rebuild with the live read models; change nothing")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=16,
            help="Processes replaying the log side by side (PostgreSQL; default: one per CPU "
            "for 50,000 events or more)",
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Rebuild every read model from the event log and swap it in (as the
    tables' owner, $STOCKTAKE_MIGRATION_DATABASE_URL when set)."""
    with opened(settings_for(database_url).as_owner()) as running:
        started = time.perf_counter()
        report = _rebuild_with_progress(running.measurement, verify, workers)
        seconds = time.perf_counter() - started
    rate = report.events / seconds if seconds else 0.0
    console.print(
        f"{report.events} events, {report.rows} rows, up to position {report.position}, "
        f"in {seconds:.1f} s ({rate:,.0f} events/s)."
    )
    if not verify:
        console.print("Rebuilt read models swapped in.")
        return
    if not report.differences:
        console.print("[green]No difference[/green] between the rebuilt and the live read models.")
        return
    table = Table("table", "key", "live", "rebuilt", title=f"{len(report.differences)} differences")
    for difference in report.differences[:200]:
        table.add_row(difference.table, str(difference.key), str(difference.live), str(difference.rebuilt))
    console.print(table)
    # Named in full whatever the terminal's width (a narrow table cuts its cells short).
    differing = sorted({difference.table for difference in report.differences})
    console.print(f"Read models that differ from the log: {', '.join(differing)}.", soft_wrap=True)
    raise typer.Exit(1)


@app.command("load-framework")
def load_framework(
    path: Annotated[
        Path | None,
        typer.Argument(help="Framework YAML (default: the roadmap's, version 2; a store at version 1 moves to it)"),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record the programme framework (a no-op if this revision is loaded)."""
    with opened(settings_for(database_url)) as running:
        _load_framework(running.measurement, path)


@app.command("load-sample")
def load_sample_command(
    database_url: DatabaseOption = None,
    keys: Annotated[
        bool,
        typer.Option(
            "--keys",
            help="Also print an API key for each of the sample's principals, kept in the data folder's "
            "illustrative-keys.txt as stocktake up keeps them (docker compose does this)",
        ),
    ] = False,
) -> None:
    """Record the ILLUSTRATIVE sample history (not real ILO data)."""
    settings = settings_for(database_url)
    with opened(settings) as running:
        loaded = load_sample(running.measurement)
        console.print("Illustrative sample " + ("loaded." if loaded else "already present."))
        if keys:
            issued = sample_keys(running.api_keys, settings.sample_keys_path)
            _print_sample_keys(issued, settings.sample_keys_path, "localhost", 8000)


def openapi_document() -> str:
    from services.measurement.entrypoints.http.app import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@app.command("export-openapi")
def export_openapi(
    path: Annotated[Path, typer.Argument(help="Where to write it")] = Path("openapi/measurement.json"),
    check: Annotated[bool, typer.Option("--check", help="Only check the file is current; exit 1 if not")] = False,
) -> None:
    """Write (or check) the committed OpenAPI document of the measurement API."""
    document = openapi_document()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != document:
            console.print(f"[red]{path} is out of date:[/red] run `stocktake export-openapi`.")
            raise typer.Exit(1)
        console.print(f"{path} is current.")
        return
    path.write_text(document, encoding="utf-8")
    console.print(f"Wrote {path}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the HTTP API (no migration, no loading)."""
    settings = settings_for(database_url)
    _serve(settings, host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    # Workers build the app from the environment, so the chosen store goes there.
    os.environ["STOCKTAKE_DATABASE_URL"] = settings.database_url
    console.print(f"API docs: http://{host}:{port}/docs   (OpenAPI: http://{host}:{port}/openapi.json)")
    uvicorn.run(
        "services.measurement.entrypoints.http.app:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@contextmanager
def _api_keys(database_url: str | None) -> Iterator[ApiKeys]:
    with opened(settings_for(database_url)) as running:
        yield running.api_keys


def _fail(error: DomainError) -> typer.Exit:
    console.print(f"[red]{error.detail}[/red]")
    for problem in error.problems:
        if problem.detail != error.detail:
            console.print(f"  {'.'.join(map(str, problem.path))}: {problem.detail}")
    return typer.Exit(1)


@keys_app.command("issue")
def issue_key(
    principal: Annotated[str, typer.Argument(help="Who holds the key, e.g. office-bgd (recorded on every event)")],
    role: Annotated[Role, typer.Option(help="What the key may do")],
    country: Annotated[
        list[str] | None,
        typer.Option(
            help="A country of a country-office key: the ISO 3166-1 alpha-3 code of a country in the programme's "
            "scope today. Repeat the option for each country: --country BGD --country VNM"
        ),
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note for operators, e.g. who asked for it")] = None,
    outside_scope: Annotated[
        bool,
        typer.Option(
            "--outside-scope",
            help="Issue a country-office key for a country that was (or will be) in the programme's scope but is "
            "not today: it records observations only for dates in scope, and corrects what its principal recorded",
        ),
    ] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Issue an API key. It is printed once, here; only its hash is kept."""
    elsewhen: list[str] = []
    try:
        with opened(settings_for(database_url)) as running:
            if role is Role.COUNTRY_OFFICE:
                elsewhen = _check_in_scope(running.measurement, country or [], outside_scope)
            issued = running.api_keys.issue(principal, role, country or [], label, cli_principal())
    except DomainError as error:
        raise _fail(error) from None
    if elsewhen:
        console.print(
            f"[yellow]Not in the programme's scope today:[/yellow] {'; '.join(elsewhen)}. This key records "
            "observations only for dates in scope, and corrects or retracts what its principal recorded.",
            soft_wrap=True,
            highlight=False,
        )
    console.print(
        f"Key {issued.info.key_id} for {principal} ({role.value}"
        + (f"; {', '.join(sorted(issued.info.principal.countries))}" if issued.info.principal.countries else "")
        + "). It is shown only now: store it safely."
    )
    typer.echo(issued.token)


def _check_in_scope(measurement: Measurement, countries: list[str], outside_scope: bool) -> list[str]:
    """A country office acts for countries in the programme's scope today (a
    code that is no country at all is the key's own check to explain).

    A country that was in scope and was deselected (or is selected from a
    later day) is refused unless `outside_scope` asks for it: observations
    are valid-dated, so its office may still record late figures for the
    dates it was in scope, or correct what it recorded with a replacement
    key. Returns, for each such country allowed, when it is in scope."""
    today = datetime.now(UTC).date()
    selected = {c["iso3"]: c["periods"] for c in catalogue.scope(measurement)["countries"]}
    in_scope = sorted(iso3 for iso3, periods in selected.items() if in_scope_on(periods, today))
    codes = [code.strip().upper() for code in countries]
    never = [code for code in codes if measurement.country_name(code) and code not in selected]
    elsewhen = [code for code in codes if code in selected and code not in in_scope]
    sentences = []
    if never:
        sentences.append(
            f"{', '.join(never)} {'is' if len(never) == 1 else 'are'} not in the programme's scope "
            f"(its countries: {', '.join(in_scope) or 'none in scope today'}). Select a country first "
            "(`stocktake scope select-country`, POST /scope/countries), then issue its key."
        )
    when = [f"{code}, in scope {periods_said(selected[code])}" for code in elsewhen]
    if elsewhen and not outside_scope:
        sentences.append(
            f"Not in the programme's scope today ({today}): {'; '.join(when)}. A key for "
            f"{'it' if len(elsewhen) == 1 else 'them'} records observations only for dates in those periods: add "
            "--outside-scope to issue it for that, or select the country again first (`stocktake scope "
            "select-country`)."
        )
    if sentences:
        raise InvalidCommandError(" ".join(sentences))
    return when


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id (`stocktake keys list`), not the key itself")],
    reason: Annotated[str, typer.Option(help="Why, for the record")],
    database_url: DatabaseOption = None,
) -> None:
    """Revoke an API key at once; requests with it get 401 from then on."""
    try:
        with _api_keys(database_url) as keys:
            info = keys.revoke(key_id, cli_principal(), reason)
    except DomainError as error:
        raise _fail(error) from None
    console.print(f"Key {info.key_id} of {info.principal.name} revoked.")


@keys_app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """The keys (never their secrets): id, principal, role, countries, issued, state, label."""
    with _api_keys(database_url) as keys:
        found = keys.keys(include_revoked=all_keys)
    # Tab-separated lines, never cut to the terminal's width: ids are copied from here.
    typer.echo("\t".join(("id", "principal", "role", "countries", "issued", "state", "label")))
    for info in found:
        typer.echo(
            "\t".join(
                (
                    info.key_id,
                    info.principal.name,
                    info.principal.role.value,
                    ",".join(sorted(info.principal.countries)) or "-",
                    f"{info.issued_at:%Y-%m-%dT%H:%MZ}",
                    _key_state(info),
                    info.label or "",
                )
            )
        )


def _key_state(info: KeyInfo) -> str:
    if info.revoked_at is None:
        return "active"
    return f"revoked {info.revoked_at:%Y-%m-%d} by {info.revoked_by}: {info.revocation_reason}"


def _print_sample_keys(keys: list[tuple[Principal, str]], path: Path, host: str, port: int) -> None:
    # Plain lines, never wrapped or cut: a key is copied from here.
    console.print(f"[yellow]API keys of the illustrative sample[/yellow] (also in {path}):", soft_wrap=True)
    for principal, token in keys:
        countries = ", ".join(sorted(principal.countries)) or "all countries"
        console.print(f"  {principal.role.value:<18} {principal.name} ({countries})", soft_wrap=True)
        console.print(f"      {token}", soft_wrap=True, highlight=False)
    office = next(token for principal, token in keys if principal.role == Role.COUNTRY_OFFICE)
    console.print(
        f"Try: curl -H 'Authorization: Bearer {office}' 'http://{host}:{port}/observations?country=BGD'",
        soft_wrap=True,
        highlight=False,
    )


@app.command()
def up(
    host: str = "127.0.0.1",
    port: int = 8000,
    sample: Annotated[
        bool | None,
        typer.Option(
            "--sample/--no-sample",
            help="Load the illustrative sample history (default: only into the embedded default store, "
            "never into a store named by --database-url or STOCKTAKE_DATABASE_URL)",
        ),
    ] = None,
    reporting_port: Annotated[int, typer.Option(help="Port of the reporting service, started beside")] = 8001,
    database_url: DatabaseOption = None,
) -> None:
    """Migrate, load the framework (and the illustrative sample), then serve
    measurement (on --port, 8000 by default), with the reporting service beside it."""
    settings = settings_for(database_url)
    if sample is None:
        sample = settings.database_url == Settings(database_url="").database_url
    run_migrations(settings)
    with opened(settings) as running:
        if needs_rebuild(running.measurement):
            _rebuild_with_progress(running.measurement, verify=False)
        _load_framework(running.measurement, None)
        if sample:
            loaded = load_sample(running.measurement)
            console.print(
                "[yellow]Illustrative sample history[/yellow] (invented, NOT real ILO data): "
                + ("loaded." if loaded else "already present.")
            )
            keys = sample_keys(running.api_keys, settings.sample_keys_path)
            _print_sample_keys(keys, settings.sample_keys_path, host, port)
    _check_free(host, port, "--port")
    _check_free(host, reporting_port, "--reporting-port")
    with _reporting_beside(settings, host, port, reporting_port):
        os.environ["STOCKTAKE_PAGES_URL"] = f"http://{host}:{reporting_port}/"
        _serve(settings, host, port, 1)


def _check_free(host: str, port: int, option: str) -> None:
    """One line, not a traceback, when the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError:
            console.print(
                f"[red]Port {port} on {host} is in use: stop what holds it, or choose another with {option}.[/red]",
                soft_wrap=True,
            )
            raise typer.Exit(1) from None


REPORTING_MODULE = "services.reporting.entrypoints.cli"  # started by name: measurement never imports reporting


@contextmanager
def _reporting_beside(settings: Settings, host: str, port: int, reporting_port: int) -> Iterator[None]:
    """The reporting service as a child process, reading this one over HTTP;
    stopped when this one stops."""
    environment = {
        **os.environ,
        "STOCKTAKE_DATABASE_URL": settings.database_url,
        "STOCKTAKE_MEASUREMENT_URL": f"http://{host}:{port}",
    }
    command = [sys.executable, "-m", REPORTING_MODULE, "serve", "--host", host, "--port", str(reporting_port)]
    # uvicorn re-raises the SIGTERM that stopped it once it has shut down:
    # turned into SystemExit here, it unwinds through the `finally` below.
    previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    child = subprocess.Popen(command, env=environment)
    console.print(
        f"Measurement: http://{host}:{port}/docs   Reporting: http://{host}:{reporting_port}/docs", soft_wrap=True
    )
    console.print(f"Pages for people: http://{host}:{reporting_port}/ (sign in with an API key)", soft_wrap=True)
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
