"""Everything a stocktaking report needs, in one read: every non-retired
benchmark's definition and state at a valid date, its values in force per
country and, on request, its quarterly series, all as known at one log
position, from one snapshot.

The reporting service makes a full report from a few of these instead of one
call per benchmark and country. The states are `progress._state`'s, computed
by the domain's `assess`: there is no second copy of the rules here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.progress import (
    _country_values,
    _selected_countries,
    _state,
    _values_in_force,
    resolve_position,
    revisions_known_at,
)
from services.measurement.domain.progress import AT_RISK_TOLERANCE, ON_TRACK_TOLERANCE, BenchmarkSpec


def quarter_ends(start: date, end: date) -> list[date]:
    """The last day of each quarter that ends from `start` to `end`, inclusive."""
    ends: list[date] = []
    year, quarter = start.year, (start.month - 1) // 3 + 1
    while True:
        month = quarter * 3
        last = date(year, month, 31 if month in (3, 12) else 30)
        if last > end:
            return ends
        if last >= start:
            ends.append(last)
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _point(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": state["as_of"],
        "combined": state["combined"],
        "expected": state["expected"],
        "status": state["status"],
    }


def _series(
    connection: Connection,
    live: dict[str, dict[str, Any]],
    dates: Iterable[date],
    position: int,
    selected: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """Per benchmark, its combined and expected figures at each date: one
    lookup over every benchmark per date."""
    points: dict[str, list[dict[str, Any]]] = {code: [] for code in live}
    for day in dates:
        values = _values_in_force(connection, list(live), day, position)
        for code, revision in live.items():
            spec = BenchmarkSpec.from_state(revision["state"])
            state = _state(revision, _country_values(spec, values.get(code, [])), selected, day, position)
            points[code].append(_point(state))
    return points


def _entry(state: dict[str, Any], revision: dict[str, Any], countries: frozenset[str] | None) -> dict[str, Any]:
    """A benchmark's state with its whole definition; a country office's
    answer keeps only its own countries' values (the combined figures stay
    the programme's)."""
    definition = revision["state"]
    entry = {
        **state,
        "targets": sorted(definition["targets"], key=lambda target: str(target["date"])),
        "levels": list(definition.get("levels") or []),
        "threshold": definition.get("threshold"),
        "disaggregations": list(definition.get("disaggregations") or []),
        "deliverables": list(definition.get("deliverables") or []),
        "pb_indicators": list(definition.get("pb_indicators") or []),
    }
    if countries is not None:
        entry["countries"] = [value for value in state["countries"] if value["country"] in countries]
    return entry


def report_data(
    app: EventLogApplication,
    as_of: date,
    at: int | None = None,
    known_at: datetime | None = None,
    countries: frozenset[str] | None = None,
    series: bool = False,
) -> dict[str, Any]:
    """Every non-retired benchmark's definition and state at `as_of` as known
    at a position (`at`, the head at `known_at`, or the head), ordered by
    code. `countries`: the only countries whose values are given (None: all).
    `series`: with each benchmark's state at every quarter end from the
    programme's start to `as_of`."""
    with app.database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        framework = catalogue.framework(app, position)
        # The countries in the programme's scope at as_of, as its states count them.
        selected = _selected_countries(connection, position, as_of)
        live = {code: r for code, r in sorted(revisions_known_at(connection, position).items()) if not r["retired"]}
        values = _values_in_force(connection, list(live), as_of, position)
        start = date.fromisoformat(str(framework["document"]["framework"]["period"]["start"]))
        points = _series(connection, live, quarter_ends(start, as_of), position, selected) if series else {}
    benchmarks = []
    for code, revision in live.items():
        spec = BenchmarkSpec.from_state(revision["state"])
        state = _state(revision, _country_values(spec, values.get(code, [])), selected, as_of, position)
        benchmarks.append({**_entry(state, revision, countries), "series": points.get(code, [])})
    document = framework["document"]["framework"]
    return {
        "as_of": as_of,
        "position": position,
        "framework": {"code": document["code"], "version": framework["version"]},
        "countries_selected": selected,
        "status_rule": {"on_track_tolerance": ON_TRACK_TOLERANCE, "at_risk_tolerance": AT_RISK_TOLERANCE},
        "benchmarks": benchmarks,
    }
