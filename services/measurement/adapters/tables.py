"""Table definitions of the measurement service. Alembic (`migrations/`)
creates and changes them; this module only describes them for queries, and a
test checks the two agree.

The read models are defined by a function of a name suffix, so that a rebuild
can write a fresh set (`_rebuild`) beside the live one."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
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

# The Merkle tree over the log (adapters/merkle_nodes.py): the hash of each
# perfect subtree, by level (0: leaf hashes) and index within the level.
merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", SmallInteger(), primary_key=True, autoincrement=False),
    Column("index", Position, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(), nullable=False),
)

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("projection", String(64), primary_key=True),
    Column("position", Position, nullable=False),
)


@dataclass(frozen=True)
class ReadModelTables:
    benchmarks_view: Table
    observations_view: Table
    benchmark_revisions: Table
    observation_values: Table
    country_selections: Table
    valid_date_high_water: Table
    value_cells: Table
    scope_decisions: Table

    def all(self) -> list[Table]:
        return [getattr(self, f.name) for f in fields(self)]


def read_model_tables(target: MetaData, suffix: str = "") -> ReadModelTables:
    def name(base: str) -> str:
        return base + suffix

    return ReadModelTables(
        # Current state of each benchmark, for the catalogue.
        benchmarks_view=Table(
            name("benchmarks_view"),
            target,
            Column("id", Uuid(), primary_key=True),
            Column("code", String(64), nullable=False, unique=True),
            Column("assumption", String(8), nullable=False),
            Column("retired", Boolean(), nullable=False),
            Column("state", JSON(), nullable=False),
            Column("version", Integer(), nullable=False),
            Column("defined_position", Position, nullable=False, unique=True),
            Column("last_position", Position, nullable=False),
            Index(name("ix_benchmarks_view") + "_assumption", "assumption"),
        ),
        # Current state of each observation, for lists and pages.
        observations_view=Table(
            name("observations_view"),
            target,
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
            Index(name("observations_view") + "_benchmark_idx", "benchmark", "recorded_position"),
            Index(name("observations_view") + "_country_idx", "country", "recorded_position"),
            Index(name("observations_view") + "_assumption_idx", "assumption", "recorded_position"),
        ),
        # Bitemporal: each version of a benchmark's definition, with the log
        # positions between which it was the one known.
        benchmark_revisions=Table(
            name("benchmark_revisions"),
            target,
            Column("benchmark", String(64), primary_key=True),
            Column("known_from", Position, primary_key=True),
            Column("known_until", Position, nullable=True),
            Column("assumption", String(8), nullable=False),
            Column("retired", Boolean(), nullable=False),
            Column("state", JSON(), nullable=False),
            Index(name("benchmark_revisions") + "_assumption_idx", "assumption", "known_from"),
        ),
        # Bitemporal: each version of an observation's value, with its valid
        # date and the log positions between which it was the one known.
        observation_values=Table(
            name("observation_values"),
            target,
            Column("observation_id", Uuid(), primary_key=True),
            Column("known_from", Position, primary_key=True),
            Column("known_until", Position, nullable=True),
            Column("benchmark", String(64), nullable=False),
            Column("country", String(3), nullable=False),
            # The observation's cell's sector, "" when it names none.
            Column("sector", String(64), nullable=False),
            Column("valid_date", Date(), nullable=False),
            Column("number", Float(), nullable=True),
            Column("text", Text(), nullable=True),
            # One integer per cell (benchmark, country, sector): projections/series_keys.py.
            Column("series_key", BigInteger(), nullable=False),
            # Where the observation was first recorded: its precedence among
            # the cell's observations for the same valid date, which its
            # corrections keep.
            Column("recorded_position", Position, nullable=False),
            # The as-of lookup: walks one series backwards from a valid date.
            # On PostgreSQL it also holds what a lookup returns and checks, so
            # the lookup reads no table row (an index-only scan).
            Index(
                name("observation_values") + "_series_idx",
                "series_key",
                "valid_date",
                "recorded_position",
                "known_from",
                "known_until",
                postgresql_include=["number", "text", "benchmark", "country", "sector"],
            ),
        ),
        # Programme countries with the position at which each was selected.
        country_selections=Table(
            name("country_selections"),
            target,
            Column("iso3", String(3), primary_key=True),
            Column("region", String(32), nullable=False),
            Column("selected_position", Position, nullable=False),
        ),
        # The latest valid date of any observation known at each position
        # where it rose: no value known at P has a later valid date, so as-of
        # lookups start from there instead of walking over what came after P.
        valid_date_high_water=Table(
            name("valid_date_high_water"),
            target,
            Column("position", Position, primary_key=True),
            Column("valid_date", Date(), nullable=False),
        ),
        # Every cell (benchmark, country, sector: "" when none) that has had
        # an observation, from the position of its first: an as-of query
        # looks up these cells, not every benchmark x country x sector.
        value_cells=Table(
            name("value_cells"),
            target,
            Column("benchmark", String(64), primary_key=True),
            Column("country", String(3), primary_key=True),
            Column("sector", String(64), primary_key=True),
            Column("first_known", Position, nullable=False),
            Column("series_key", BigInteger(), nullable=False),
        ),
        # Every selection and deselection of a country or a sector, at its
        # log position, with the valid date it takes effect from: the scope
        # in force at D as known at P is read from the rows up to P
        # (domain/scope_periods.py).
        scope_decisions=Table(
            name("scope_decisions"),
            target,
            Column("position", Position, primary_key=True, autoincrement=False),
            Column("kind", String(8), nullable=False),
            Column("code", String(64), nullable=False),
            Column("selected", Boolean(), nullable=False),
            Column("valid_from", Date(), nullable=False),
            Column("reason", Text(), nullable=True),
        ),
    )


LIVE = read_model_tables(metadata)
benchmarks_view = LIVE.benchmarks_view
observations_view = LIVE.observations_view
benchmark_revisions = LIVE.benchmark_revisions
observation_values = LIVE.observation_values
country_selections = LIVE.country_selections
valid_date_high_water = LIVE.valid_date_high_water
value_cells = LIVE.value_cells
scope_decisions = LIVE.scope_decisions
