"""`stocktake`: the operational verbs (migrate, load the framework, load the
illustrative sample, serve)."""

from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
import uvicorn
from alembic import command
from alembic.config import Config
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.measurement.adapters.framework_file import FrameworkFileError, read_framework_file
from services.measurement.application import Measurement
from services.measurement.bootstrap import build_application
from services.measurement.config import Settings
from services.measurement.domain.errors import DomainError
from services.measurement.rebuild import RebuildReport, needs_rebuild, rebuild
from services.measurement.sample import load_sample

app = typer.Typer(help="Stocktake measurement service.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[3]
DatabaseOption = Annotated[
    Optional[str],
    typer.Option("--database-url", envvar="STOCKTAKE_DATABASE_URL", help="Default: an SQLite file in var/"),
]


def _settings(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


def _cli_principal() -> str:
    return f"cli:{getpass.getuser()}"


def alembic_config(database_url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def run_migrations(settings: Settings) -> None:
    settings.ensure_sqlite_folder()
    command.upgrade(alembic_config(settings.database_url), "head")


def _load_framework(measurement: Measurement, path: Path | None) -> None:
    try:
        document, digest = read_framework_file(path)
        result = measurement.load_framework(document, digest, _cli_principal())
    except (FrameworkFileError, DomainError) as error:
        console.print(f"[red]Framework not loaded:[/red] {error}")
        raise typer.Exit(1) from None
    state = "loaded" if result["loaded"] else "already loaded"
    console.print(f"Framework {result['code']} version {result['version']}: {state}.")


@app.command()
def migrate(database_url: DatabaseOption = None) -> None:
    """Create or upgrade every table (alembic upgrade head), then rebuild the
    read models if they are behind the log (after a read-model change)."""
    settings = _settings(database_url)
    run_migrations(settings)
    console.print(f"Database at head: {settings.database_url}")
    measurement = build_application(settings)
    try:
        if needs_rebuild(measurement):
            console.print("Read models are behind the log: rebuilding them.")
            _rebuild_with_progress(measurement, verify=False)
    finally:
        measurement.database.dispose()


def _rebuild_with_progress(measurement: Measurement, verify: bool) -> RebuildReport:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        tasks: dict[str, TaskID] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                label = {"replay": "Replaying the log (position)", "write": "Writing rebuilt rows"}[phase]
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done, total=max(total, done))

        return rebuild(measurement, verify=verify, progress=report)


@app.command("rebuild")
def rebuild_command(
    verify: Annotated[bool, typer.Option(help="Compare a fresh rebuild with the live read models; change nothing")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Rebuild every read model from the event log and swap it in."""
    measurement = build_application(_settings(database_url))
    try:
        started = time.perf_counter()
        report = _rebuild_with_progress(measurement, verify)
        seconds = time.perf_counter() - started
    finally:
        measurement.database.dispose()
    rate = report.events / seconds if seconds else 0.0
    console.print(f"{report.events} events, {report.rows} rows, up to position {report.position}, "
                  f"in {seconds:.1f} s ({rate:,.0f} events/s).")
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
    raise typer.Exit(1)


@app.command("load-framework")
def load_framework(
    path: Annotated[Optional[Path], typer.Argument(help="Framework YAML (default: the roadmap's, v1)")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record the programme framework (a no-op if this revision is loaded)."""
    measurement = build_application(_settings(database_url))
    _load_framework(measurement, path)


@app.command("load-sample")
def load_sample_command(database_url: DatabaseOption = None) -> None:
    """Record the ILLUSTRATIVE sample history (not real ILO data)."""
    measurement = build_application(_settings(database_url))
    loaded = load_sample(measurement)
    console.print("Illustrative sample " + ("loaded." if loaded else "already present."))


def openapi_document() -> str:
    from services.measurement.entrypoints.http.app import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@app.command("export-openapi")
def export_openapi(
    path: Annotated[Path, typer.Argument(help="Where to write it")] = REPO_ROOT / "openapi" / "measurement.json",
    check: Annotated[bool, typer.Option(help="Only check the file is current; exit 1 if not")] = False,
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
    settings = _settings(database_url)
    _serve(settings, host, port, workers)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    # Workers build the app from the environment, so the chosen store goes there.
    os.environ["STOCKTAKE_DATABASE_URL"] = settings.database_url
    console.print(f"API docs: http://{host}:{port}/docs   (OpenAPI: http://{host}:{port}/openapi.json)")
    uvicorn.run(
        "services.measurement.entrypoints.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@app.command()
def up(
    host: str = "127.0.0.1",
    port: int = 8000,
    sample: Annotated[bool, typer.Option(help="Load the illustrative sample history")] = True,
    database_url: DatabaseOption = None,
) -> None:
    """Migrate, load the framework (and the illustrative sample), then serve."""
    settings = _settings(database_url)
    run_migrations(settings)
    measurement = build_application(settings)
    if needs_rebuild(measurement):
        _rebuild_with_progress(measurement, verify=False)
    _load_framework(measurement, None)
    if sample:
        loaded = load_sample(measurement)
        console.print(
            "[yellow]Illustrative sample history[/yellow] (invented, NOT real ILO data): "
            + ("loaded." if loaded else "already present.")
        )
    measurement.database.dispose()
    _serve(settings, host, port, 1)
