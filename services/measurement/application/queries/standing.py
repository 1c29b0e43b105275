"""The observation that stands in a cell at a valid date: among those in
force now, the one first recorded last (domain/progress.py). An import asks
for it, so that a row an export holds is found already present whoever
recorded it and however (a single POST, another key's import)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select, tuple_

from services.common.database import Database
from services.measurement.adapters.tables import observation_values, observations_view
from services.measurement.projections.series_keys import series_key

CellDate = tuple[str, str | None, str, date]  # benchmark, country, sector ("" for none), valid date
CHUNK = 500


def standing_observations(database: Database, cells: Sequence[CellDate]) -> dict[CellDate, dict[str, Any]]:
    """For each of `cells` that has one: the standing observation's id,
    period, value and disaggregated values."""
    wanted = set(cells)
    keys = sorted({(series_key(b, c or "", s), valid_date) for b, c, s, valid_date in wanted})
    found: dict[CellDate, tuple[int, dict[str, Any]]] = {}
    values, view = observation_values, observations_view
    for start in range(0, len(keys), CHUNK):
        query = (
            select(
                values.c.observation_id,
                values.c.benchmark,
                values.c.country,
                values.c.sector,
                values.c.valid_date,
                values.c.recorded_position,
                view.c.period,
                view.c.state,
            )
            .join(view, view.c.id == values.c.observation_id)
            .where(values.c.known_until.is_(None))
            .where(tuple_(values.c.series_key, values.c.valid_date).in_(keys[start : start + CHUNK]))
        )
        for row in database.read_once(query):
            cell: CellDate = (row.benchmark, row.country, row.sector, row.valid_date)
            if cell in wanted and (cell not in found or found[cell][0] < row.recorded_position):
                found[cell] = (row.recorded_position, _standing(row.observation_id, row.period, row.state))
    return {cell: standing for cell, (_, standing) in found.items()}


def _standing(observation_id: UUID, period: str, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": observation_id,
        "period": period,
        "value": state["value"],
        "disaggregations": state["disaggregations"],
    }
