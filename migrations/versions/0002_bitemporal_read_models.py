"""Measurement: bitemporal read models (benchmark revisions, observation
values, country selections).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "benchmark_revisions",
        sa.Column("benchmark", sa.String(64), primary_key=True),
        sa.Column("known_from", Position, primary_key=True),
        sa.Column("known_until", Position, nullable=True),
        sa.Column("assumption", sa.String(8), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.create_index("benchmark_revisions_assumption_idx", "benchmark_revisions", ["assumption", "known_from"])
    op.create_table(
        "observation_values",
        sa.Column("observation_id", sa.Uuid(), primary_key=True),
        sa.Column("known_from", Position, primary_key=True),
        sa.Column("known_until", Position, nullable=True),
        sa.Column("benchmark", sa.String(64), nullable=False),
        sa.Column("country", sa.String(3), nullable=False),
        sa.Column("sector", sa.String(64), nullable=True),
        sa.Column("valid_date", sa.Date(), nullable=False),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
    )
    op.create_index(
        "observation_values_lookup_idx",
        "observation_values",
        ["benchmark", "country", "valid_date", "known_from", "known_until"],
    )
    op.create_table(
        "country_selections",
        sa.Column("iso3", sa.String(3), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("selected_position", Position, nullable=False),
    )
    # Events recorded before this revision reach these tables through a read
    # model rebuild, which `stocktake migrate` runs when the tracked read-model
    # version is not the code's.


def downgrade() -> None:
    op.drop_table("country_selections")
    op.drop_table("observation_values")
    op.drop_table("benchmark_revisions")
