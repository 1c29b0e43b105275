"""Measurement: scope decisions with dates (issue 11).

`scope_decisions` holds every selection and deselection of a country or a
sector at its log position, with the valid date it takes effect from, so
that as-of queries combine only the cells in scope at D as known at P. It
is a read model derived from the log: the read-model version changes with
this revision, and the rebuild that `stocktake migrate` runs next fills it
(selections stored before they had a date take effect at the programme's
start, 2017-01-01: their events' upcaster says so).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scope_decisions",
        sa.Column("position", Position, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("scope_decisions")
