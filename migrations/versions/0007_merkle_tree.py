"""Measurement: the transparency log's Merkle tree over the event log, and a
guard without holes.

`merkle_nodes` holds the hash of every perfect subtree of the RFC 9162 tree
over the log (level 0: the leaf hashes; services/measurement/adapters/
merkle_nodes.py); this revision fills it for the events already stored. Like
`stored_events` it is append-only, and on SQLite both tables now also refuse
an insert that would replace a stored row: `INSERT OR REPLACE`/`REPLACE INTO`
delete the old row without firing delete triggers, so the UPDATE/DELETE
triggers of 0001 let them through.

On PostgreSQL, the rest of the guard is the roles: the served process
connects as a role that may only INSERT into and SELECT from these two tables
(`stocktake db grant-service-role`), so it can neither change, delete nor
truncate them, nor drop a trigger (that needs ownership).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NODES_APPEND_ONLY = "merkle_nodes is append-only: the Merkle tree of the log is never rewritten"
EVENTS_NO_REPLACE = "stored_events is append-only: an event at this position or stream version is already stored"
BACKFILL_BATCH = 5000
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("index", Position, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        _guard_nodes_postgresql()
    else:
        _guard_sqlite()
    _backfill()


def _guard_nodes_postgresql() -> None:
    op.execute(
        f"""
        CREATE FUNCTION merkle_nodes_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{NODES_APPEND_ONLY}';
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER merkle_nodes_no_update_or_delete BEFORE UPDATE OR DELETE ON merkle_nodes "
        "FOR EACH ROW EXECUTE FUNCTION merkle_nodes_append_only()"
    )
    op.execute(
        "CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes "
        "FOR EACH STATEMENT EXECUTE FUNCTION merkle_nodes_append_only()"
    )


def _guard_sqlite() -> None:
    # A BEFORE INSERT trigger runs before the conflict resolution, so it sees
    # the row a REPLACE would delete; an upsert (ON CONFLICT DO UPDATE) is
    # refused here too, and would otherwise hit the UPDATE trigger.
    op.execute(
        "CREATE TRIGGER stored_events_no_replace BEFORE INSERT ON stored_events "
        "WHEN EXISTS (SELECT 1 FROM stored_events WHERE position = NEW.position) "
        "OR EXISTS (SELECT 1 FROM stored_events WHERE originator_id = NEW.originator_id "
        "AND originator_version = NEW.originator_version) "
        f"BEGIN SELECT RAISE(ABORT, '{EVENTS_NO_REPLACE}'); END"
    )
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER merkle_nodes_no_{action.lower()} BEFORE {action} ON merkle_nodes "
            f"BEGIN SELECT RAISE(ABORT, '{NODES_APPEND_ONLY}'); END"
        )
    op.execute(
        "CREATE TRIGGER merkle_nodes_no_replace BEFORE INSERT ON merkle_nodes "
        'WHEN EXISTS (SELECT 1 FROM merkle_nodes WHERE level = NEW.level AND "index" = NEW."index") '
        f"BEGIN SELECT RAISE(ABORT, '{NODES_APPEND_ONLY}'); END"
    )


def _backfill() -> None:
    """The nodes of the events stored before this revision, in batches (a
    batch holds at most O(log n) hashes besides its events)."""
    # Imported here: the leaf's definition is fixed (an auditor reimplements
    # it), so a later change to this code cannot silently change old trees.
    from services.measurement.adapters.merkle_nodes import append_leaves, event_leaf_hash
    from services.measurement.adapters.tables import merkle_nodes, stored_events

    connection = op.get_bind()
    size = 0
    while True:
        rows = connection.execute(
            sa.select(
                stored_events.c.position,
                stored_events.c.originator_id,
                stored_events.c.originator_version,
                stored_events.c.topic,
                stored_events.c.recorded_at,
                stored_events.c.state,
            )
            .where(stored_events.c.position > size)
            .order_by(stored_events.c.position)
            .limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        hashes: list[bytes] = []
        for position, originator_id, version, topic, recorded_at, state in rows:
            if position != size + len(hashes) + 1:
                raise RuntimeError(f"the event log has a gap before position {position}; it cannot be a tree")
            hashes.append(
                event_leaf_hash(
                    position=position,
                    originator_id=originator_id,
                    version=version,
                    topic=topic,
                    recorded_at=recorded_at,
                    state=state,
                )
            )
        append_leaves(connection, merkle_nodes, size, hashes)
        size += len(hashes)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("merkle_nodes")
        op.execute("DROP FUNCTION merkle_nodes_append_only()")
    else:
        op.execute("DROP TRIGGER stored_events_no_replace")
        op.drop_table("merkle_nodes")
