"""Measurement: the programme model of issue 11 in the read models.

- `observation_values` gets `recorded_position` (where the observation was
  first recorded: its precedence among the observations of its cell for the
  same valid date, which its corrections keep) and its `sector` becomes
  "" rather than NULL for an observation that names none, so that a cell
  (benchmark, country, sector) is compared with `=`; its series key becomes
  one per cell, and the lookup index orders by (valid date, precedence);
- `value_cells` lists every cell that has had an observation, with its
  series key: an as-of query looks up these cells;
- `benchmark_revisions.series_base` and `country_selections.series_part`
  go: a lookup now probes the cell's key.

The keys and positions are computed from the log, so this revision empties
`observation_values` (a read model, derived from the log) and the rebuild
that `stocktake migrate` runs next refills every read model: the read-model
version changes with this revision.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM observation_values"))
    op.drop_index("observation_values_series_idx", table_name="observation_values")
    # Batch mode: SQLite changes columns by rebuilding the table.
    with op.batch_alter_table("observation_values") as batch:
        batch.alter_column("sector", existing_type=sa.String(64), nullable=False)
        batch.add_column(sa.Column("recorded_position", Position, nullable=False))
    with op.batch_alter_table("benchmark_revisions") as batch:
        batch.drop_column("series_base")
    with op.batch_alter_table("country_selections") as batch:
        batch.drop_column("series_part")
    op.create_index(
        "observation_values_series_idx",
        "observation_values",
        ["series_key", "valid_date", "recorded_position", "known_from", "known_until"],
        postgresql_include=["number", "text", "benchmark", "country", "sector"],
    )
    op.create_table(
        "value_cells",
        sa.Column("benchmark", sa.String(64), primary_key=True),
        sa.Column("country", sa.String(3), primary_key=True),
        sa.Column("sector", sa.String(64), primary_key=True),
        sa.Column("first_known", Position, nullable=False),
        sa.Column("series_key", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("value_cells")
    for table in ("observation_values", "benchmark_revisions", "country_selections"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.drop_index("observation_values_series_idx", table_name="observation_values")
    with op.batch_alter_table("country_selections") as batch:
        batch.add_column(sa.Column("series_part", sa.Integer(), nullable=False))
    with op.batch_alter_table("benchmark_revisions") as batch:
        batch.add_column(sa.Column("series_base", sa.BigInteger(), nullable=False))
    with op.batch_alter_table("observation_values") as batch:
        batch.drop_column("recorded_position")
        batch.alter_column("sector", existing_type=sa.String(64), nullable=True)
    op.create_index(
        "observation_values_series_idx",
        "observation_values",
        ["series_key", "valid_date", "known_from", "known_until"],
        postgresql_include=["number", "text", "benchmark", "country"],
    )
