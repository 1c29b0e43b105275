"""`python -m services.reporting.entrypoints.cli`: serve the reporting
service, or write its OpenAPI document. (`stocktake up` starts it beside
measurement.)"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from services.reporting.settings import DEFAULT_PORT

# Click's plain help, as measurement's CLI: flags as flags, docstrings re-wrapped.
app = typer.Typer(
    help="Stocktake reporting service.", no_args_is_help=True, add_completion=False, rich_markup_mode=None
)
console = Console(stderr=True)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    measurement_url: Annotated[
        str | None, typer.Option(envvar="STOCKTAKE_MEASUREMENT_URL", help="Where measurement answers")
    ] = None,
    database_url: Annotated[str | None, typer.Option(envvar="STOCKTAKE_DATABASE_URL")] = None,
) -> None:
    """Serve the reporting API (the store must be migrated: `stocktake migrate`)."""
    # The app is built from the environment (uvicorn's factory), so the options go there.
    if measurement_url:
        os.environ["STOCKTAKE_MEASUREMENT_URL"] = measurement_url
    if database_url:
        os.environ["STOCKTAKE_DATABASE_URL"] = database_url
    console.print(f"Reporting API docs: http://{host}:{port}/docs", soft_wrap=True)
    uvicorn.run(
        "services.reporting.entrypoints.http.app:serving_app", factory=True, host=host, port=port, log_level="info"
    )


def openapi_document() -> str:
    from services.reporting.entrypoints.http.app import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@app.command("export-openapi")
def export_openapi(
    path: Annotated[Path, typer.Argument(help="Where to write it")] = Path("openapi/reporting.json"),
    check: Annotated[bool, typer.Option("--check", help="Only check the file is current; exit 1 if not")] = False,
) -> None:
    """Write (or check) the committed OpenAPI document of the reporting API."""
    document = openapi_document()
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != document:
            console.print(
                f"[red]{path} is out of date:[/red] run `python -m services.reporting.entrypoints.cli export-openapi`."
            )
            raise typer.Exit(1)
        console.print(f"{path} is current.")
        return
    path.write_text(document, encoding="utf-8")
    console.print(f"Wrote {path}")


if __name__ == "__main__":
    app()
