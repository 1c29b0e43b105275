"""The observations an export holds, and the pins it names.

An export "as of D, as known at P" holds, for each cell (benchmark, country,
sector) and valid date up to D, the observation that stands there as known
at P, with its value as known at P: the rows of `observation_values` in
force at P (so a retracted observation is left out, and a corrected one has
the value it had then), less those outranked by an observation of the same
cell and valid date first recorded later (domain/progress.py: those never
count towards any state). So every state and roll-up as of D at P follows
from the export alone, and importing it elsewhere gives the same ones.

Rows come oldest first (by the position where each observation was first
recorded), so an import records them in the order that keeps their
precedence, and the same pins give the same rows in the same order forever.
They are read through one snapshot with a server-side cursor on PostgreSQL,
a batch at a time: memory does not grow with the export."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import Connection, Select, and_, exists, func, or_, select

from services.common.access import Principal
from services.common.database import as_utc
from services.common.errors import NotFoundError
from services.measurement.adapters.tables import (
    benchmark_revisions,
    observation_values,
    observations_view,
    stored_events,
)
from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.progress import resolve_position, revisions_known_at
from services.measurement.application.transparency import SignedCheckpoint, TransparencyLog
from services.measurement.domain.observations import Observation
from services.measurement.domain.values import Dimension

BATCH = 10_000
DIMENSION_ORDER = {dimension.value: index for index, dimension in enumerate(Dimension)}

Value = float | int | str


@dataclass(frozen=True)
class ExportFilter:
    """Which observations, as GET /observations and the as-of reads filter them."""

    benchmark: str | None = None
    country: str | None = None
    assumption: str | None = None
    sector: str | None = None  # "" for the cells that name no sector
    countries: frozenset[str] | None = None  # only these (a country office's)


@dataclass(frozen=True)
class ExportPins:
    """What an export was made from: the same pins make the same bytes."""

    as_of: date
    position: int
    framework: str | None  # "GSC-POA-2017-21 v1"
    framework_version: int | None
    checkpoint: SignedCheckpoint | None  # of the tree of `position` events


class Disaggregated(NamedTuple):
    dimension: str
    category: str
    value: Value


class ExportRow(NamedTuple):
    """One exported observation (a tuple: an export makes a million of them)."""

    benchmark: str
    country: str | None
    sector: str | None
    period: str
    value: Value
    disaggregations: Sequence[Disaggregated]
    comment: str | None
    evidence: Sequence[tuple[str, str]]  # (title, url)
    known_from: int  # the log position of the event that gave the value
    corrected: bool  # the value is a correction's


@dataclass
class ObservationExport:
    """A planned export: its pins and columns are known before a row is read
    (so a bad request fails before anything is sent)."""

    database: Any
    pins: ExportPins
    where: ExportFilter
    categories: list[tuple[str, str]]  # (dimension, category) in column order
    # Observations whose value or disaggregated values changed after P: as they were at P.
    as_known: dict[UUID, tuple[Value, list[Disaggregated]]] = field(default_factory=dict)

    def rows(self) -> Iterator[ExportRow]:
        # Ids are read only to find the observations changed since P: as
        # Python objects they cost as much as the rest of a row.
        as_known = self.as_known
        with self.database.snapshot() as connection:
            result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(
                rows_query(self.pins, self.where, with_ids=bool(as_known))
            )
            for partition in result.partitions():
                for row in partition:
                    if as_known:
                        observation_id, *fields = row
                        known = as_known.get(observation_id)
                    else:
                        fields, known = row, None
                    (
                        benchmark,
                        country,
                        sector,
                        period,
                        number,
                        text,
                        known_from,
                        recorded_position,
                        disaggregations,
                        comment,
                        evidence,
                    ) = fields
                    if known is not None:
                        value, items = known
                    else:
                        value = text if number is None else _number(number)
                        items = _disaggregations(disaggregations)
                    yield ExportRow(
                        benchmark,
                        country,
                        sector,
                        period,
                        value,
                        items,
                        comment,
                        _evidence(evidence),
                        known_from,
                        known_from != recorded_position,
                    )

    def count(self) -> int:
        with self.database.snapshot() as connection:
            query = rows_query(self.pins, self.where).order_by(None).with_only_columns(func.count())
            return int(connection.execute(query).scalar_one())


def plan_export(
    app: EventLogApplication,
    transparency: TransparencyLog,
    where: ExportFilter,
    as_of: date,
    at: int | None,
    known_at: datetime | None,
    reader: Principal | None = None,
) -> ObservationExport:
    if reader is not None and not reader.reads_every_country:
        if where.country is not None:
            reader.check_may_read(where.country)
        where = ExportFilter(where.benchmark, where.country, where.assumption, where.sector, reader.countries)
    with app.database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
    pins = ExportPins(as_of, position, *_framework(app, position), _checkpoint(transparency, position))
    export = ObservationExport(app.database, pins, where, [])
    with app.database.snapshot() as connection:
        export.as_known = _as_known_at(app, connection, pins, where)
        export.categories = _categories(connection, pins, where, export.as_known)
    return export


@dataclass(frozen=True)
class StructureCodes:
    """What the SDMX structure's codelists hold at a log position
    (export_files/sdmx_structure.py): (code, name) pairs, by code."""

    position: int
    recorded_at: datetime | None  # when the log recorded `position` (None: the empty log)
    benchmarks: Sequence[tuple[str, str]]
    countries: Sequence[tuple[str, str]]
    sectors: Sequence[tuple[str, str]]


def structure_codes(app: EventLogApplication, at: int | None, known_at: datetime | None) -> StructureCodes:
    """Every benchmark defined (retired ones too), country and sector ever
    selected, as known at `at` (or `known_at`, or the head)."""
    with app.database.snapshot() as connection:
        position = resolve_position(connection, at, known_at)
        recorded_at = connection.execute(
            select(stored_events.c.recorded_at).where(stored_events.c.position == position)
        ).scalar_one_or_none()
        revisions = revisions_known_at(connection, position)
    scope = catalogue.scope(app, position)
    return StructureCodes(
        position=position,
        recorded_at=None if recorded_at is None else as_utc(recorded_at),
        benchmarks=sorted((code, str(revision["state"]["title"])) for code, revision in revisions.items()),
        countries=sorted((country["iso3"], country["name"]) for country in scope["countries"]),
        sectors=sorted((sector["code"], sector["name"]) for sector in scope["sectors"]),
    )


def _framework(app: EventLogApplication, position: int) -> tuple[str | None, int | None]:
    try:
        found = catalogue.framework(app, position)
    except NotFoundError:
        return None, None
    document = found["document"]["framework"]
    return f"{document['code']} v{document['version']}", int(document["version"])


def _checkpoint(transparency: TransparencyLog, position: int) -> SignedCheckpoint | None:
    """The signed checkpoint of the tree of `position` events (none of the empty log)."""
    return transparency.checkpoint(position) if position > 0 else None


def _number(number: float) -> int | float:
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _value(value: Value) -> Value:
    """A value as exported: a whole number without a fraction (15, not 15.0), as the import reads it."""
    return _number(value) if isinstance(value, float) else value


def _evidence(text: str | None) -> list[tuple[str, str]]:
    if text is None or text == "[]":
        return []
    return [(link["title"], link["url"]) for link in json.loads(text)]


def _disaggregations(text: str | None) -> list[Disaggregated]:
    if text is None or text == "[]":
        return []
    return _disaggregated(json.loads(text))


def _disaggregated(items: Sequence[dict[str, Any]]) -> list[Disaggregated]:
    return [Disaggregated(item["dimension"], item["category"], _value(item["value"])) for item in items]


def _in_force(table: Any, position: int) -> Any:
    return and_(table.c.known_from <= position, or_(table.c.known_until.is_(None), table.c.known_until > position))


def rows_query(pins: ExportPins, where: ExportFilter, with_ids: bool = True) -> Select[Any]:
    """The exported rows, oldest first (`with_ids`: each led by its observation's id)."""
    values, view = observation_values, observations_view
    later = observation_values.alias("later")
    outranked = exists().where(
        later.c.series_key == values.c.series_key,
        later.c.benchmark == values.c.benchmark,
        later.c.country == values.c.country,
        later.c.sector == values.c.sector,
        later.c.valid_date == values.c.valid_date,
        later.c.recorded_position > values.c.recorded_position,
        _in_force(later, pins.position),
    )
    conditions = [_in_force(values, pins.position), values.c.valid_date <= pins.as_of, ~outranked]
    if where.benchmark is not None:
        conditions.append(values.c.benchmark == where.benchmark)
    if where.country is not None:
        conditions.append(values.c.country == where.country)
    if where.countries is not None:
        conditions.append(values.c.country.in_(sorted(where.countries)))
    if where.sector is not None:
        conditions.append(values.c.sector == where.sector)
    if where.assumption is not None:
        conditions.append(view.c.assumption == where.assumption)
    return (
        select(
            *((values.c.observation_id,) if with_ids else ()),
            view.c.benchmark,
            view.c.country,
            view.c.sector,
            view.c.period,
            values.c.number,
            values.c.text,
            values.c.known_from,
            values.c.recorded_position,
            view.c.state["disaggregations"].as_string().label("disaggregations"),
            view.c.state["comment"].as_string().label("comment"),
            view.c.state["evidence"].as_string().label("evidence"),
        )
        .join(view, view.c.id == values.c.observation_id)
        .where(*conditions)
        .order_by(values.c.recorded_position)
    )


def _as_known_at(
    app: EventLogApplication, connection: Connection, pins: ExportPins, where: ExportFilter
) -> dict[UUID, tuple[Value, list[Disaggregated]]]:
    """The value and disaggregated values, as they were at P, of the exported
    observations changed since (the read model keeps only their latest
    disaggregated values): their streams replayed up to P."""
    query = (
        rows_query(pins, where)
        .with_only_columns(observation_values.c.observation_id)
        .where(observation_values.c.known_until.is_not(None))
    )
    found: dict[UUID, tuple[Value, list[Disaggregated]]] = {}
    for observation_id in connection.execute(query).scalars():
        aggregate, _ = app.stream_at(observation_id, pins.position)
        assert isinstance(aggregate, Observation)
        found[observation_id] = (_value(aggregate.value), _disaggregated(aggregate.disaggregations))
    return found


def _categories(
    connection: Connection,
    pins: ExportPins,
    where: ExportFilter,
    as_known: dict[UUID, tuple[Value, list[Disaggregated]]],
) -> list[tuple[str, str]]:
    """Every (dimension, category) of an exported disaggregated value, in the
    order of the dimensions, then of the categories: the columns of the
    export. Only observations of benchmarks that accept a disaggregation can
    hold one, so only theirs are read."""
    disaggregating = (
        select(benchmark_revisions.c.benchmark)
        .where(_in_force(benchmark_revisions, pins.position))
        .where(benchmark_revisions.c.state["disaggregations"].as_string() != "[]")
    )
    codes = list(connection.execute(disaggregating).scalars())
    found: set[tuple[str, str]] = set()
    for items in as_known.values():
        found.update((item.dimension, item.category) for item in items[1])
    if codes:
        query = (
            rows_query(pins, where)
            .with_only_columns(observation_values.c.observation_id, observations_view.c.state["disaggregations"])
            .where(observation_values.c.benchmark.in_(codes), observation_values.c.known_until.is_(None))
            .order_by(None)
        )
        for _, items in connection.execution_options(yield_per=BATCH).execute(query):
            found.update((item["dimension"], item["category"]) for item in items or ())
    return sorted(found, key=lambda pair: (DIMENSION_ORDER.get(pair[0], len(DIMENSION_ORDER)), pair[0], pair[1]))
