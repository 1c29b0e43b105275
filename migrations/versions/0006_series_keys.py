"""Measurement: integer series keys for the as-of lookups
(services/measurement/projections/series_keys.py).

`observation_values` gets `series_key` and a lookup index on it (holding, on
PostgreSQL, the columns a lookup returns), in place of the index on
(benchmark, country, ...); `benchmark_revisions` and `country_selections`
get the two parts a lookup adds up. The keys are computed in Python, so
this revision empties the three tables (they are read models, derived from
the log) and the rebuild that `stocktake migrate` runs next refills them:
the read-model version changes with this revision.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EMPTIED = ("benchmark_revisions", "observation_values", "country_selections")


def upgrade() -> None:
    for table in EMPTIED:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.drop_index("observation_values_lookup_idx", table_name="observation_values")
    # Batch mode: SQLite adds a NOT NULL column by rebuilding the table.
    with op.batch_alter_table("observation_values") as batch:
        batch.add_column(sa.Column("series_key", sa.BigInteger(), nullable=False))
    with op.batch_alter_table("benchmark_revisions") as batch:
        batch.add_column(sa.Column("series_base", sa.BigInteger(), nullable=False))
    with op.batch_alter_table("country_selections") as batch:
        batch.add_column(sa.Column("series_part", sa.Integer(), nullable=False))
    op.create_index(
        "observation_values_series_idx",
        "observation_values",
        ["series_key", "valid_date", "known_from", "known_until"],
        postgresql_include=["number", "text", "benchmark", "country"],
    )


def downgrade() -> None:
    for table in EMPTIED:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.drop_index("observation_values_series_idx", table_name="observation_values")
    with op.batch_alter_table("country_selections") as batch:
        batch.drop_column("series_part")
    with op.batch_alter_table("benchmark_revisions") as batch:
        batch.drop_column("series_base")
    with op.batch_alter_table("observation_values") as batch:
        batch.drop_column("series_key")
    op.create_index(
        "observation_values_lookup_idx",
        "observation_values",
        ["benchmark", "country", "valid_date", "known_from", "known_until"],
    )
