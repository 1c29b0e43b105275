"""Progress: benchmark states as of any valid date, as known at any log
position (see services/measurement/states.py for the rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.measurement.entrypoints.http.deps import MeasurementDep, answer_at
from services.measurement.entrypoints.http.schemas.common import LogPosition
from services.measurement.entrypoints.http.schemas.progress import (
    AssumptionRollup,
    BenchmarkSeries,
    BenchmarkState,
    CountryProfile,
)
from services.measurement.series import Step

router = APIRouter(tags=["progress"])

AsOf = Annotated[date | None, Query(description="Valid date of the state (default: today, UTC)")]
At = Annotated[LogPosition | None, Query(description="As known at this log position (default: the head)")]
KnownAt = Annotated[
    datetime | None, Query(description="As known at this recorded time (resolved to the log position then)")
]


def _today() -> date:
    return datetime.now(UTC).date()


def _aware(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/benchmarks/{code}/state", response_model=BenchmarkState, operation_id="getBenchmarkState")
def benchmark_state(
    code: str,
    measurement: MeasurementDep,
    response: Response,
    as_of: AsOf = None,
    at: At = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """A benchmark's state at a valid date, as known at a log position."""
    state = measurement.benchmark_state(code, as_of or _today(), at, _aware(known_at))
    answer_at(response, state["position"])
    return state


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
    series = measurement.benchmark_series(code, start, end, step, at, _aware(known_at))
    answer_at(response, series["position"])
    return series


@router.get("/progress/assumptions", response_model=AssumptionRollup, operation_id="getAssumptionRollup")
def assumption_rollup(
    measurement: MeasurementDep, response: Response, as_of: AsOf = None, at: At = None, known_at: KnownAt = None
) -> dict[str, Any]:
    """For each critical assumption CA1 ... CA10, its benchmarks' statuses and a summary."""
    rollup = measurement.assumption_rollup(as_of or _today(), at, _aware(known_at))
    answer_at(response, rollup["position"])
    return rollup


@router.get("/progress/countries/{iso3}", response_model=CountryProfile, operation_id="getCountryProfile")
def country_profile(
    iso3: str,
    measurement: MeasurementDep,
    response: Response,
    as_of: AsOf = None,
    at: At = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """Every benchmark's value in force for one programme country."""
    profile = measurement.country_profile(iso3, as_of or _today(), at, _aware(known_at))
    answer_at(response, profile["position"])
    return profile
