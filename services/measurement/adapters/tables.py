"""Table definitions of the measurement service. Alembic (`migrations/`)
creates and changes them; this module only describes them for queries, and a
test checks the two agree."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

metadata = MetaData()

Position = BigInteger().with_variant(Integer(), "sqlite")

stored_events = Table(
    "stored_events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("originator_id", Uuid(), nullable=False),
    Column("originator_version", Integer(), nullable=False),
    Column("topic", Text(), nullable=False),
    Column("state", LargeBinary(), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("originator_id", "originator_version", name="stored_events_stream_version_key"),
    Index("stored_events_recorded_at_idx", "recorded_at"),
)

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("projection", String(64), primary_key=True),
    Column("position", Position, nullable=False),
)

benchmarks_view = Table(
    "benchmarks_view",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("id", Uuid(), nullable=False, unique=True),
    Column("assumption", String(8), nullable=False, index=True),
    Column("retired", Boolean(), nullable=False),
    Column("state", JSON(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("defined_position", Position, nullable=False, unique=True),
    Column("last_position", Position, nullable=False),
)

observations_view = Table(
    "observations_view",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("benchmark", String(64), nullable=False),
    Column("assumption", String(8), nullable=False),
    Column("country", String(3), nullable=False),
    Column("sector", String(64), nullable=True),
    Column("period", String(16), nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("period_end", Date(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("state", JSON(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("recorded_position", Position, nullable=False, unique=True),
    Column("last_position", Position, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("observations_view_benchmark_idx", "benchmark", "recorded_position"),
    Index("observations_view_country_idx", "country", "recorded_position"),
    Index("observations_view_assumption_idx", "assumption", "recorded_position"),
)
