"""Measurement: the valid-date high-water mark of the log, which bounds
as-of lookups. Filled by the read-model rebuild that `stocktake migrate` runs
(the read-model version changes with this revision).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "valid_date_high_water",
        sa.Column("position", Position, primary_key=True),
        sa.Column("valid_date", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("valid_date_high_water")
