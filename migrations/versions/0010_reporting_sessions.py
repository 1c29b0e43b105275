"""Reporting: the pages' sessions kept on the server, so that sign-out ends a
session for every copy of its cookie (the cookie alone would stay valid
until it expires). Only the SHA-256 of a session's id is stored: a read of
this table opens no session.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reporting_sessions",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("principal", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("reporting_sessions_expires_idx", "reporting_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("reporting_sessions")
