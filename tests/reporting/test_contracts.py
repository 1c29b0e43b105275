"""The reporting service's published and architectural contracts: its
committed OpenAPI document, and that it never reads measurement's tables or
imports its modules (the import-linter contract says so too)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from services.common.tables import metadata as common_metadata
from services.measurement.adapters.tables import metadata as measurement_metadata
from services.reporting.entrypoints.cli import app as cli

REPO = Path(__file__).resolve().parents[2]
REPORTING = REPO / "services" / "reporting"


def test_committed_openapi_document_matches_the_app() -> None:
    result = CliRunner().invoke(cli, ["export-openapi", "--check", str(REPO / "openapi" / "reporting.json")])
    assert result.exit_code == 0, (
        "openapi/reporting.json drifted: run `python -m services.reporting.entrypoints.cli export-openapi`"
    )


def _sources() -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8") for path in sorted(REPORTING.rglob("*")) if path.suffix in (".py", ".j2")
    }


def test_reporting_never_imports_measurement() -> None:
    importing = [
        path
        for path, text in _sources().items()
        if re.search(r"\bservices\.measurement\b|\bmeasurement import\b", text)
    ]
    assert importing == []


def test_reporting_never_names_a_table_it_does_not_own() -> None:
    foreign = set(measurement_metadata.tables) - set(common_metadata.tables)
    assert foreign  # the scan below means something
    found = {
        (path.name, table)
        for path, text in _sources().items()
        for table in foreign
        if re.search(rf"\b{re.escape(table)}\b", text)
    }
    assert found == set()
