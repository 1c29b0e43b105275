"""`stocktake audit` against an attacker with the database's superuser: a
payload changed by one byte is named by its position, a deleted last event
breaks the consistency with a checkpoint the auditor kept, and a rebuild of
the read models afterwards hides neither. Also: the export, and the nodes
the migration backfills for a store that had events before it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner, Result

from services.common.database import normalise_url
from services.common.migrations import alembic_config
from services.measurement.adapters.tables import merkle_nodes
from services.measurement.entrypoints.cli import app
from tests.support import observation_body, set_up_programme


@pytest.fixture
def stocktake(database_url: str, tmp_path: Path) -> Any:
    runner = CliRunner()

    def run(*args: str) -> Result:
        env = {"STOCKTAKE_DATA_DIR": str(tmp_path)}
        return runner.invoke(app, [*args, "--database-url", database_url], env=env)

    return run


@pytest.fixture
def recorded(client: TestClient) -> dict[str, Any]:
    """A programme with three observations; the second's value is 17.5."""
    set_up_programme(client)
    answers: list[dict[str, Any]] = []
    for period, value in (("2018-Q1", 12.5), ("2018-Q2", 17.5), ("2018-Q3", 20.0)):
        response = client.post("/observations", json=observation_body(period=period, value=value))
        assert response.status_code == 201, response.text
        answers.append(response.json())
    return answers[1]


@pytest.fixture
def superuser(database_url: str) -> Iterator[Any]:
    """Runs SQL as someone who can switch the guard off: PostgreSQL's superuser
    (triggers off for the session), or SQLite's file owner (triggers dropped)."""
    engine = create_engine(normalise_url(database_url))

    def run(statement: str) -> None:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for trigger in connection.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name IN ('stored_events', 'merkle_nodes')"
                    )
                ).scalars():
                    connection.execute(text(f'DROP TRIGGER "{trigger}"'))
            connection.execute(text(statement))

    yield run
    engine.dispose()


def tamper_value(database_url: str, superuser: Any, position: int) -> None:
    """17.5 -> 97.5 in the stored payload of the event at `position`: one byte."""
    if database_url.startswith("postgresql"):
        superuser(
            "UPDATE stored_events SET state = convert_to(replace(convert_from(state, 'UTF8'), '17.5', '97.5'), 'UTF8') "
            f"WHERE position = {position}"
        )
    else:
        superuser(
            "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), '17.5', '97.5') AS BLOB) "
            f"WHERE position = {position}"
        )


def test_an_untouched_log_verifies(stocktake: Any, recorded: dict[str, Any]) -> None:
    result = stocktake("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "matches its Merkle tree" in result.output


def test_one_changed_byte_is_named_by_its_position_even_after_a_rebuild(
    stocktake: Any, recorded: dict[str, Any], database_url: str, superuser: Any, client: TestClient
) -> None:
    position = recorded["position"]
    tamper_value(database_url, superuser, position)
    assert client.get(f"/observations/{recorded['id']}").json()["value"] == 17.5  # read models: not yet
    for _ in range(2):
        result = stocktake("audit", "verify")
        assert result.exit_code == 1, result.output
        assert f"the event at position {position} no longer matches its stored leaf hash" in result.output
        assert stocktake("rebuild").exit_code == 0
    # The rebuild served the altered value: only the tree says it was altered.
    assert client.get(f"/observations/{recorded['id']}").json()["value"] == 97.5


def test_a_deleted_last_event_breaks_consistency_with_a_kept_checkpoint(
    stocktake: Any, recorded: dict[str, Any], superuser: Any, client: TestClient, tmp_path: Path
) -> None:
    kept = tmp_path / "kept-checkpoint.txt"
    result = stocktake("audit", "checkpoint")
    assert result.exit_code == 0
    kept.write_text(result.stdout)
    head = int(result.stdout.splitlines()[1])
    assert stocktake("audit", "verify", "--checkpoint", str(kept)).exit_code == 0

    superuser(f"DELETE FROM stored_events WHERE position = {head}")
    superuser(f'DELETE FROM merkle_nodes WHERE level = 0 AND "index" = {head - 1}')
    for _ in range(2):
        result = stocktake("audit", "verify", "--checkpoint", str(kept))
        assert result.exit_code == 1, result.output
        assert f"the kept checkpoint is of {head} events but the log now holds {head - 1}" in result.output
        assert stocktake("rebuild").exit_code == 0


def test_deleting_the_last_event_alone_leaves_the_tree_longer_than_the_log(
    stocktake: Any, recorded: dict[str, Any], superuser: Any, client: TestClient
) -> None:
    head = int(client.get("/log", params={"limit": 1}).json()["head"])
    superuser(f"DELETE FROM stored_events WHERE position = {head}")
    result = stocktake("audit", "verify")
    assert result.exit_code == 1
    assert f"the stored tree holds {head} leaves but the log {head - 1} events" in result.output


def test_a_kept_checkpoint_signed_by_another_key_is_refused(
    stocktake: Any, recorded: dict[str, Any], tmp_path: Path
) -> None:
    from services.common.transparency.note import Checkpoint, Signer, sign_checkpoint

    note = stocktake("audit", "checkpoint").stdout
    checkpoint = Checkpoint.parse(note.split("\n\n")[0] + "\n")
    forged = tmp_path / "forged.txt"
    forged.write_text(sign_checkpoint(checkpoint, Signer.generate(checkpoint.origin)))
    result = stocktake("audit", "verify", "--checkpoint", str(forged))
    assert result.exit_code == 1
    assert "not signed by this log's key" in result.output


def test_the_export_holds_every_event_as_its_leaf_and_the_latest_checkpoint(
    stocktake: Any, recorded: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "log.jsonl"
    assert stocktake("audit", "export", str(path)).exit_code == 0
    header, *events = (json.loads(line) for line in path.read_text().splitlines())
    assert header["size"] == len(events) == int(header["checkpoint"].splitlines()[1])
    assert header["verifier_key"] == stocktake("audit", "verifier-key").stdout.strip()
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))
    assert set(events[0]) == {"position", "stream_id", "version", "topic", "recorded_at", "payload"}
    assert all(e["recorded_at"].endswith("+00:00") and len(e["recorded_at"]) == 32 for e in events)


def test_the_migration_backfills_the_tree_of_a_store_that_had_events(
    recorded: dict[str, Any], database_url: str, stocktake: Any
) -> None:
    from alembic import command

    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        written = connection.execute(select(merkle_nodes).order_by(merkle_nodes.c.level, merkle_nodes.c.index)).all()
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    command.upgrade(config, "head")
    with engine.connect() as connection:
        backfilled = connection.execute(select(merkle_nodes).order_by(merkle_nodes.c.level, merkle_nodes.c.index)).all()
    engine.dispose()
    assert len(written) > 10
    assert [tuple(row) for row in backfilled] == [tuple(row) for row in written]
    assert stocktake("audit", "verify").exit_code == 0
