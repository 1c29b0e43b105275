"""The reporting service's own tables (prefix `reporting_`), in the one
Alembic environment (migrations/versions/0008_reporting_editions.py,
0010_reporting_sessions.py, 0011_reporting_checkpoints.py,
0014_reporting_exports.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per edition. Its pins and content never change after it is made;
# only the lifecycle columns (status, approved_by, approved_at) do, once.
reporting_editions = Table(
    "reporting_editions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("as_of", Date(), nullable=False),
    Column("position", BigInteger(), nullable=False),
    Column("framework", String(100), nullable=False),
    Column("template_version", String(32), nullable=False),
    Column("generator_version", String(64), nullable=False),
    Column("previous_id", String(36), nullable=True),
    Column("previous_as_of", Date(), nullable=True),
    Column("previous_position", BigInteger(), nullable=True),
    Column("supersedes", String(36), nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(100), nullable=True),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    # The signed checkpoint of the log at `position` (migration 0011); None
    # for editions made before editions pinned one.
    Column("checkpoint_size", BigInteger(), nullable=True),
    Column("checkpoint_root_hash", String(64), nullable=True),
    Column("checkpoint_note", Text(), nullable=True),
    # The canonical JSON of the content (the JSON rendering), for verification's section-by-section comparison.
    Column("content", Text(), nullable=False),
    # The previous edition of a kind: the latest one made at an earlier position.
    Index("reporting_editions_kind_idx", "kind", "position"),
)

# The SHA-256 of each rendering of an edition, as made when it was created.
reporting_renderings = Table(
    "reporting_renderings",
    metadata,
    Column("edition_id", String(36), primary_key=True),
    Column("format", String(8), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer(), nullable=False),
)

# The pages' sessions (entrypoints/pages/session.py), so that sign-out ends
# every copy of a session's cookie. Keyed by the SHA-256 of the session's id:
# the id itself is only in the (encrypted) cookie.
reporting_sessions = Table(
    "reporting_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("principal", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    # Expired sessions are deleted by expiry.
    Index("reporting_sessions_expires_idx", "expires_at"),
)

# One row per pinned export (the Programme Implementation contribution, the
# IATI activity): its pins and content, which never change after it is made.
reporting_exports = Table(
    "reporting_exports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("biennium", String(16), nullable=True),
    Column("as_of", Date(), nullable=False),
    Column("position", BigInteger(), nullable=False),
    Column("framework", String(100), nullable=False),
    Column("template_version", String(32), nullable=False),
    Column("generator_version", String(64), nullable=False),
    Column("checkpoint_size", BigInteger(), nullable=False),
    Column("checkpoint_root_hash", String(64), nullable=False),
    Column("checkpoint_note", Text(), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The canonical JSON of the content (the JSON rendering).
    Column("content", Text(), nullable=False),
    Index("reporting_exports_kind_idx", "kind", "created_at"),
)

# The SHA-256 and size of each rendering of an export, as made.
reporting_export_renderings = Table(
    "reporting_export_renderings",
    metadata,
    Column("export_id", String(36), primary_key=True),
    Column("format", String(8), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer(), nullable=False),
)
