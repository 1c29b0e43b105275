"""The README's test command runs the static checks too: ruff's lint and
format, mypy and the import contracts, as configured in pyproject.toml, each
from the repository root with the virtual environment's own executables.
Any finding fails its test with the tool's output."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TIMEOUT_SECONDS = 300

# Without caches of their own in the tree: several checkouts' runs (or
# engineers') at once never share a cache, and a stale one cannot hide a
# finding. mypy's cache lives in a fresh directory (a cold run takes 15-30 s);
# the checks run side by side, so the slowest sets the time.
CHECKS: dict[str, list[str]] = {
    "ruff check": ["ruff", "check", "--no-cache", "."],
    "ruff format": ["ruff", "format", "--check", "--no-cache", "."],
    "mypy": ["mypy", "--cache-dir", "{cache}"],
    "import contracts": ["lint-imports", "--no-cache", "--no-logo"],
}


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    executable = BIN / command[0]
    if not executable.exists():
        pytest.fail(f"{executable} is missing: install the test extras (pip install -e '.[test]').")
    return subprocess.run(
        [str(executable), *command[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, Future[subprocess.CompletedProcess[str]]]]:
    with tempfile.TemporaryDirectory(prefix="stocktake-mypy-") as cache, ThreadPoolExecutor(len(CHECKS)) as pool:
        yield {
            name: pool.submit(_run, [part.format(cache=cache) for part in command]) for name, command in CHECKS.items()
        }


@pytest.mark.parametrize("check", CHECKS)
def test_no_finding(results: dict[str, Future[subprocess.CompletedProcess[str]]], check: str) -> None:
    completed = results[check].result()
    command = " ".join(CHECKS[check]).replace("{cache}", "<a fresh dir>")
    assert completed.returncode == 0, (
        f"`{command}` reports findings (exit {completed.returncode}):\n{completed.stdout}{completed.stderr}"
    )
