"""`stocktake up` as an operator meets it: the illustrative sample goes only
into the embedded default store (or where --sample asks), a store at
framework version 1 moves to version 2, and a port in use is one line
naming it and the option to change it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.measurement.adapters.framework_file import framework_path, read_framework_file
from services.measurement.application.queries import catalogue
from services.measurement.bootstrap import bootstrap
from services.measurement.entrypoints.cli import app
from services.measurement.settings import Settings

SAMPLE_BENCHMARK = "ILL-CA2-INSPECTION"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _up(database_url: str, port: int, tmp_path: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["up", "--port", str(port), "--database-url", database_url, *options],
        env={"STOCKTAKE_DATA_DIR": str(tmp_path), "COLUMNS": "80"},
    )
    return result.exit_code, result.output


def _has_sample(database_url: str) -> bool:
    running = bootstrap(Settings(database_url=database_url))
    try:
        return catalogue.benchmark_exists(running.measurement.database, SAMPLE_BENCHMARK)
    finally:
        running.close()


def test_a_port_in_use_is_one_line_naming_it_and_the_option(database_url: str, busy_port: int, tmp_path: Path) -> None:
    exit_code, output = _up(database_url, busy_port, tmp_path)
    assert exit_code == 1
    (line,) = [line for line in output.splitlines() if str(busy_port) in line]
    assert "in use" in line and "--port" in line
    assert "Traceback" not in output


def test_the_sample_goes_into_a_named_store_only_when_asked(database_url: str, busy_port: int, tmp_path: Path) -> None:
    _up(database_url, busy_port, tmp_path)
    assert not _has_sample(database_url)
    _up(database_url, busy_port, tmp_path, "--sample")
    assert _has_sample(database_url)


def test_up_moves_a_store_at_framework_version_1_to_version_2_by_appending(
    database_url: str, busy_port: int, tmp_path: Path
) -> None:
    running = bootstrap(Settings(database_url=database_url))
    try:
        document, digest = read_framework_file(framework_path("gb329-ins-3-2.v1.yaml"))
        running.measurement.load_framework(document, digest, "test-setup")
        at_version_1 = catalogue.framework(running.measurement)["position"]
    finally:
        running.close()

    exit_code, output = _up(database_url, busy_port, tmp_path)
    assert exit_code == 1 and "in use" in output  # it loaded the framework before it tried to serve

    running = bootstrap(Settings(database_url=database_url))
    try:
        now = catalogue.framework(running.measurement)
        then = catalogue.framework(running.measurement, at_version_1)
        assert (now["version"], then["version"]) == (2, 1)
        assert now["position"] > at_version_1
    finally:
        running.close()
    _up(database_url, busy_port, tmp_path)  # once loaded, version 2 is not appended again
    running = bootstrap(Settings(database_url=database_url))
    try:
        assert catalogue.framework(running.measurement)["position"] == now["position"]
    finally:
        running.close()
