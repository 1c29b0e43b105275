"""Reporting: each edition pins the signed checkpoint of the log's Merkle
tree at its position (the tree of every event up to it), so that an auditor
can prove a figure it quotes is in the log the report was read at. Nullable:
editions made before this pinned none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reporting_editions") as batch:
        batch.add_column(sa.Column("checkpoint_size", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("checkpoint_root_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("checkpoint_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reporting_editions") as batch:
        batch.drop_column("checkpoint_note")
        batch.drop_column("checkpoint_root_hash")
        batch.drop_column("checkpoint_size")
