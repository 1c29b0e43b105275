"""`stocktake load-sample --keys`, as docker compose runs it: the sample
history, and an API key per role printed and kept in the data folder (the same
keys again on a second run)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.measurement.entrypoints.cli import app

ROLES = ("country-office", "programme-manager", "auditor", "reporting")


def _load_sample(database_url: str, tmp_path: Path, *options: str) -> str:
    runner = CliRunner()
    env = {"STOCKTAKE_DATA_DIR": str(tmp_path), "COLUMNS": "80"}
    for command in (["migrate"], ["load-framework"], ["load-sample", *options]):
        result = runner.invoke(app, [*command, "--database-url", database_url], env=env)
        assert result.exit_code == 0, result.output
    return result.output


def test_load_sample_with_keys_prints_and_keeps_a_key_per_role(database_url: str, tmp_path: Path) -> None:
    output = _load_sample(database_url, tmp_path, "--keys")
    assert "Illustrative sample loaded." in output
    tokens = [line.strip() for line in output.splitlines() if line.strip().startswith("stk_")]
    assert len(tokens) >= len(ROLES) and all(role in output for role in ROLES)
    kept = (tmp_path / "illustrative-keys.txt").read_text()
    assert all(token in kept for token in tokens)
    again = _load_sample(database_url, tmp_path, "--keys")
    assert "already present" in again and all(token in again for token in tokens)


def test_load_sample_without_keys_issues_none(database_url: str, tmp_path: Path) -> None:
    output = _load_sample(database_url, tmp_path)
    assert "stk_" not in output and not (tmp_path / "illustrative-keys.txt").exists()
