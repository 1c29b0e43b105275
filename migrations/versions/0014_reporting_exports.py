"""Reporting: pinned exports (the Programme Implementation contribution and
the IATI activity), stored like report editions: their pins, the canonical
JSON of their content, and the SHA-256 and size of each rendering as made.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reporting_exports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("biennium", sa.String(16), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("framework", sa.String(100), nullable=False),
        sa.Column("template_version", sa.String(32), nullable=False),
        sa.Column("generator_version", sa.String(64), nullable=False),
        sa.Column("checkpoint_size", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_root_hash", sa.String(64), nullable=False),
        sa.Column("checkpoint_note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_index("reporting_exports_kind_idx", "reporting_exports", ["kind", "created_at"])
    op.create_table(
        "reporting_export_renderings",
        sa.Column("export_id", sa.String(36), primary_key=True),
        sa.Column("format", sa.String(8), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reporting_export_renderings")
    op.drop_index("reporting_exports_kind_idx", table_name="reporting_exports")
    op.drop_table("reporting_exports")
