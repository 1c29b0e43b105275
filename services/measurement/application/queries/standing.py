"""The observation that stands in a cell at a valid date: among those in
force now, the one first recorded last (domain/progress.py). An import asks
for it, so that a row an export holds is found already present whoever
recorded it and however (a single POST, another key's import)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Date, String, and_, bindparam, cast, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from services.common.database import Database
from services.measurement.adapters.tables import observation_values, observations_view
from services.measurement.projections.series_keys import series_key

CellDate = tuple[str, str | None, str, date]  # benchmark, country, sector ("" for none), valid date


def standing_observations(database: Database, cells: Sequence[CellDate]) -> dict[CellDate, dict[str, Any]]:
    """For each of `cells` that has one: the standing observation's id,
    period, value and disaggregated values."""
    wanted = set(cells)
    # A batch's rows share a few cells (benchmark, country, sector): each's series key is made once.
    series: dict[tuple[str, str | None, str], int] = {}
    keys = set()
    for benchmark, country, sector, valid_date in wanted:
        cell = (benchmark, country, sector)
        key = series.get(cell)
        if key is None:
            key = series[cell] = series_key(benchmark, country or "", sector)
        keys.add((key, valid_date))
    found: dict[CellDate, tuple[int, dict[str, Any]]] = {}
    for query in _queries(database, sorted(keys)):
        for row in database.read_once(query):
            cell_date: CellDate = (row.benchmark, row.country, row.sector, row.valid_date)
            if cell_date in wanted and (cell_date not in found or found[cell_date][0] < row.recorded_position):
                found[cell_date] = (row.recorded_position, _standing(row.observation_id, row.period, row.state))
    return {cell_date: standing for cell_date, (_, standing) in found.items()}


def array_text(elements: Iterable[str]) -> str:
    """PostgreSQL's text of an array of `elements` that need no quotes (numbers, dates, hexadecimal):
    sent as one text parameter and cast. psycopg dumps a list element by element, each searched for
    characters to quote by a regular expression (some 10,000 instructions an element: more than the
    rest of a batch row's lookup)."""
    return "{" + ",".join(elements) + "}"


def _queries(database: Database, keys: list[tuple[int, date]]) -> list[Any]:
    """The queries of the versions known now at `keys` (series key, valid date), each key looked up in the
    series index: the keys are the query's first table, given as one parameter whatever their number
    (PostgreSQL: two arrays unnested; SQLite: a JSON array of pairs read by json_each), not a list of
    pairs every row of observation_values is compared with (which cost a scan of the table per batch),
    nor a VALUES list, which SQLAlchemy compiled anew for every batch (a bound parameter per key)."""
    if not keys:
        return []
    days: dict[date, str] = {}  # the valid dates' texts: a batch's rows share a few
    for _, valid_date in keys:
        if valid_date not in days:
            days[valid_date] = valid_date.isoformat()
    if database.is_postgresql:
        series_keys = array_text([str(key) for key, _ in keys])
        valid_dates = array_text([days[valid_date] for _, valid_date in keys])
        wanted = (
            func.unnest(
                cast(bindparam("series_keys", series_keys, type_=String()), ARRAY(BigInteger())),
                cast(bindparam("valid_dates", valid_dates, type_=String()), ARRAY(Date())),
            )
            .table_valued("series_key", "valid_date")
            .render_derived(name="wanted")
        )
        return [_looked_up(wanted)]
    # SQLite keeps a date as its ISO text, which json_extract gives back as is.
    pairs = json.dumps([[key, days[valid_date]] for key, valid_date in keys])
    each = func.json_each(bindparam("wanted_keys", pairs, type_=String())).table_valued("value")
    pairs_table = (
        select(
            func.json_extract(each.c.value, literal_column("'$[0]'")).label("series_key"),
            func.json_extract(each.c.value, literal_column("'$[1]'")).label("valid_date"),
        )
        .select_from(each)
        .cte("wanted")
    )
    return [_joined(pairs_table)]


_KNOWN = observation_values
_COLUMNS = ("observation_id", "benchmark", "country", "sector", "valid_date", "recorded_position")


def _looked_up(wanted: Any) -> Any:
    """PostgreSQL: one probe of the series index per wanted key, whatever the planner's statistics (a
    LATERAL subquery with OFFSET 0 is not flattened into a join, which without statistics the planner
    made a hash join over a scan of every version known now: 150 ms a batch at 500,000 rows, 30 ms so)."""
    known = (
        select(*(_KNOWN.c[name] for name in _COLUMNS))
        .where(
            _KNOWN.c.series_key == wanted.c.series_key,
            _KNOWN.c.valid_date == wanted.c.valid_date,
            _KNOWN.c.known_until.is_(None),
        )
        .offset(0)
        .lateral("known")
    )
    view = observations_view
    return (
        select(*(known.c[name] for name in _COLUMNS), view.c.period, view.c.state)
        .select_from(wanted)
        .join(known, true())
        .join(view, view.c.id == known.c.observation_id)
    )


def _joined(wanted: Any) -> Any:
    """SQLite: the wanted keys joined to observation_values (SQLite looks each up in the series index)."""
    view = observations_view
    return (
        select(*(_KNOWN.c[name] for name in _COLUMNS), view.c.period, view.c.state)
        .select_from(wanted)
        .join(_KNOWN, and_(_KNOWN.c.series_key == wanted.c.series_key, _KNOWN.c.valid_date == wanted.c.valid_date))
        .join(view, view.c.id == _KNOWN.c.observation_id)
        .where(_KNOWN.c.known_until.is_(None))
    )


def _standing(observation_id: UUID, period: str, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": observation_id,
        "period": period,
        "value": state["value"],
        "disaggregations": state["disaggregations"],
    }
