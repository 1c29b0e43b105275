"""Progress: benchmark states as of any valid date, as known at any log
position (answered by services/measurement/queries/progress.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from services.common.access import Permission
from services.common.errors import InvalidCommandError
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at
from services.measurement.application.queries import catalogue, progress
from services.measurement.application.queries.series import Step
from services.measurement.domain.framework import PROGRAMME_WINDOW
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.framework_version import answer_with_framework
from services.measurement.entrypoints.http.schemas.common import Country, LogPosition, query_period
from services.measurement.entrypoints.http.schemas.log import LogHead
from services.measurement.entrypoints.http.schemas.progress import (
    AssumptionRollup,
    BenchmarkSeries,
    BenchmarkStateRead,
    CountryProfile,
)

router = APIRouter(tags=["progress"], dependencies=[allowed(Permission.READ_PROGRESS)])

AsOf = Annotated[
    str | None,
    Query(
        max_length=10,
        description="Valid date of the state: a day (2019-06-30), or the last day of a month (2019-06), "
        f"quarter (2019-Q2) or year (2019), within the programme's window ({PROGRAMME_WINDOW}) and not after "
        "today; default: today, UTC",
    ),
]
At = Annotated[LogPosition | None, Query(description="As known at this log position (default: the head)")]
KnownAt = Annotated[
    str | None,
    Query(
        max_length=40,
        description="As known at this recorded time, e.g. 2019-12-31T12:00:00Z (an ISO 8601 date and time; "
        "without an offset, UTC), resolved to the log position then; not after the last event, nor with `at`",
    ),
]


@dataclass(frozen=True)
class Pinned:
    """Where an answer stands on both time axes: `as_of` (the valid date;
    today when not given) as known at `at` or, failing that, `known_at`."""

    as_of: date
    at: int | None
    known_at: datetime | None


def pinned(as_of: AsOf = None, at: At = None, known_at: KnownAt = None) -> Pinned:
    valid_date = datetime.now(UTC).date() if as_of is None else query_period(as_of, "as_of").valid_date
    return Pinned(valid_date, at, None if known_at is None else _recorded_time(known_at))


def _recorded_time(text: str) -> datetime:
    """An ISO 8601 time (not a number of seconds), in UTC; one without an offset is taken as UTC."""
    problem = f"known_at is a date and time such as 2019-12-31T12:00:00Z, not {text!r}."
    if not text[:4].isdigit():
        raise InvalidCommandError.at(("known_at",), problem, "query")
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidCommandError.at(("known_at",), problem, "query") from None


PinnedDep = Annotated[Pinned, Depends(pinned)]
SectorFilter = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Only the cells of this sector (e.g. garments; empty, `sector=`, for the cells of "
        "observations that name no sector); default: every cell",
    ),
]


def _answer(response: Response, answer: dict[str, Any]) -> dict[str, Any]:
    answer_at(response, answer["position"])
    return answer


@router.get("/log/head", response_model=LogHead, operation_id="readLogHead", tags=["log"])
def read_log_head(measurement: MeasurementDep, response: Response) -> dict[str, Any]:
    """The head of the log and when it was recorded: pin reads to it with `at` (or `known_at` up to that time)."""
    return _answer(response, catalogue.log_head_now(measurement.database))


@router.get("/benchmarks/{code}/state", response_model=BenchmarkStateRead, operation_id="getBenchmarkState")
def benchmark_state(
    code: str, measurement: MeasurementDep, response: Response, when: PinnedDep, sector: SectorFilter = None
) -> dict[str, Any]:
    """A benchmark's state at a valid date, as known at a log position, with the value in force in each cell."""
    return answer_with_framework(
        response,
        measurement,
        progress.benchmark_state(measurement.database, code, when.as_of, when.at, when.known_at, sector),
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
    return answer_with_framework(
        response,
        measurement,
        progress.benchmark_series(measurement.database, code, (start, end, step), when.at, when.known_at),
    )


@router.get("/progress/assumptions", response_model=AssumptionRollup, operation_id="getAssumptionRollup")
def assumption_rollup(
    measurement: MeasurementDep, response: Response, when: PinnedDep, sector: SectorFilter = None
) -> dict[str, Any]:
    """For each critical assumption CA1 ... CA10, its benchmarks' statuses and a summary."""
    return answer_with_framework(
        response, measurement, progress.assumption_rollup(measurement, when.as_of, when.at, when.known_at, sector)
    )


@router.get("/progress/countries/{iso3}", response_model=CountryProfile, operation_id="getCountryProfile")
def country_profile(
    iso3: Annotated[Country, Path(description="The country")],
    measurement: MeasurementDep,
    response: Response,
    when: PinnedDep,
    sector: SectorFilter = None,
) -> dict[str, Any]:
    """Every benchmark's values in force for one programme country, cell by cell."""
    return answer_with_framework(
        response,
        measurement,
        progress.country_profile(measurement.database, iso3, when.as_of, when.at, when.known_at, sector),
    )
