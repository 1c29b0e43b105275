"""Measurement: the event store (append-only, enforced by the database) and
the first read models.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

APPEND_ONLY_MESSAGE = "stored_events is append-only: record a correction or retraction event instead"


def upgrade() -> None:
    op.create_table(
        "stored_events",
        sa.Column("position", Position, primary_key=True, autoincrement=False),
        sa.Column("originator_id", sa.Uuid(), nullable=False),
        sa.Column("originator_version", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("originator_id", "originator_version", name="stored_events_stream_version_key"),
    )
    op.create_index("stored_events_recorded_at_idx", "stored_events", ["recorded_at"])
    _forbid_changes_to_stored_events()

    op.create_table(
        "projection_tracking",
        sa.Column("projection", sa.String(64), primary_key=True),
        sa.Column("position", Position, nullable=False),
    )
    op.create_table(
        "benchmarks_view",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("assumption", sa.String(8), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("defined_position", Position, nullable=False, unique=True),
        sa.Column("last_position", Position, nullable=False),
    )
    op.create_index("ix_benchmarks_view_assumption", "benchmarks_view", ["assumption"])
    op.create_table(
        "observations_view",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("benchmark", sa.String(64), nullable=False),
        sa.Column("assumption", sa.String(8), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("sector", sa.String(64), nullable=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_position", Position, nullable=False, unique=True),
        sa.Column("last_position", Position, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("observations_view_benchmark_idx", "observations_view", ["benchmark", "recorded_position"])
    op.create_index("observations_view_country_idx", "observations_view", ["country", "recorded_position"])
    op.create_index("observations_view_assumption_idx", "observations_view", ["assumption", "recorded_position"])


def _forbid_changes_to_stored_events() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION stored_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
            END
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER stored_events_no_update_or_delete BEFORE UPDATE OR DELETE ON stored_events "
            "FOR EACH ROW EXECUTE FUNCTION stored_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER stored_events_no_truncate BEFORE TRUNCATE ON stored_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION stored_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER stored_events_no_{action.lower()} BEFORE {action} ON stored_events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )


def downgrade() -> None:
    op.drop_table("observations_view")
    op.drop_table("benchmarks_view")
    op.drop_table("projection_tracking")
    op.drop_table("stored_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION stored_events_append_only()")
