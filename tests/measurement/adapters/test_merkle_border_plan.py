"""The query of the log's head and the Merkle tree's border keeps looking nodes up by their whole key
when PostgreSQL planned it while the tree was small: a served connection prepares it once (psycopg,
after five runs) and PostgreSQL keeps that plan until the table is analysed, which, with autovacuum
off, is never. A join planned on a tree of a few nodes looked them up by level alone and read every
node of a level on every append."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text

from services.common.database import normalise_url
from services.measurement.adapters.merkle_nodes import HEAD_AND_BORDER_SQL, head_and_border


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _plan_nodes(child)
    return found


_SERIES = "generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g"


def _add(connection: Connection, first: int, last: int) -> None:
    """Events `first`..`last`, and the nodes of levels 0 and 1 they complete (enough for the plan's sake)."""
    bounds = {"first": first, "last": last}
    connection.execute(
        text(
            "INSERT INTO stored_events (position, originator_id, originator_version, topic, state, recorded_at) "
            f"SELECT g, gen_random_uuid(), 1, 't', 'x', now() FROM {_SERIES}"
        ),
        bounds,
    )
    connection.execute(
        text(f'INSERT INTO merkle_nodes (level, "index", hash) SELECT 0, g - 1, sha256(g::text::bytea) FROM {_SERIES}'),
        bounds,
    )
    connection.execute(
        text(
            f'INSERT INTO merkle_nodes (level, "index", hash) SELECT 1, (g - 2) / 2, sha256(g::text::bytea) '
            f"FROM {_SERIES} WHERE g % 2 = 0"
        ),
        bounds,
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # PostgreSQL's plan cache
def test_border_read_by_whole_key_when_planned_on_a_small_tree(database_url: str) -> None:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as connection, connection.begin():
            _add(connection, 1, 5)
            name = f"border_{uuid.uuid4().hex}"
            connection.exec_driver_sql(f"PREPARE {name} AS {HEAD_AND_BORDER_SQL}")
            for _ in range(7):  # planned now, with the statistics of a tree of 5 leaves
                connection.exec_driver_sql(f"EXECUTE {name}").all()
            _add(connection, 6, 20_003)
            ((explained,),) = connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {name}"
            ).all()
            rows = connection.exec_driver_sql(f"EXECUTE {name}").all()
            connection.rollback()
    finally:
        engine.dispose()
    plan = explained[0]["Plan"]
    scans = [node for node in _plan_nodes(plan) if node.get("Relation Name") == "merkle_nodes"]
    assert scans, plan
    for scan in scans:
        assert scan["Node Type"] == "Index Scan", scan
        assert "level" in scan["Index Cond"] and "index" in scan["Index Cond"], scan
    assert plan["Shared Hit Blocks"] < 200, plan  # not every node of a level: 20,003 of them fill ~130 pages
    head, border = head_and_border(rows)
    assert head == 20_003
    # 20,003 = 0b100111000100011: of the border only levels 0 and 1 are stored here.
    assert border.keys() == {(0, 20_002), (1, 10_000)}
