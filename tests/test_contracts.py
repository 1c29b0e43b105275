"""Persisted and published contracts: the committed OpenAPI document, and the
tables Alembic builds versus the tables the code queries."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from migrations.target import TARGET_METADATA
from services.common.database import Database
from services.measurement.entrypoints.cli import app as cli

REPO = Path(__file__).resolve().parents[1]


def test_committed_openapi_document_matches_the_app() -> None:
    result = CliRunner().invoke(cli, ["export-openapi", "--check", str(REPO / "openapi" / "measurement.json")])
    assert result.exit_code == 0, "openapi/measurement.json drifted from the app: run `stocktake export-openapi`"


def test_migrations_build_exactly_the_tables_the_code_queries(database_url: str) -> None:
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            # Alembic compares a sequence of MetaData (its AutogenContext takes one); the stub says one MetaData.
            differences = compare_metadata(MigrationContext.configure(connection), TARGET_METADATA)  # type: ignore[arg-type]
    finally:
        database.dispose()
    assert differences == []
