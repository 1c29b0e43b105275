"""As-of queries: benchmark states for a valid date D as known at a log
position P, from the bitemporal read models (indexed lookups, no replay).

A row of `observation_values` is the value in force for its observation
between `known_from` (inclusive) and `known_until` (exclusive) positions, so
"as known at P" keeps the rows with known_from <= P < known_until. Per cell
(benchmark, country, sector) the value in force at D is the one with the
latest valid date on or before D; for the same valid date, that of the
observation first recorded last (`recorded_position`, which corrections
keep): the rule of domain/progress.py.

Only the cells in the programme's scope at D, as known at P, are combined
(domain/scope_periods.py): a cell whose country or sector was deselected
before D is left out at D, though its values stay in the history and count
at the dates it was in scope."""

from __future__ import annotations

import json
import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, QueuePool, and_, or_, select

from services.common.database import Database
from services.common.errors import ConflictError, InvalidCommandError, NotFoundError
from services.measurement.adapters.event_store import log_head, log_head_recorded_at
from services.measurement.adapters.tables import (
    benchmark_revisions,
    observation_values,
    scope_decisions,
    valid_date_high_water,
    value_cells,
)
from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.series import Step, series_dates
from services.measurement.domain.benchmarks import Level
from services.measurement.domain.progress import (
    Assessment,
    BenchmarkSpec,
    CountryValue,
    Status,
    ValueColumns,
    assess,
    assess_columns,
)
from services.measurement.domain.scope_periods import CellsInScope, ScopeDecision, ScopeKind, ScopeTimeline
from services.measurement.domain.values import Measure


def resolve_position(connection: Connection, at: int | None, known_at: datetime | None) -> int:
    """The log position a query is pinned to: `at`, or the head as it stood
    at the recorded time `known_at`, or the head now."""
    head = log_head(connection)
    if at is not None and known_at is not None:
        raise InvalidCommandError.at(
            ("at",), "Give either `at` (a log position) or `known_at` (a time), not both.", "query"
        )
    if at is not None:
        if at > head:
            raise InvalidCommandError.at(
                ("at",),
                f"Position {at} is beyond the head of the log ({head}); an answer there could still change.",
                "query",
            )
        return at
    if known_at is not None:
        return _position_known_at(connection, known_at)
    return head


def _position_known_at(connection: Connection, known_at: datetime) -> int:
    """The head as it stood at `known_at`; a time after the last event is
    refused, as the answer there could still change (before the first event
    it is position 0, the empty log)."""
    head, recorded_at = log_head_recorded_at(connection)
    if recorded_at is not None and known_at > recorded_at:
        raise InvalidCommandError.at(
            ("known_at",),
            f"{known_at.isoformat()} is after the last event of the log (position {head}, recorded "
            f"{recorded_at.isoformat()}); an answer there could still change. Give a time up to then, or `at`.",
            "query",
        )
    return log_head(connection, recorded_by=known_at)


def _known_at(table: Any, position: int) -> Any:
    return and_(table.c.known_from <= position, or_(table.c.known_until.is_(None), table.c.known_until > position))


def revisions_known_at(
    connection: Connection, position: int, codes: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Each benchmark's revision known at `position` (of `codes`, if given), by code."""
    query = select(benchmark_revisions).where(_known_at(benchmark_revisions, position))
    if codes is not None:
        query = query.where(benchmark_revisions.c.benchmark.in_(codes))
    return {row.benchmark: dict(row._mapping) for row in connection.execute(query)}


def scope_known_at(connection: Connection, position: int) -> ScopeTimeline:
    """The scope decisions known at `position` (a few rows: no cache needed)."""
    query = select(scope_decisions).where(scope_decisions.c.position <= position).order_by(scope_decisions.c.position)
    return ScopeTimeline(
        ScopeDecision(ScopeKind(row.kind), row.code, row.selected, row.valid_from, row.reason)
        for row in connection.execute(query)
    )


def _selected_countries(connection: Connection, position: int, as_of: date | None = None) -> list[str]:
    """The countries selected as known at `position`: those in scope at `as_of`, or (None) ever."""
    timeline = scope_known_at(connection, position)
    if as_of is None:
        return timeline.ever_selected(ScopeKind.COUNTRY)
    return timeline.in_scope(ScopeKind.COUNTRY, as_of)


# (benchmark, country, sector, valid date, number, text, known_from, recorded_position)
ValueRow = tuple[str, str, str, date, float | None, str | None, int, int]


@dataclass(frozen=True)
class Cells:
    """Which cells a lookup covers: all (None), or one country's, one sector's, or one of both."""

    country: str | None = None
    sector: str | None = None


ALL_CELLS = Cells()


def _values_in_force(
    connection: Connection,
    codes: Sequence[str],
    as_of: date,
    position: int,
    cells: Cells = ALL_CELLS,
    scoped: bool = True,
) -> dict[str, list[ValueRow]]:
    """Per benchmark: the value in force of each of its cells; `scoped`, of
    the cells in the programme's scope at `as_of` as known at `position`
    (left out by the lookup itself, which then walks none of theirs)."""
    admitted = scope_known_at(connection, position).cells_in_scope(as_of) if scoped else None
    return _all_values_in_force(connection, codes, as_of, position, cells, admitted)


def _in_scope(found: dict[str, list[ValueRow]], timeline: ScopeTimeline, as_of: date) -> dict[str, list[ValueRow]]:
    """The rows of the cells in scope at `as_of` (an international cell's country is "")."""
    admit = timeline.cells_in_scope(as_of).admit
    return {code: [row for row in rows if admit(row[1], row[2])] for code, rows in found.items()}


@dataclass(frozen=True)
class Lookup:
    """One as-of lookup's parameters: the cells of `codes` (those `cells`
    names, and of them those `admitted`, if given), their values in force at
    `as_of` as known at `position`."""

    codes: Sequence[str]
    as_of: date
    position: int
    cells: Cells = ALL_CELLS
    admitted: CellsInScope | None = None

    def parameters(self) -> dict[str, Any]:
        admitted = self.admitted
        return {
            "codes": list(self.codes),
            "as_of": self.as_of,
            "position": self.position,
            "country": self.cells.country,
            "sector": self.cells.sector,
            "countries": None if admitted is None else sorted(admitted.countries),
            "sectors": None if admitted is None else sorted(admitted.sectors),
        }


def _all_values_in_force(
    connection: Connection,
    codes: Sequence[str],
    as_of: date,
    position: int,
    cells: Cells,
    admitted: CellsInScope | None = None,
) -> dict[str, list[ValueRow]]:
    """`admitted`: only the cells in scope (as `CellsInScope.admit` says)."""
    lookup = _lookup(connection, codes, as_of, position, cells, admitted)
    found: dict[str, list[ValueRow]] = defaultdict(list)
    if lookup is None:
        return found
    rows = _rows_in_force(connection, lookup)
    if connection.dialect.name != "postgresql":
        rows = _with_dates(rows)
    for row in rows:
        found[row[0]].append(row)
    return found


def _lookup(
    connection: Connection,
    codes: Sequence[str],
    as_of: date,
    position: int,
    cells: Cells,
    admitted: CellsInScope | None,
) -> Lookup | None:
    """The lookup of the values in force, or None when nothing can be found."""
    if not codes:
        return None
    # Nothing known at P has a valid date after the high-water mark at P.
    high_water = connection.execute(
        select(valid_date_high_water.c.valid_date)
        .where(valid_date_high_water.c.position <= position)
        .order_by(valid_date_high_water.c.position.desc())
        .limit(1)
    ).scalar_one_or_none()
    if high_water is None:
        return None
    return Lookup(codes, min(as_of, high_water), position, cells, admitted)


def _rows_in_force(connection: Connection, lookup: Lookup) -> list[Any]:
    """The rows of the values in force, as the driver gives them (on SQLite
    the valid dates are ISO texts)."""
    if (
        connection.dialect.name == "postgresql"
        and lookup.cells == ALL_CELLS
        and len(lookup.codes) >= FAN_OUT_FROM_BENCHMARKS
        and _idle_connection(connection)
    ):
        return _in_force_fanned_out(connection, lookup)
    if connection.dialect.name == "postgresql":
        return _in_force_by_lookup(connection, lookup)
    return _in_force_by_subquery(connection, lookup)


def _with_dates(rows: list[Any]) -> list[ValueRow]:
    """SQLite's rows with their valid dates as dates (each distinct date parsed once)."""
    dates: dict[str, date] = {}
    found = []
    for benchmark, country, sector, valid_date, number, text_value, known_from, recorded_position in rows:
        day = dates.get(valid_date)
        if day is None:
            day = dates[valid_date] = date.fromisoformat(valid_date)
        found.append((benchmark, country, sector, day, number, text_value, known_from, recorded_position))
    return found


_BENCHMARK = itemgetter(0)


# From this many benchmarks, half of the lookups run on a second connection at
# the same time (a roll-up: 30 benchmarks x 50 countries = 1,500 lookups). The
# answer at a position P reads only rows that can no longer change (rows
# known from later positions are filtered out, and a later correction only
# sets a `known_until` beyond P), so the two connections agree whatever
# their snapshots.
FAN_OUT_FROM_BENCHMARKS = 8
FAN_OUT_SLICES = 2
_fan_out: ThreadPoolExecutor | None = None
_fan_out_lock = threading.Lock()


def _fan_out_pool() -> ThreadPoolExecutor:
    global _fan_out
    with _fan_out_lock:
        if _fan_out is None:
            _fan_out = ThreadPoolExecutor(max_workers=4, thread_name_prefix="as-of-lookups")
        return _fan_out


def _idle_connection(connection: Connection) -> bool:
    """Whether the pool has a connection to spare (idle, or one it may open
    without overflowing): under load a roll-up does not split, so that
    requests each holding one connection and waiting for another can never
    exhaust the pool."""
    pool = connection.engine.pool
    return isinstance(pool, QueuePool) and pool.checkedout() < pool.size()


def _in_force_fanned_out(connection: Connection, lookup: Lookup) -> list[Any]:
    codes = lookup.codes
    slices = [replace(lookup, codes=codes[i::FAN_OUT_SLICES]) for i in range(FAN_OUT_SLICES)]

    def on_its_own_connection(part: Lookup) -> list[Any]:
        with connection.engine.connect() as other:
            other.execution_options(isolation_level="AUTOCOMMIT", postgresql_readonly=True)
            return _in_force_by_lookup(other, part)

    others = [_fan_out_pool().submit(on_its_own_connection, part) for part in slices[1:]]
    rows = _in_force_by_lookup(connection, slices[0])
    for other in others:
        rows.extend(other.result())
    return rows


# The callers pass the codes of benchmarks known at P (from `_revisions`), so
# the cells are found by code alone; in key order, so that consecutive probes
# land on neighbouring pages of the series index.
_LOOKUP = f"""
    SELECT cell.benchmark, cell.country, cell.sector, latest.valid_date, latest.number, latest.text,
           latest.known_from, latest.recorded_position
    FROM (
        SELECT c.benchmark, c.country, c.sector, c.series_key FROM {value_cells.name} AS c
        WHERE c.benchmark = ANY(%(codes)s) AND c.first_known <= %(position)s
          AND (%(country)s::text IS NULL OR c.country = %(country)s::text)
          AND (%(sector)s::text IS NULL OR c.sector = %(sector)s::text)
          AND (%(countries)s::text[] IS NULL OR c.country = '' OR c.country = ANY(%(countries)s::text[]))
          AND (%(sectors)s::text[] IS NULL OR c.sector = '' OR c.sector = ANY(%(sectors)s::text[]))
        ORDER BY c.series_key
    ) AS cell
    CROSS JOIN LATERAL (
        SELECT v.valid_date, v.number, v.text, v.known_from, v.recorded_position
        FROM {observation_values.name} AS v
        WHERE v.series_key = cell.series_key AND v.valid_date <= %(as_of)s
          AND v.known_from <= %(position)s AND (v.known_until IS NULL OR v.known_until > %(position)s)
          AND v.benchmark = cell.benchmark AND v.country = cell.country AND v.sector = cell.sector
        ORDER BY v.valid_date DESC, v.recorded_position DESC
        LIMIT 1
    ) AS latest
"""


def _in_force_by_lookup(connection: Connection, lookup: Lookup) -> list[Any]:
    """One index lookup per cell of the benchmarks: a LATERAL join that walks
    the cell's series index (projections/series_keys.py) backwards from D to
    the first version known at P, reading nothing but the index. Its cost
    grows with the number of cells, not with the history. Sent as fixed SQL
    on the driver's cursor: the server keeps it prepared, and the rows come
    back as plain tuples."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    found: list[Any] = cursor.execute(_LOOKUP, lookup.parameters()).fetchall()
    return found


# The lists (codes, and the countries and sectors in scope) are passed as
# JSON arrays, so that the statement's text, and SQLite's prepared statement,
# stay the same whatever their lengths.
_LOOKUP_SQLITE_TEMPLATE = f"""
    SELECT CASE WHEN v.benchmark = cell.benchmark AND v.country = cell.country AND v.sector = cell.sector
                THEN cell.benchmark END,
           cell.country, cell.sector, v.valid_date, v.number, v.text, v.known_from, v.recorded_position
    FROM {value_cells.name} AS cell
    CROSS JOIN {observation_values.name} AS v
    WHERE cell.benchmark IN (SELECT value FROM json_each(:codes)) AND cell.first_known <= :position
      AND (:country IS NULL OR cell.country = :country) AND (:sector IS NULL OR cell.sector = :sector)
      AND (:countries IS NULL OR cell.country = '' OR cell.country IN (SELECT value FROM json_each(:countries)))
      AND (:sectors IS NULL OR cell.sector = '' OR cell.sector IN (SELECT value FROM json_each(:sectors)))
      AND v.rowid = (
        SELECT w.rowid FROM {observation_values.name} AS w
        WHERE w.series_key = cell.series_key AND w.valid_date <= :as_of
          AND w.known_from <= :position AND (w.known_until IS NULL OR w.known_until > :position)
          {{cell_check}}
        ORDER BY w.valid_date DESC, w.recorded_position DESC
        LIMIT 1
      )
    """
_LOOKUP_SQLITE = _LOOKUP_SQLITE_TEMPLATE.format(cell_check="")
_LOOKUP_SQLITE_CHECKED = _LOOKUP_SQLITE_TEMPLATE.format(
    cell_check="AND w.benchmark = cell.benchmark AND w.country = cell.country AND w.sector = cell.sector"
)


def _in_force_by_subquery(connection: Connection, lookup: Lookup) -> list[Any]:
    """SQLite has no LATERAL: the same lookup per cell, as a correlated
    subquery that finds the row in force on the series index. CROSS JOIN
    fixes SQLite's join order (the cells, found on their primary key by
    benchmark, then the lookup), which its planner would otherwise choose
    without statistics. Run on the driver's cursor, as plain tuples (valid
    dates as ISO texts).

    The walk does not check each row's cell (SQLite's index does not hold
    it: a table read per row walked); the row it finds, read anyway for its
    value, is checked instead, and a row of another cell (two cells sharing
    a series key, projections/series_keys.py) gives no benchmark: then the
    lookup runs again with the check in the walk. A walk that ends on the
    cell's own row found that cell's row in force, as the rows it passed
    over are its own or another cell's."""
    parameters = lookup.parameters()
    for key in ("codes", "countries", "sectors"):
        if parameters[key] is not None:
            parameters[key] = json.dumps(parameters[key])
    parameters["as_of"] = lookup.as_of.isoformat()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    found: list[Any] = cursor.execute(_LOOKUP_SQLITE, parameters).fetchall()
    if None in map(_BENCHMARK, found):
        found = cursor.execute(_LOOKUP_SQLITE_CHECKED, parameters).fetchall()
    return found


def _country_values(spec: BenchmarkSpec, rows: Iterable[ValueRow], ordered: bool = True) -> list[CountryValue]:
    """`ordered`: by cell (a roll-up, whose figures do not depend on the
    order, skips it)."""
    # Positional arguments and a tuple sort key: a roll-up makes thousands of these.
    make = CountryValue
    rows_read: Iterable[Any] = rows  # a value is a number or a text, whichever is stored
    if spec.measure is Measure.UNIT:
        isfinite = math.isfinite
        values = [
            make(country, valid_date, int(number) if isfinite(number) else number, known_from, sector, recorded)
            if number is not None
            else make(country, valid_date, text_value, known_from, sector, recorded)
            for _, country, sector, valid_date, number, text_value, known_from, recorded in rows_read
        ]
    else:
        values = [
            make(country, valid_date, text_value if number is None else number, known_from, sector, recorded)
            for _, country, sector, valid_date, number, text_value, known_from, recorded in rows_read
        ]
    if ordered:
        values.sort(key=_by_cell)
    return values


def _value_columns(spec: BenchmarkSpec, rows: Sequence[ValueRow]) -> ValueColumns:
    """The values `_country_values` makes of `rows`, as columns (a roll-up
    reads thousands: the rows are transposed in C, and a column of numbers
    is taken whole when it holds nothing but finite floats)."""
    if not rows:
        return ValueColumns((), (), (), (), (), ())
    _, countries, sectors, valid_dates, numbers, texts, known_from, recorded = zip(*rows, strict=True)
    figures: Sequence[Any]
    if set(map(type, numbers)) == {float} and all(map(math.isfinite, numbers)):
        figures = list(map(int, numbers)) if spec.measure is Measure.UNIT else numbers
    elif spec.measure is not Measure.UNIT and numbers.count(None) == len(numbers):
        figures = texts
    else:
        figures = [value.value for value in _country_values(spec, rows, ordered=False)]
    return ValueColumns(countries, sectors, valid_dates, figures, known_from, recorded)


def _by_cell(value: CountryValue) -> tuple[str, str]:
    return (value.country, value.sector)


def _cell_out(value: CountryValue) -> dict[str, Any]:
    return {
        "country": value.country or None,
        "sector": value.sector or None,
        "value": value.value,
        "valid_date": value.valid_date,
        "known_at": value.known_at,
        "first_recorded": value.first_recorded,
    }


_VALUE = itemgetter(2)  # CountryValue.value


def _assessed(code: str, spec: BenchmarkSpec, values: list[CountryValue] | ValueColumns, as_of: date) -> Assessment:
    """The assessment, if its figures are numbers. Values are range-checked
    on input, but one stored before (or written around the checks) must not
    turn every read of the benchmark into a 500: a sum beyond the range of a
    float, or a baseline of 10**400, is refused as a conflict naming it."""
    try:
        if isinstance(values, ValueColumns):
            assessment = assess_columns(spec, values, as_of)
            column: Sequence[Any] = values.values
        else:
            assessment = assess(spec, values, as_of)
            column = list(map(_VALUE, values))
        figures = [assessment.combined, assessment.expected, assessment.progress]
        # The floats' check runs in C (a roll-up checks thousands of values).
        types = set(map(type, column))
        if types == {float}:
            finite = all(map(math.isfinite, column))
        elif not any(issubclass(kind, float) for kind in types):
            finite = True  # no float among them (counts, levels, texts)
        else:
            finite = all(map(math.isfinite, [figure for figure in column if isinstance(figure, float)]))
        if finite and all(map(math.isfinite, [figure for figure in figures if isinstance(figure, float)])):
            return assessment
    except OverflowError:
        pass
    raise ConflictError(
        f"Benchmark {code}'s figures cannot be computed: a stored value (its baseline, a target or an "
        f"observation), or their {spec.combination}, is beyond the range of a number. Correct or retract "
        "the out-of-range observation, or revise the baseline or targets."
    )


def _summary(revision: dict[str, Any], spec: BenchmarkSpec, values: ValueColumns, as_of: date) -> dict[str, Any]:
    """What a roll-up shows of a benchmark's state."""
    definition = revision["state"]
    assessment = _assessed(revision["benchmark"], spec, values, as_of)
    return {
        "benchmark": revision["benchmark"],
        "title": definition["title"],
        "level": definition["level"],
        "status": assessment.status.value,
        "combined": assessment.combined,
        "progress": assessment.progress,
        "countries_reporting": assessment.countries_reporting,
        "cells_reporting": assessment.cells_reporting,
        "freshest": assessment.freshest,
    }


def _state(
    revision: dict[str, Any],
    values: list[CountryValue],
    selected: list[str],
    as_of: date,
    position: int,
) -> dict[str, Any]:
    definition = revision["state"]
    spec = BenchmarkSpec.from_state(definition)
    assessment = _assessed(revision["benchmark"], spec, values, as_of)
    return {
        "benchmark": revision["benchmark"],
        "assumption": revision["assumption"],
        "title": definition["title"],
        "level": definition["level"],
        "measure": definition["measure"],
        "ascending": definition["ascending"],
        "combination": definition["combination"],
        "unit_label": definition.get("unit_label"),
        "retired": revision["retired"],
        "as_of": as_of,
        "position": position,
        "baseline": {"value": spec.baseline[1], "date": spec.baseline[0]},
        "target": None
        if assessment.target is None
        else {"date": assessment.target[0], "value": assessment.target[1], "label": assessment.target[2]},
        "combined": assessment.combined,
        "expected": assessment.expected,
        "progress": assessment.progress,
        "status": assessment.status.value,
        "countries": [_cell_out(v) for v in values],
        "countries_selected": len(selected),
        "countries_reporting": assessment.countries_reporting,
        "cells_reporting": assessment.cells_reporting,
        "freshest": assessment.freshest,
    }


def _not_defined(code: str, position: int) -> NotFoundError:
    return NotFoundError(f"Benchmark {code!r} was not defined as known at log position {position}.")


def benchmark_state(
    database: Database,
    code: str,
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    sector: str | None = None,
) -> dict[str, Any]:
    """`sector`: the state of that sector's cells alone ("" for the cells without a sector)."""
    with database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        revision = revisions_known_at(connection, position, [code]).get(code)
        if revision is None:
            raise _not_defined(code, position)
        timeline = scope_known_at(connection, position)
        found = _values_in_force(connection, [code], as_of, position, Cells(sector=sector), scoped=False)
        values = _in_scope(found, timeline, as_of).get(code, [])
        selected = timeline.in_scope(ScopeKind.COUNTRY, as_of)
    spec = BenchmarkSpec.from_state(revision["state"])
    return _state(revision, _country_values(spec, values), selected, as_of, position)


def benchmark_series(
    database: Database,
    code: str,
    period: tuple[str, str, Step],
    at: int | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """The state at each date from `start` to `end` by `step` (`period`), all
    as known at one position."""
    dates = series_dates(*period)
    with database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        revision = revisions_known_at(connection, position, [code]).get(code)
        if revision is None:
            raise _not_defined(code, position)
        timeline = scope_known_at(connection, position)
        spec = BenchmarkSpec.from_state(revision["state"])
        points = []
        for day in dates:
            # Each date's scope: a cell counts at the dates it was in scope.
            values = _in_scope(_values_in_force(connection, [code], day, position, scoped=False), timeline, day)
            selected = timeline.in_scope(ScopeKind.COUNTRY, day)
            points.append(_state(revision, _country_values(spec, values.get(code, [])), selected, day, position))
    return {"benchmark": code, "position": position, "points": points}


STATUS_ORDER = [s.value for s in Status]


def assumption_rollup(
    app: EventLogApplication,
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    sector: str | None = None,
) -> dict[str, Any]:
    """For each critical assumption of the framework as known at the position,
    its benchmarks' states and a summary (none before a framework was loaded)."""
    with app.database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
    try:
        framework = catalogue.framework(app, position)
    except NotFoundError:
        return {**rollup(app.database, [], as_of, position, None, sector), "framework_version": None}
    answer = rollup(app.database, framework["document"]["critical_assumptions"], as_of, position, None, sector)
    return {**answer, "framework_version": framework["version"]}


def rollup(
    database: Database,
    assumptions: Sequence[dict[str, Any]],
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    sector: str | None = None,
) -> dict[str, Any]:
    """For each of `assumptions`, its benchmarks' states and a summary
    (`sector`: of that sector's cells alone)."""
    with database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        revisions = revisions_known_at(connection, position)
        live = {code: r for code, r in revisions.items() if not r["retired"]}
        values = _values_in_force(connection, list(live), as_of, position, Cells(sector=sector))
    states_by_assumption: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for code in sorted(live):
        revision = live[code]
        spec = BenchmarkSpec.from_state(revision["state"])
        summary = _summary(revision, spec, _value_columns(spec, values.get(code, [])), as_of)
        states_by_assumption[revision["assumption"]].append(summary)
    items = []
    for assumption in assumptions:
        states = states_by_assumption.get(assumption["code"], [])
        counts = dict.fromkeys(STATUS_ORDER, 0)
        for state in states:
            counts[state["status"]] += 1
        items.append(
            {
                "assumption": assumption["code"],
                "text": assumption["text"],
                "benchmarks": states,
                "summary": {"benchmarks": len(states), "by_status": counts},
            }
        )
    return {"as_of": as_of, "position": position, "sector": sector, "assumptions": items}


def country_profile(
    database: Database,
    iso3: str,
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    sector: str | None = None,
) -> dict[str, Any]:
    """Every national benchmark's values in force for one country, cell by
    cell (`sector`: that sector's alone), beside the benchmark's
    programme-wide state (of the same sector's cells, when one is given).
    The country's values are shown even when it is out of scope at
    `as_of` (`in_scope` false); the programme-wide state combines the cells
    in scope only."""
    with database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        timeline = scope_known_at(connection, position)
        if iso3 not in timeline.ever_selected(ScopeKind.COUNTRY):
            raise NotFoundError(f"{iso3} was not a selected programme country as known at log position {position}.")
        revisions = {
            code: r
            for code, r in revisions_known_at(connection, position).items()
            if not r["retired"] and r["state"]["level"] == Level.NATIONAL
        }
        values = _values_in_force(connection, list(revisions), as_of, position, Cells(sector=sector), scoped=False)
    selected = timeline.in_scope(ScopeKind.COUNTRY, as_of)
    scoped = _in_scope(values, timeline, as_of)
    items = []
    for code in sorted(revisions):
        revision = revisions[code]
        spec = BenchmarkSpec.from_state(revision["state"])
        state = _state(revision, _country_values(spec, scoped.get(code, [])), selected, as_of, position)
        own = [v for v in _country_values(spec, values.get(code, [])) if v.country == iso3]
        # The single-value fields describe the country's one cell; with
        # several (one per sector) they are empty and `cells` has them all.
        only = own[0] if len(own) == 1 else None
        items.append(
            {
                "benchmark": code,
                "assumption": revision["assumption"],
                "title": state["title"],
                "value": None if only is None else only.value,
                "valid_date": None if only is None else only.valid_date,
                "known_at": None if only is None else only.known_at,
                "cells": [_cell_out(v) for v in own],
                "programme_status": state["status"],
                "programme_combined": state["combined"],
            }
        )
    return {
        "country": iso3,
        "as_of": as_of,
        "position": position,
        "sector": sector,
        "in_scope": timeline.admits(ScopeKind.COUNTRY, iso3, as_of),
        "scope_periods": [catalogue.period_out(period) for period in timeline.periods(ScopeKind.COUNTRY, iso3)],
        "benchmarks": items,
    }
