"""The transparency endpoints as an auditor (or a report) consumes them:
signed checkpoints that open with the published verifier key, inclusion and
consistency proofs that verify against them, every `/log` page naming the
checkpoint that covers it, and problems that say what to ask instead."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from services.common.access import Role
from services.common.database import normalise_url
from services.common.transparency.merkle import ProofError, hash_leaf, verify_consistency, verify_inclusion
from services.common.transparency.note import (
    BadSignatureError,
    NoteError,
    Signer,
    UnknownKeyError,
    Verifier,
    open_checkpoint,
    sign_checkpoint,
)
from services.measurement.adapters.merkle_nodes import event_leaf
from services.measurement.bootstrap import MeasurementServices
from tests.support import assert_problem, bearer, log_head, observation_body, set_up_programme


def b64decode(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def verifier(client: TestClient) -> Verifier:
    response = client.get("/transparency/verifier-key")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Verifier.from_text(response.text.strip())


def record_some(client: TestClient, count: int = 5) -> list[dict[str, Any]]:
    set_up_programme(client)
    answers = []
    for period in ("2018-Q1", "2018-Q2", "2018-Q3", "2018-Q4", "2019-Q1", "2019-Q2", "2019-Q3")[:count]:
        response = client.post("/observations", json=observation_body(period=period))
        assert response.status_code == 201, response.text
        answers.append(response.json())
    return answers


def test_the_latest_checkpoint_is_a_signed_note_of_the_whole_log(client: TestClient) -> None:
    record_some(client)
    head = log_head(client)
    response = client.get("/transparency/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["Stocktake-Log-Position"] == str(head)
    checkpoint = open_checkpoint(response.text, verifier(client))
    assert checkpoint.origin == "stocktake.local/gsc-poa-2017-21"
    assert checkpoint.size == head

    as_json = client.get("/transparency/checkpoint", headers={"Accept": "application/json"}).json()
    assert as_json == {
        "origin": checkpoint.origin,
        "size": head,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
        "note": response.text,
    }


def test_a_checkpoint_at_an_earlier_size_is_consistent_with_the_latest(client: TestClient) -> None:
    record_some(client)
    key = verifier(client)
    earlier = open_checkpoint(client.get("/transparency/checkpoint", params={"size": 4}).text, key)
    assert earlier.size == 4
    record_some_more = client.post("/observations", json=observation_body(period="2020-Q1"))
    assert record_some_more.status_code == 201
    latest = open_checkpoint(client.get("/transparency/checkpoint").text, key)
    for size1 in range(1, latest.size + 1):
        answer = client.get("/transparency/consistency", params={"from": size1}).json()
        assert answer["size2"] == latest.size
        second = open_checkpoint(answer["checkpoint"]["note"], key)
        proof = [b64decode(node) for node in answer["proof"]]
        verify_consistency(size1, second.size, proof, b64decode(answer["root1"]), second.root_hash)
    proof = client.get("/transparency/consistency", params={"from": 4, "to": latest.size}).json()["proof"]
    verify_consistency(4, latest.size, [b64decode(p) for p in proof], earlier.root_hash, latest.root_hash)


def test_every_event_has_an_inclusion_proof_that_verifies_against_the_signed_root(
    client: TestClient, services: MeasurementServices
) -> None:
    recorded = record_some(client)
    key = verifier(client)
    head = log_head(client)
    logged = {e.position: e for e in services.measurement.event_log.select_logged(limit=1000)}
    for size in (recorded[0]["position"], head):
        for position in range(1, size + 1):
            answer = client.get("/transparency/inclusion", params={"position": position, "size": size}).json()
            checkpoint = open_checkpoint(answer["checkpoint"]["note"], key)
            assert (answer["position"], answer["leaf_index"], answer["size"]) == (position, position - 1, size)
            event = logged[position]
            leaf = event_leaf(
                position=position,
                originator_id=event.originator_id,
                version=event.originator_version,
                topic=event.topic,
                recorded_at=event.recorded_at,
                state=event.state,
            )
            assert b64decode(answer["leaf_hash"]) == hash_leaf(leaf)
            proof = [b64decode(node) for node in answer["proof"]]
            verify_inclusion(hash_leaf(leaf), position - 1, size, proof, checkpoint.root_hash)
            if proof:
                with pytest.raises(ProofError):
                    verify_inclusion(hash_leaf(leaf + b" "), position - 1, size, proof, checkpoint.root_hash)


def test_every_log_page_names_the_checkpoint_that_covers_it(client: TestClient) -> None:
    record_some(client, 2)
    page = client.get("/log", params={"after": 2, "limit": 3}).json()
    head = page["head"]
    assert page["checkpoint"] == {"size": head, "href": f"/transparency/checkpoint?size={head}"}
    assert {"events", "head", "next_after"} <= set(page)
    checkpoint = open_checkpoint(client.get(page["checkpoint"]["href"]).text, verifier(client))
    assert checkpoint.size == head >= page["next_after"]


def test_a_checkpoint_signed_by_another_key_or_changed_by_one_byte_is_refused(client: TestClient) -> None:
    record_some(client, 1)
    key = verifier(client)
    note = client.get("/transparency/checkpoint").text
    genuine = open_checkpoint(note, key)

    impostor = Signer.generate(genuine.origin)
    with pytest.raises(UnknownKeyError):
        open_checkpoint(sign_checkpoint(genuine, impostor), key)

    size_line = f"\n{genuine.size}\n"
    changed = note.replace(size_line, f"\n{genuine.size + 1}\n", 1)
    assert changed != note
    with pytest.raises(BadSignatureError):
        open_checkpoint(changed, key)
    for offset in range(len(note.encode())):
        flipped = bytearray(note.encode())
        flipped[offset] ^= 0x01
        try:
            text = flipped.decode()
        except UnicodeDecodeError:
            continue
        with pytest.raises(NoteError):
            open_checkpoint(text, key)


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/transparency/checkpoint", {"size": 10_000}, "size"),
        ("/transparency/inclusion", {"position": 10_000}, "position"),
        ("/transparency/inclusion", {"position": 3, "size": 2}, "position"),
        ("/transparency/inclusion", {"position": 1, "size": 10_000}, "size"),
        ("/transparency/inclusion", {"position": 0}, "position"),
        ("/transparency/consistency", {"from": 5, "to": 3}, "from"),
        ("/transparency/consistency", {"from": 1, "to": 10_000}, "to"),
        ("/transparency/consistency", {"from": 10_000}, "from"),
    ],
)
def test_sizes_and_positions_beyond_the_log_are_problems_that_say_what_to_ask(
    client: TestClient, path: str, params: dict[str, int], parameter: str
) -> None:
    record_some(client, 1)
    problem = assert_problem(client.get(path, params=params), 422, parameter)
    assert problem["detail"]


def test_checkpoints_are_for_auditors_reports_and_programme_managers_proofs_for_auditors(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    record_some(client, 1)
    for role, status in (
        (Role.AUDITOR, 200),
        (Role.REPORTING, 200),
        (Role.PROGRAMME_MANAGER, 200),
        (Role.COUNTRY_OFFICE, 403),
    ):
        assert client.get("/transparency/checkpoint", headers=bearer(tokens[role])).status_code == status
        assert client.get("/transparency/verifier-key", headers=bearer(tokens[role])).status_code == status
    for role, status in ((Role.AUDITOR, 200), (Role.REPORTING, 403), (Role.COUNTRY_OFFICE, 403)):
        response = client.get("/transparency/inclusion", params={"position": 1}, headers=bearer(tokens[role]))
        assert response.status_code == status
    assert client.get("/transparency/checkpoint", headers={}).status_code == 200  # the test client's auditor
    unauthenticated = client.get("/transparency/checkpoint", headers={"Authorization": "Bearer nope"})
    assert unauthenticated.status_code == 401


def test_a_tree_missing_a_node_is_a_conflict_that_says_to_run_audit_verify(
    client: TestClient, database_url: str
) -> None:
    record_some(client, 2)
    engine = create_engine(normalise_url(database_url))
    with engine.begin() as connection:  # as the superuser, the guard switched off
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.execute(text("DROP TRIGGER merkle_nodes_no_delete"))
        connection.execute(text('DELETE FROM merkle_nodes WHERE level = 0 AND "index" = 0'))
    engine.dispose()
    problem = assert_problem(client.get("/transparency/inclusion", params={"position": 1}), 409)
    assert "stocktake audit verify" in problem["detail"]
