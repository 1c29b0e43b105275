"""What every `stocktake` command group shares: where the store is
(`--database-url`), the service's objects opened for one command (a store
not migrated said in one line), who is recorded as acting, and the console
for what a person reads (stderr: stdout is kept for output meant for
programs)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from services.common.migrations import NotMigratedError
from services.measurement.bootstrap import MeasurementServices, bootstrap
from services.measurement.settings import Settings

console = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="STOCKTAKE_DATABASE_URL",
        help="Default: stocktake.db in the data folder ($STOCKTAKE_DATA_DIR, else ~/.local/share/stocktake)",
    ),
]


def settings_for(database_url: str | None) -> Settings:
    return Settings(database_url=database_url) if database_url else Settings()


def cli_principal() -> str:
    """The principal a command records: `cli:<the operating system user>`."""
    return f"cli:{getpass.getuser()}"


@contextmanager
def opened(settings: Settings) -> Iterator[MeasurementServices]:
    """The service's objects, closed after the command; a store that is not
    migrated is said in one line, with the command that fixes it."""
    try:
        running = bootstrap(settings)
    except NotMigratedError as error:
        console.print(f"[red]{error}[/red]", soft_wrap=True)
        raise typer.Exit(1) from None
    try:
        yield running
    finally:
        running.close()
