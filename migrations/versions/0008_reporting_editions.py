"""Reporting: stored report editions (pins, lifecycle, canonical content) and
the SHA-256 of each of their renderings.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reporting_editions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("framework", sa.String(100), nullable=False),
        sa.Column("template_version", sa.String(32), nullable=False),
        sa.Column("generator_version", sa.String(64), nullable=False),
        sa.Column("previous_id", sa.String(36), nullable=True),
        sa.Column("previous_as_of", sa.Date(), nullable=True),
        sa.Column("previous_position", sa.BigInteger(), nullable=True),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_index("reporting_editions_kind_idx", "reporting_editions", ["kind", "position"])
    op.create_table(
        "reporting_renderings",
        sa.Column("edition_id", sa.String(36), primary_key=True),
        sa.Column("format", sa.String(8), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reporting_renderings")
    op.drop_table("reporting_editions")
