"""A rehearsal of `docker compose up` without Docker: docker-compose.yml's
own commands, environment and health checks, run as they are written on this
machine's PostgreSQL, with the two roles deploy/postgres-init.sql creates
(the service's role allowed only to add to and read the event log). Only the
names the containers give (the `postgres` and `measurement` hosts, the
ports, `/data`) are mapped to local ones, and the roles and database get a
suffix of their own, so that runs on one server do not meet.

It proves what the images alone cannot: that the migration's chain of
commands runs as the owner, that both services start and answer as the
service's role (reporting's tables included), and that the health checks
pass. It does not build the Dockerfile (no Docker daemon here)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_ADMIN_URL, _postgres_admin_engine, _reach_postgres

REPO = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SUFFIX = f"_{os.getpid()}"
OWNER, SERVICE, DATABASE = (f"stocktake_owner{SUFFIX}", f"stocktake_service{SUFFIX}", f"stocktake_compose{SUFFIX}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _renamed(sql_or_url: str) -> str:
    """The compose names of the roles and the database, with this run's suffix."""
    renamed = re.sub(r"\bstocktake_(owner|service)\b", lambda m: m.group(0) + SUFFIX, sql_or_url)
    renamed = re.sub(r"\bDATABASE stocktake\b", f"DATABASE {DATABASE}", renamed)
    return re.sub(r"@postgres:5432/stocktake\b", f"@{_server()}/{DATABASE}", renamed)


def _server() -> str:
    url = make_url(POSTGRES_ADMIN_URL)
    return f"{url.host or '127.0.0.1'}:{url.port or 5432}"


@pytest.fixture
def roles() -> Iterator[None]:
    """deploy/postgres-init.sql, as the postgres image runs it, with this run's names."""
    problem = _reach_postgres()
    if problem:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {problem}")
    script = _renamed((REPO / "deploy/postgres-init.sql").read_text(encoding="utf-8"))
    statements = [s.strip() for s in re.sub(r"--[^\n]*", "", script).split(";") if s.strip()]
    admin = _postgres_admin_engine()
    _drop(admin)
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    yield
    _drop(admin)
    admin.dispose()


def _drop(admin: Any) -> None:
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        for role in (SERVICE, OWNER):
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def _environment(service: str, data: Path, ports: dict[str, int]) -> dict[str, str]:
    environment = {**os.environ}
    # The venv's `stocktake` (and `python`) first, as the image's are.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    for name, value in (COMPOSE["services"][service].get("environment") or {}).items():
        value = _renamed(str(value)).replace("http://measurement:8000", f"http://127.0.0.1:{ports['measurement']}")
        environment[name] = value.replace("http://localhost:8001/", f"http://127.0.0.1:{ports['reporting']}/")
    environment["STOCKTAKE_DATA_DIR"] = str(data)  # the stocktake-data volume
    return environment


def _command(service: str, ports: dict[str, int]) -> list[str]:
    """The service's command, serving on this run's port of it, on the loopback only."""
    command = [sys.executable if part == "python" else str(part) for part in COMPOSE["services"][service]["command"]]
    if "--port" in command:
        command[command.index("--port") + 1] = str(ports[service])
    if "--host" in command:
        command[command.index("--host") + 1] = "127.0.0.1"
    return command


def _healthy(service: str, ports: dict[str, int], environment: dict[str, str], log: Path) -> None:
    """The compose health check of the service, run until it passes (as `depends_on: service_healthy` waits)."""
    check = COMPOSE["services"][service]["healthcheck"]["test"]
    assert check[0] == "CMD"
    port = {"measurement": "8000", "reporting": "8001"}[service]
    command = [
        sys.executable if part == "python" else part.replace(f":{port}/", f":{ports[service]}/") for part in check[1:]
    ]
    deadline = time.monotonic() + 60
    while subprocess.run(command, env=environment, capture_output=True, timeout=10).returncode != 0:
        assert time.monotonic() < deadline, f"{service} never passed its health check:\n{log.read_text()}"
        time.sleep(0.5)


def _keys(data: Path) -> dict[str, str]:
    """The illustrative keys the migration kept in the data volume, by principal."""
    lines = (data / "illustrative-keys.txt").read_text(encoding="utf-8").splitlines()
    return {fields[1]: fields[3] for fields in (line.split() for line in lines if not line.startswith("#"))}


def test_the_compose_services_come_up_as_written(roles: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    ports = {"measurement": _free_port(), "reporting": _free_port()}

    migrate = COMPOSE["services"]["migrate"]
    assert migrate["command"][:2] == ["sh", "-c"]
    command = [_renamed(part) for part in migrate["command"]]
    done = subprocess.run(
        command, env=_environment("migrate", data, ports), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    keys = _keys(data)

    running: list[subprocess.Popen[bytes]] = []
    try:
        for service in ("measurement", "reporting"):  # in the order depends_on starts them
            environment = _environment(service, data, ports)
            log = tmp_path / f"{service}.log"
            with log.open("wb") as output:
                running.append(
                    subprocess.Popen(_command(service, ports), env=environment, stdout=output, stderr=output)
                )
            _healthy(service, ports, environment, log)

        measurement = f"http://127.0.0.1:{ports['measurement']}"
        office = {"Authorization": f"Bearer {keys['illustrative-office-asia']}"}
        manager = {"Authorization": f"Bearer {keys['illustrative-programme-manager']}"}
        # The README's first observation, recorded as the service's role.
        body: dict[str, Any] = {"benchmark": "ILL-CA2-INSPECTION", "country": "BGD", "sector": "garments"}
        body["period"] = "2020-Q1"
        body |= {"value": 17.5, "evidence": [{"title": "Inspection report", "url": "https://example.org/r.pdf"}]}
        recorded = httpx.post(f"{measurement}/observations", json=body, headers=office, timeout=10)
        assert recorded.status_code == 201, recorded.text
        checkpoint = httpx.get(f"{measurement}/transparency/checkpoint", headers=manager, timeout=10)
        assert checkpoint.status_code == 200, checkpoint.text  # signed with the key kept in the data volume

        reporting = f"http://127.0.0.1:{ports['reporting']}"
        health = httpx.get(f"{reporting}/health", timeout=10).json()
        assert health["status"] == "ok" and health["measurement"]["status"] == "ok", health
        # A person signs in to the pages: a session row in reporting's tables, written as the service's role.
        with httpx.Client(base_url=reporting, timeout=10) as browser:
            form = browser.get("/sign-in")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None, form.text
            fields = {"api_key": keys["illustrative-programme-manager"], "csrf_token": token.group(1), "next": "/"}
            signed_in = browser.post("/sign-in", data=fields)
            assert signed_in.status_code == 303, signed_in.text
            assert browser.get("/").status_code == 200
    finally:
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(data, ignore_errors=True)
