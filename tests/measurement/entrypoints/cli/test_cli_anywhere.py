"""The CLI as an operator runs it: from any working directory, with the
migrations found through the installed package and the default store in the
data folder, not in the current directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

STOCKTAKE = str(Path(sys.executable).parent / "stocktake")


def run(args: list[str], cwd: Path, home: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKTAKE_") and k != "XDG_DATA_HOME"}
    env.update(extra_env, HOME=str(home))
    env["COLUMNS"] = "200"
    return subprocess.run([STOCKTAKE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_a_store_that_is_not_migrated_is_said_in_one_line_with_the_command_that_fixes_it(
    tmp_path: Path, home: Path
) -> None:
    result = run(["keys", "list"], cwd=tmp_path, home=home)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert "Traceback" not in result.stderr + result.stdout
    assert len(message.splitlines()) == 1, message
    assert "has no Stocktake tables" in message
    assert "stocktake migrate" in message
    assert not (tmp_path / "var").exists(), "nothing is created in the working directory"


def test_the_default_store_is_the_same_whatever_the_working_directory(tmp_path: Path, home: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    migrated = run(["migrate"], cwd=first, home=home)
    assert migrated.returncode == 0, migrated.stderr
    issued = run(["keys", "issue", "auditor-anna", "--role", "auditor"], cwd=second, home=home)
    assert issued.returncode == 0, issued.stderr
    listed = run(["keys", "list"], cwd=first, home=home)
    assert listed.returncode == 0, listed.stderr
    assert "auditor-anna" in listed.stdout
    assert (home / ".local" / "share" / "stocktake" / "stocktake.db").is_file()
    assert not (first / "var").exists() and not (second / "var").exists()


def test_the_data_folder_and_the_store_can_be_chosen(tmp_path: Path, home: Path) -> None:
    data = tmp_path / "data"
    in_data_folder = run(["migrate"], cwd=tmp_path, home=home, STOCKTAKE_DATA_DIR=str(data))
    assert in_data_folder.returncode == 0, in_data_folder.stderr
    assert (data / "stocktake.db").is_file()
    chosen = run(
        ["migrate", "--database-url", f"sqlite:///{tmp_path / 'elsewhere' / 'chosen.db'}"], cwd=tmp_path, home=home
    )
    assert chosen.returncode == 0, chosen.stderr
    assert (tmp_path / "elsewhere" / "chosen.db").is_file()
