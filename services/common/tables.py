"""Tables of what both services share: API keys and idempotency records.
Alembic (`migrations/`) creates and changes them; this module only describes
them for queries."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table

metadata = MetaData()


# Answers kept for safe retries (Idempotency-Key): not a read model, not rebuilt.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("principal", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("completed", Boolean(), nullable=False),
    Column("response_status", Integer(), nullable=True),
    Column("response_body", JSON(), nullable=True),
    Column("response_headers", JSON(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("idempotency_records_created_at_idx", "created_at"),
)


# API keys: only a SHA-256 of each secret is kept. Revoking a key marks it; no
# row is deleted, so who held which key when stays known.
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("principal", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("countries", JSON(), nullable=False),
    Column("label", String(200), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Column("revocation_reason", String(500), nullable=True),
    Index("api_keys_principal_idx", "principal"),
)
