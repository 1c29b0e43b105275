"""Progress: benchmark states as of any valid date, as known at any log
position (answered by services/measurement/queries/progress.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at
from services.measurement.application.queries import progress
from services.measurement.application.queries.series import Step
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.common import LogPosition
from services.measurement.entrypoints.http.schemas.progress import (
    AssumptionRollup,
    BenchmarkSeries,
    BenchmarkState,
    CountryProfile,
)

router = APIRouter(tags=["progress"], dependencies=[allowed(Permission.READ_PROGRESS)])

AsOf = Annotated[date | None, Query(description="Valid date of the state (default: today, UTC)")]
At = Annotated[LogPosition | None, Query(description="As known at this log position (default: the head)")]
KnownAt = Annotated[
    datetime | None, Query(description="As known at this recorded time (resolved to the log position then)")
]


@dataclass(frozen=True)
class Pinned:
    """Where an answer stands on both time axes: `as_of` (the valid date;
    today when not given) as known at `at` or, failing that, `known_at`."""

    as_of: date
    at: int | None
    known_at: datetime | None


def pinned(as_of: AsOf = None, at: At = None, known_at: KnownAt = None) -> Pinned:
    # A time without an offset is taken as UTC.
    if known_at is not None and known_at.tzinfo is None:
        known_at = known_at.replace(tzinfo=UTC)
    return Pinned(as_of or datetime.now(UTC).date(), at, known_at)


PinnedDep = Annotated[Pinned, Depends(pinned)]


def _answer(response: Response, answer: dict[str, Any]) -> dict[str, Any]:
    answer_at(response, answer["position"])
    return answer


@router.get("/benchmarks/{code}/state", response_model=BenchmarkState, operation_id="getBenchmarkState")
def benchmark_state(
    code: str, measurement: MeasurementDep, response: Response, when: PinnedDep, sector: SectorFilter = None
) -> dict[str, Any]:
    """A benchmark's state at a valid date, as known at a log position, with the value in force in each cell."""
    return _answer(
        response, progress.benchmark_state(measurement.database, code, when.as_of, when.at, when.known_at, sector)
    )


@router.get("/benchmarks/{code}/series", response_model=BenchmarkSeries, operation_id="getBenchmarkSeries")
def benchmark_series(
    code: str,
    measurement: MeasurementDep,
    response: Response,
    start: Annotated[str, Query(max_length=10, description="First period, e.g. 2017-Q1")] = "2017-Q1",
    end: Annotated[str, Query(max_length=10, description="Last period, e.g. 2021-Q4")] = "2021-Q4",
    step: Step = Step.QUARTER,
    at: At = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """A benchmark's state at the end of each period from start to end, all as known at one position."""
    when = pinned(None, at, known_at)
    return _answer(
        response, progress.benchmark_series(measurement.database, code, (start, end, step), when.at, when.known_at)
    )


@router.get("/progress/assumptions", response_model=AssumptionRollup, operation_id="getAssumptionRollup")
SectorFilter = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Only the cells of this sector (e.g. garments; empty, `sector=`, for the cells of "
        "observations that name no sector); default: every cell",
    ),
]
def assumption_rollup(
    measurement: MeasurementDep, response: Response, when: PinnedDep, sector: SectorFilter = None
) -> dict[str, Any]:
    """For each critical assumption CA1 ... CA10, its benchmarks' statuses and a summary."""
    return _answer(response, progress.assumption_rollup(measurement, when.as_of, when.at, when.known_at, sector))


@router.get("/progress/countries/{iso3}", response_model=CountryProfile, operation_id="getCountryProfile")
def country_profile(
    iso3: str, measurement: MeasurementDep, response: Response, when: PinnedDep, sector: SectorFilter = None
) -> dict[str, Any]:
    """Every benchmark's values in force for one programme country, cell by cell."""
    return _answer(
        response, progress.country_profile(measurement.database, iso3, when.as_of, when.at, when.known_at, sector)
    )
