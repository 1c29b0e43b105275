"""Every `--help` of both CLIs reads cleanly (issue 12): a boolean is a flag
(no "<bool>", no "--no-x" twin unless it has three states), help fits the
terminal, and messages are sentences ("an auditor")."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from services.measurement.entrypoints.cli import app as measurement_cli
from services.reporting.entrypoints.cli import app as reporting_cli

WIDTH = 80


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command of a CLI (typer's own click classes: read by their attributes)."""
    found = [(path, group)]
    for name, command in getattr(group, "commands", {}).items():
        found.extend(_commands(command, (*path, name)))
    return found


@pytest.mark.parametrize("cli", [measurement_cli, reporting_cli], ids=["stocktake", "reporting"])
def test_every_help_shows_flags_as_flags_and_fits_the_terminal(cli: typer.Typer, subtests: pytest.Subtests) -> None:
    for path, command in _commands(typer.main.get_command(cli)):
        with subtests.test(msg=" ".join(path) or "(root)"):
            result = CliRunner().invoke(cli, [*path, "--help"], env={"COLUMNS": str(WIDTH)})
            assert result.exit_code == 0, result.output
            assert "<bool>" not in result.output
            assert max(len(line) for line in result.output.splitlines()) <= WIDTH, result.output
            for option in command.params:
                if getattr(option, "is_flag", False) and getattr(option, "secondary_opts", None):
                    assert option.default is None, f"{option.opts}: a two-state flag needs no --no- twin"


def test_a_key_of_another_role_scoped_to_countries_is_refused_in_a_sentence(
    database_url: str, tmp_path: object
) -> None:
    env = {"STOCKTAKE_DATA_DIR": str(tmp_path), "COLUMNS": str(WIDTH)}
    runner = CliRunner()
    assert runner.invoke(measurement_cli, ["migrate", "--database-url", database_url], env=env).exit_code == 0
    result = runner.invoke(
        measurement_cli,
        ["keys", "issue", "audit-1", "--role", "auditor", "--country", "BGD", "--database-url", database_url],
        env=env,
    )
    assert result.exit_code != 0
    assert "an auditor key reads every country" in " ".join(result.output.split())
