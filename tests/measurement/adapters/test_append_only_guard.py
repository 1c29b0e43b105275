"""The guard of the event log and its Merkle tree, attacked as the served
process's own database user: on SQLite (whose user is whoever opens the file)
every statement that would change or replace a stored row is refused by
trigger; on PostgreSQL the service connects as a role that `stocktake db
grant-service-role` allowed only to INSERT into and SELECT from the two
tables, so it can neither change, delete nor truncate them, nor switch the
triggers off, while the service itself works as that role."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from services.common.access import Role
from services.common.database import normalise_url
from services.measurement.bootstrap import bootstrap
from services.measurement.entrypoints.cli import app
from services.measurement.entrypoints.http.app import create_app
from services.measurement.settings import Settings
from tests.support import bearer, country_body, observation_body, set_up_programme

SERVICE_ROLE = f"stocktake_service_{os.getpid()}"


def _attacks(dialect: str, event: dict[str, Any]) -> list[str]:
    position, stream, version = event["position"], event["originator_id"], event["originator_version"]
    same = f"{position}, '{stream}', {version}, 'Forged', X'7B7D', '2020-01-01 00:00:00.000000'"
    if dialect == "postgresql":
        same = f"{position}, '{stream}', {version}, 'Forged', '\\x7b7d', '2020-01-01 00:00:00+00'"
    attacks = [
        f"UPDATE stored_events SET topic = 'Forged' WHERE position = {position}",
        f"DELETE FROM stored_events WHERE position = {position}",
        "UPDATE merkle_nodes SET hash = hash WHERE level = 0",
        "DELETE FROM merkle_nodes",
        f"INSERT INTO stored_events VALUES ({same}) ON CONFLICT (position) DO UPDATE SET topic = 'Forged'",
        "INSERT INTO merkle_nodes VALUES (0, 0, 'x') ON CONFLICT (level, \"index\") DO UPDATE SET hash = excluded.hash",
    ]
    if dialect == "sqlite":
        attacks += [
            f"INSERT OR REPLACE INTO stored_events VALUES ({same})",
            f"REPLACE INTO stored_events VALUES ({same})",
            # A new position, but the stream version of a stored event: REPLACE would delete that one.
            f"REPLACE INTO stored_events VALUES (999, '{stream}', {version}, 'Forged', X'7B7D', '2020-01-01')",
            "INSERT OR REPLACE INTO merkle_nodes VALUES (0, 0, X'00')",
            "REPLACE INTO merkle_nodes VALUES (0, 0, X'00')",
        ]
    else:
        attacks += [
            "TRUNCATE stored_events",
            "TRUNCATE merkle_nodes",
            "ALTER TABLE stored_events DISABLE TRIGGER ALL",
            "ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_no_update_or_delete",
            "DROP TRIGGER stored_events_no_update_or_delete ON stored_events",
            "SET session_replication_role = replica",
            "LOCK TABLE stored_events IN ACCESS EXCLUSIVE MODE",
            "DROP TABLE merkle_nodes",
        ]
    return attacks


@pytest.fixture
def service_url(database_url: str) -> Iterator[str]:
    """The URL the served process uses: on PostgreSQL a role of its own, set up
    by the owner with `stocktake db grant-service-role`."""
    if not database_url.startswith("postgresql"):
        yield database_url
        return
    owner = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text(f"DROP ROLE IF EXISTS {SERVICE_ROLE}"))
        connection.execute(text(f"CREATE ROLE {SERVICE_ROLE} LOGIN"))
    result = CliRunner().invoke(app, ["db", "grant-service-role", SERVICE_ROLE, "--database-url", database_url])
    assert result.exit_code == 0, result.output
    yield make_url(normalise_url(database_url)).set(username=SERVICE_ROLE).render_as_string(hide_password=False)
    with owner.connect() as connection:
        connection.execute(text(f"DROP OWNED BY {SERVICE_ROLE}"))
        connection.execute(text(f"DROP ROLE {SERVICE_ROLE}"))
    owner.dispose()


@pytest.fixture
def served(service_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    """The HTTP service running as the service's database user, with one observation recorded."""
    services = bootstrap(Settings(database_url=service_url, data_dir=tmp_path))
    try:
        services.measurement.load_framework(*_framework(), "test-setup")
        token = services.api_keys.issue("pm", Role.PROGRAMME_MANAGER, frozenset(), None, "t").token
        office = services.api_keys.issue("office", Role.COUNTRY_OFFICE, frozenset({"BGD", "VNM"}), None, "t").token
        with TestClient(create_app(services=services)) as client:
            client.headers.update(bearer(token))
            set_up_programme(client)
            answer = client.post("/observations", json=observation_body(), headers=bearer(office))
            assert answer.status_code == 201, answer.text
            yield client, answer.json()
    finally:
        services.close()


def _framework() -> tuple[dict[str, Any], str]:
    from services.measurement.adapters.framework_file import read_framework_file

    return read_framework_file()


def _stored(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        events = connection.execute(text("SELECT * FROM stored_events ORDER BY position")).all()
        nodes = connection.execute(text('SELECT * FROM merkle_nodes ORDER BY level, "index"')).all()
    engine.dispose()
    return [tuple(row) for row in (*events, *nodes)]


def test_every_attack_as_the_service_user_is_refused_and_changes_nothing(
    served: tuple[TestClient, dict[str, Any]], service_url: str
) -> None:
    _client, recorded = served
    before = _stored(service_url)
    engine = create_engine(normalise_url(service_url))
    with engine.connect() as connection:
        row = connection.execute(text(f"SELECT * FROM stored_events WHERE position = {recorded['position']}")).first()
    assert row is not None
    event = dict(row._mapping)
    refused = []
    for attack in _attacks(engine.dialect.name, event):
        try:
            with engine.begin() as connection:
                connection.execute(text(attack))
        except DBAPIError as error:
            refused.append((attack, str(error.orig).splitlines()[0]))
        else:
            pytest.fail(f"the service's user could run: {attack}")
    engine.dispose()
    assert _stored(service_url) == before
    # Refused by the guard, not by a slip in the attack's SQL.
    guards = ("append-only", "permission denied", "must be owner")
    assert all(any(guard in reason for guard in guards) for _, reason in refused), refused


def test_the_service_records_and_proves_as_its_own_user(served: tuple[TestClient, dict[str, Any]]) -> None:
    client, recorded = served
    checkpoint = client.get("/transparency/checkpoint")
    assert checkpoint.status_code == 200
    proof = client.get("/transparency/inclusion", params={"position": recorded["position"]})
    assert proof.status_code == 403  # a programme manager's key: checkpoints yes, proofs no
    assert int(checkpoint.text.splitlines()[1]) >= recorded["position"]


def test_a_genuine_new_event_is_still_appended_after_the_guard(served: tuple[TestClient, dict[str, Any]]) -> None:
    client, recorded = served
    response = client.get("/log", params={"after": recorded["position"] - 1, "limit": 1})
    assert response.json()["events"][0]["position"] == recorded["position"]


def test_grant_refuses_the_owner_and_roles_that_do_not_exist(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        result = CliRunner().invoke(app, ["db", "grant-service-role", "anyone", "--database-url", database_url])
        assert result.exit_code == 1
        assert "SQLite has no roles" in result.output
        return
    for role, says in (("postgres", "superuser or the tables' owner"), (f"nobody_{uuid.uuid4().hex[:8]}", "no role")):
        result = CliRunner().invoke(app, ["db", "grant-service-role", role, "--database-url", database_url])
        assert result.exit_code == 1
        assert says in result.output


def test_migrations_and_rebuilds_run_as_the_owner_named_apart_from_the_service(
    served: tuple[TestClient, dict[str, Any]], service_url: str, database_url: str, tmp_path: Path
) -> None:
    env = {"STOCKTAKE_MIGRATION_DATABASE_URL": database_url, "STOCKTAKE_DATA_DIR": str(tmp_path)}
    for command in (["migrate"], ["rebuild"], ["audit", "verify"]):
        result = CliRunner().invoke(app, [*command, "--database-url", service_url], env=env)
        assert result.exit_code == 0, (command, result.output)
    # The read models the owner rebuilt are the service's to read and write, as before.
    client, _ = served
    assert client.get("/benchmarks").status_code == 200
    assert client.post("/scope/countries", json=country_body("KHM")).status_code == 201
