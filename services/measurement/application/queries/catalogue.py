"""Queries: read models and the log, each answer with the log position it
reflects. Reads only; every write goes through the application's commands."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from sqlalchemy import ARRAY, Connection, RowMapping, String, Uuid, and_, bindparam, cast, func, select

from services.common.access import Principal
from services.common.database import Database, as_utc
from services.common.errors import InvalidCommandError, NotFoundError, did_you_mean
from services.measurement.adapters.event_store import log_head, log_head_recorded_at
from services.measurement.adapters.tables import (
    benchmarks_view,
    observations_view,
    projection_tracking,
    stored_events,
)
from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.queries.standing import array_text
from services.measurement.domain.framework import PROGRAMME, Framework
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import ProgrammeScope
from services.measurement.domain.scope_periods import ScopeKind, ScopePeriod
from services.measurement.projections import READ_MODELS
from services.measurement.projections.handlers import event_data


def tracked_position(connection: Connection) -> int:
    position = connection.execute(
        select(projection_tracking.c.position).where(projection_tracking.c.projection == READ_MODELS)
    ).scalar_one_or_none()
    return int(position or 0)


def head_position(database: Database) -> int:
    """The log position the read models reflect."""
    with database.snapshot() as connection:
        return tracked_position(connection)


# -- streams replayed from the log (small, few-event streams) ------------


def framework(app: EventLogApplication, at: int | None = None, programme: str = PROGRAMME) -> dict[str, Any]:
    aggregate, head = app.stream_at(Framework.create_id(programme), at)
    if not isinstance(aggregate, Framework) or aggregate.document is None:
        raise NotFoundError(f"The programme framework {programme} was not loaded as of position {head}.")
    return {"version": aggregate.revision, "document": aggregate.document.content, "position": head}


# The version each RevisionLoaded event loaded, by its store, log position and
# recorded time: events never change, so what was read once holds for every
# application (the time tells apart a store emptied and written again, as tests do).
_revision_versions: dict[tuple[str, int, Any], int] = {}


def framework_version(app: EventLogApplication, position: int, programme: str = PROGRAMME) -> int | None:
    """The framework version in force at log position `position` (None before
    any was loaded): the revision of the last event of the framework's
    stream up to there, read from the log (its document only once)."""
    stream = Framework.create_id(programme)
    with app.database.snapshot() as connection:
        last = connection.execute(
            select(stored_events.c.position, stored_events.c.topic, stored_events.c.recorded_at)
            .where(stored_events.c.originator_id == stream, stored_events.c.position <= position)
            .order_by(stored_events.c.originator_version.desc())
            .limit(1)
        ).first()
        if last is None or not last.topic.endswith(".RevisionLoaded"):
            return None
        key = (app.database.url, last.position, last.recorded_at)
        if key not in _revision_versions:
            (logged,) = app.event_log.select_logged(
                originator_id=stream, after=last.position - 1, until=last.position, limit=1, connection=connection
            )
            revision = app.mapper.to_domain_event(logged.as_stored_event())
            assert isinstance(revision, Framework.RevisionLoaded)
            _revision_versions[key] = revision.version
    return _revision_versions[key]


def period_out(period: ScopePeriod) -> dict[str, Any]:
    """A period in scope as answers show it (no last day: still in scope)."""
    return {"first_day": period.start, "last_day": period.last_day, "ended_because": period.ended_because}


def scope(app: EventLogApplication, at: int | None = None, programme: str = PROGRAMME) -> dict[str, Any]:
    """Every sector and country selected as known at `at`, each with its periods in scope."""
    aggregate, head = app.stream_at(ProgrammeScope.create_id(programme), at)
    if aggregate is None:
        return {"sectors": [], "countries": [], "focal_points": [], "position": head}
    assert isinstance(aggregate, ProgrammeScope)
    timeline = aggregate.timeline

    def with_periods(kind: ScopeKind, code: str, selected: dict[str, Any]) -> dict[str, Any]:
        return {**selected, "periods": [period_out(period) for period in timeline.periods(kind, code)]}

    return {
        "sectors": [with_periods(ScopeKind.SECTOR, code, s) for code, s in aggregate.sectors.items()],
        "countries": [with_periods(ScopeKind.COUNTRY, iso3, c) for iso3, c in aggregate.countries.items()],
        "focal_points": list(aggregate.focal_points.values()),
        "position": head,
    }


def history(app: EventLogApplication, aggregate_id: UUID, kind: type[Aggregate], missing: str) -> dict[str, Any]:
    """Every event of one stream of `kind`, in order, as recorded, and the
    log position the answer reflects."""
    with app.database.snapshot() as connection:
        head = log_head(connection)
        items = app.event_log.select_logged(originator_id=aggregate_id, limit=100_000, connection=connection)
    events = [logged_event(app, item) for item in items]
    if not events or not events[0]["type"].startswith(f"{kind.__name__}."):
        raise NotFoundError(missing)
    return {"events": events, "position": head}


def logged_event(app: EventLogApplication, item: Any) -> dict[str, Any]:
    domain_event = app.mapper.to_domain_event(item.as_stored_event())
    return {
        "position": item.position,
        "recorded_at": item.recorded_at,
        "stream_id": item.originator_id,
        "stream_version": item.originator_version,
        "type": item.topic.rsplit(":", 1)[-1],
        "data": event_data(domain_event),
    }


def log_head_now(database: Database) -> dict[str, Any]:
    """The head of the log and when it was recorded, for clients that pin reads."""
    with database.snapshot() as connection:
        position, recorded_at = log_head_recorded_at(connection)
    return {"position": position, "recorded_at": recorded_at}


def log_page(app: EventLogApplication, after: int, limit: int) -> dict[str, Any]:
    with app.database.snapshot() as connection:
        head = log_head(connection)
        items = app.event_log.select_logged(after=after, limit=limit, connection=connection)
    events = [logged_event(app, item) for item in items]
    # The page is read at `head`, so the checkpoint of that size covers it.
    checkpoint = {"size": head, "href": f"/transparency/checkpoint?size={head}"}
    return {
        "events": events,
        "head": head,
        "next_after": events[-1]["position"] if events else after,
        "checkpoint": checkpoint,
    }


# -- read models ----------------------------------------------------------


def benchmark_exists(database: Database, code: str) -> bool:
    with database.snapshot() as connection:
        return (
            connection.execute(select(benchmarks_view.c.code).where(benchmarks_view.c.code == code)).first() is not None
        )


def _benchmark_out(row: Any) -> dict[str, Any]:
    return {**row.state, "code": row.code, "version": row.version, "last_position": row.last_position}


def benchmark(database: Database, code: str) -> dict[str, Any] | None:
    with database.snapshot() as connection:
        row = connection.execute(select(benchmarks_view).where(benchmarks_view.c.code == code)).first()
        position = tracked_position(connection)
    return None if row is None else {**_benchmark_out(row), "position": position}


def benchmark_or_404(database: Database, code: str) -> dict[str, Any]:
    found = benchmark(database, code)
    if found is None:
        raise NotFoundError(no_such_benchmark(database, code))
    return found


def no_such_benchmark(database: Database, code: str) -> str:
    """What to say of a benchmark code that names none: and which it may mean."""
    with database.snapshot() as connection:
        codes = connection.execute(select(benchmarks_view.c.code)).scalars().all()
    return f"There is no benchmark with code {code!r}.{did_you_mean(code, codes)}"


def benchmarks(database: Database, assumption: str | None, include_retired: bool) -> dict[str, Any]:
    query = select(benchmarks_view).order_by(benchmarks_view.c.defined_position)
    if assumption is not None:
        query = query.where(benchmarks_view.c.assumption == assumption)
    if not include_retired:
        query = query.where(benchmarks_view.c.retired.is_(False))
    with database.snapshot() as connection:
        rows = connection.execute(query).all()
        position = tracked_position(connection)
    return {"items": [_benchmark_out(row) for row in rows], "position": position}


def observation_out(row: RowMapping | Mapping[str, Any]) -> dict[str, Any]:
    """An `observations_view` row (as read, or as just projected) as the API shows it."""
    return {
        "id": row["id"],
        "benchmark": row["benchmark"],
        "assumption": row["assumption"],
        # "" in the read models for an international observation (no country).
        "country": row["country"] or None,
        "sector": row["sector"],
        "period": row["period"],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "status": row["status"],
        "version": row["version"],
        "recorded_position": row["recorded_position"],
        "last_position": row["last_position"],
        "recorded_at": as_utc(row["recorded_at"]),
        "updated_at": as_utc(row["updated_at"]),
        **row["state"],
    }


def observation(database: Database, observation_id: UUID) -> dict[str, Any] | None:
    with database.snapshot() as connection:
        row = connection.execute(select(observations_view).where(observations_view.c.id == observation_id)).first()
        position = tracked_position(connection)
    return None if row is None else {**observation_out(row._mapping), "position": position}


def observation_or_404(database: Database, observation_id: UUID, reader: Principal | None = None) -> dict[str, Any]:
    """The observation, if it exists and `reader` (when given) may read it."""
    found = observation(database, observation_id)
    if found is None:
        raise NotFoundError(f"There is no observation {observation_id}.")
    if reader is not None:
        reader.check_may_read(found["country"])
    return found


def observation_history(app: EventLogApplication, observation_id: UUID, reader: Principal) -> dict[str, Any]:
    observation_or_404(app.database, observation_id, reader)
    return history(app, observation_id, Observation, f"There is no observation {observation_id}.")


@dataclass(frozen=True)
class ObservationFilter:
    benchmark: str | None = None
    country: str | None = None
    assumption: str | None = None
    include_retracted: bool = True
    countries: frozenset[str] | None = None  # only these (a country office's)


def encode_cursor(recorded_position: int, newest: bool = False) -> str:
    # The order is in the cursor: a page of one order continued in the other would skip or repeat observations.
    order = "n" if newest else "o"
    return base64.urlsafe_b64encode(f"{order}:{recorded_position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, newest: bool = False) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        match = re.fullmatch(r"([on]):([0-9]{1,18})", text)
        if match is None:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCommandError.at(
            ("cursor",), "This cursor was not issued by this API: pass back `next_cursor` unchanged.", "query"
        ) from None
    if (match.group(1) == "n") != newest:
        raise InvalidCommandError.at(
            ("cursor",), "This cursor continues a list in the other order: pass the `order` it was given with.", "query"
        )
    return int(match.group(2))


def _page_order(cursor: str | None, newest: bool) -> tuple[Any, Any]:
    """Where a page starts (None for the first) and its order: by recorded position, oldest or newest first."""
    column = observations_view.c.recorded_position
    after = None if cursor is None else decode_cursor(cursor, newest)
    if newest:
        return (None if after is None else column < after), column.desc()
    return (None if after is None else column > after), column


def observations(
    database: Database,
    where: ObservationFilter,
    cursor: str | None,
    limit: int,
    reader: Principal | None = None,
    newest: bool = False,
) -> dict[str, Any]:
    """A page of observations, oldest or newest first; a country office sees those of its countries only."""
    if reader is not None and not reader.reads_every_country:
        if where.country is not None:
            reader.check_may_read(where.country)
        where = replace(where, countries=reader.countries)
    conditions = []
    if where.benchmark is not None:
        conditions.append(observations_view.c.benchmark == where.benchmark)
    if where.country is not None:
        conditions.append(observations_view.c.country == where.country)
    if where.assumption is not None:
        conditions.append(observations_view.c.assumption == where.assumption)
    if where.countries is not None:
        conditions.append(observations_view.c.country.in_(sorted(where.countries)))
    if not where.include_retracted:
        conditions.append(observations_view.c.status != "retracted")
    after, order = _page_order(cursor, newest)
    if after is not None:
        conditions.append(after)
    query = select(observations_view).where(and_(True, *conditions)).order_by(order).limit(limit + 1)
    with database.snapshot() as connection:
        rows = connection.execute(query).all()
        position = tracked_position(connection)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [observation_out(row._mapping) for row in rows],
        "next_cursor": encode_cursor(rows[-1].recorded_position, newest) if more else None,
        "position": position,
    }


def observation_states(database: Database, ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """Status, value and disaggregations of those of `ids` that exist."""
    found: dict[UUID, dict[str, Any]] = {}
    columns = (observations_view.c.id, observations_view.c.status, observations_view.c.state)
    if database.is_postgresql:  # one array parameter, not one per id
        wanted = cast(
            bindparam("ids", array_text([observation_id.hex for observation_id in ids]), String()), ARRAY(Uuid())
        )
        # The array is read once, by unnest in a subquery: as an `= ANY(...)` filter its cast from text was
        # evaluated again for each row a sequential scan compared (PostgreSQL's generic plan).
        query = select(*columns).where(observations_view.c.id.in_(select(func.unnest(wanted))))
    else:  # one JSON parameter read by json_each (SQLite keeps a UUID as its hex), not one per id
        each = func.json_each(bindparam("ids", json.dumps([observation_id.hex for observation_id in ids]), String()))
        query = select(*columns).where(observations_view.c.id.in_(select(each.table_valued("value").c.value)))
    for row in database.read_once(query):
        found[row.id] = {"status": row.status, **row.state}
    return found
