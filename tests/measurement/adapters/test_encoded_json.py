"""A read model's JSON made before the log's lock (`EncodedJson`, the state of an observation's row)
is stored as the text its dict is stored as, on every path rows take: pipelined INSERTs, COPY, the
SQLAlchemy INSERT of a small batch beside a large one, SQLite's inserts, and a plain `bulk_insert`."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table

from services.common.database import Database
from services.measurement.adapters.bulk import COPY_FROM_ROWS, EncodedJson, PendingInserts, bulk_insert, json_text

TEXTS = ["", "plain", "é ü 😀", 'quote " and \\ backslash', "\x00\x1f\u2028", "'=1+1"]

probe_metadata = MetaData()
probe = Table("encoded_json_probe", probe_metadata, Column("id", Integer, primary_key=True), Column("doc", JSON))
beside = Table("encoded_json_beside", probe_metadata, Column("id", Integer, primary_key=True), Column("doc", JSON))


def _doc(rng: random.Random) -> dict[str, Any]:
    return {
        "value": rng.choice([0.0, -0.0, 1e-7, 1e16, 12.5, 1 / 3, rng.uniform(-100, 100), 7, "12 %"]),
        "text": rng.choice(TEXTS),
        "evidence": [{"url": rng.choice(TEXTS), "n": rng.randrange(10**6)}],
        "none": None,
        "flag": rng.random() < 0.5,
    }


@pytest.fixture
def database(database_url: str) -> Any:
    db = Database(database_url)
    with db.transaction() as connection:
        probe_metadata.create_all(connection)
    yield db
    with db.transaction() as connection:
        probe_metadata.drop_all(connection)
    db.dispose()


def _stored(database: Database, table: Table) -> dict[int, str]:
    cast = "::text" if database.is_postgresql else ""
    with database.snapshot() as connection:
        return {row[0]: row[1] for row in connection.exec_driver_sql(f"SELECT id, doc{cast} FROM {table.name}")}


@pytest.mark.parametrize("count", [3, COPY_FROM_ROWS + 10])
@pytest.mark.parametrize("alongside", [False, True])
def test_encoded_json_is_stored_as_its_dict_is(database: Database, count: int, alongside: bool) -> None:
    rng = random.Random(count * 2 + alongside)
    docs = [_doc(rng) for _ in range(count)]
    assert all(EncodedJson(doc).text == json_text(doc) and EncodedJson(doc) == doc for doc in docs)
    pending = PendingInserts()
    pending.add(probe, [{"id": n, "doc": EncodedJson(doc)} for n, doc in enumerate(docs)])
    pending.add(probe, [{"id": count + n, "doc": doc} for n, doc in enumerate(docs)])
    if alongside:  # a large batch beside: on PostgreSQL a small one then goes as SQLAlchemy's INSERT
        pending.add(beside, [{"id": n, "doc": {"n": n}} for n in range(COPY_FROM_ROWS + 1)])
    with database.transaction() as connection:
        pending.send(connection)
        bulk_insert(connection, beside, [{"id": 1000 + n, "doc": EncodedJson(doc)} for n, doc in enumerate(docs)])
    stored = _stored(database, probe)
    assert len(stored) == 2 * count
    for n in range(count):
        assert stored[n] == stored[count + n]
    stored_beside = _stored(database, beside)
    assert [stored_beside[1000 + n] for n in range(count)] == [stored[count + n] for n in range(count)]


def test_an_encoded_json_cannot_be_changed_in_place() -> None:
    value = EncodedJson({"value": 1, "evidence": []})
    for change in (
        lambda: value.__setitem__("value", 2),
        lambda: value.__delitem__("value"),
        lambda: value.update(value=2),
        lambda: value.pop("value"),
        lambda: value.popitem(),
        lambda: value.clear(),
        lambda: value.setdefault("comment", "x"),
    ):
        with pytest.raises(TypeError):
            change()
    assert value == {"value": 1, "evidence": []} and value.text == '{"value": 1, "evidence": []}'
