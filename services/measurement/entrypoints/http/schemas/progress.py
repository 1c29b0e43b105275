from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer

from services.measurement.domain.benchmarks import Level
from services.measurement.entrypoints.http.schemas.common import LogPosition
from services.measurement.entrypoints.http.schemas.framework import FrameworkVersionInForce
from services.measurement.entrypoints.http.schemas.scope import ScopePeriodPublic

Number = float | int | str
# The precision answers give computed figures in (the combined figure and
# where the trajectory puts it, in the measure's unit; progress, a fraction):
# enough for any report, and no 63.33333333333333.
FIGURE_DECIMALS = 2
PROGRESS_DECIMALS = 4


def _to(decimals: int, kind: Any) -> Any:
    def rounded(value: Any) -> Any:
        return round(value, decimals) if isinstance(value, float) else value

    return PlainSerializer(rounded, return_type=kind, when_used="json")


Figure = Annotated[Number, _to(FIGURE_DECIMALS, Number)]
Expected = Annotated[float, _to(FIGURE_DECIMALS, float)]
Progress = Annotated[float, _to(PROGRESS_DECIMALS, float)]


class DatedValue(BaseModel):
    value: Number
    date: date


class TargetInForce(BaseModel):
    value: Number
    date: date
    label: str | None


class CountryValuePublic(BaseModel):
    """The value in force in one cell: a country (null: the international level) and a sector
    (null: the observations naming no sector)."""

    country: str | None = Field(description="The cell's country; null for an international benchmark's")
    sector: str | None = Field(description="The cell's sector; null for the observations that name none")
    value: Number
    valid_date: date
    known_at: int = Field(description="Log position at which this value became the one known")
    first_recorded: int = Field(
        description="Log position at which its observation was first recorded: among a cell's observations "
        "for the same valid date, the one first recorded last stands (corrections keep it)"
    )


class BenchmarkState(BaseModel):
    benchmark: str
    assumption: str
    title: str
    level: Level = Field(description="national, or international: one series, with no countries")
    measure: str
    ascending: bool
    combination: str
    unit_label: str | None
    retired: bool
    as_of: date = Field(description="The valid date of the state")
    position: LogPosition
    baseline: DatedValue
    target: TargetInForce | None = Field(description="The target in force at as_of")
    combined: Figure | None = Field(
        description=f"The countries' values combined by the benchmark's rule (to {FIGURE_DECIMALS} decimals)"
    )
    expected: Expected | None = Field(
        description="Where the trajectory from baseline to targets puts the combined figure "
        f"(to {FIGURE_DECIMALS} decimals)"
    )
    progress: Progress | None = Field(
        description=f"Fraction of the way from baseline to the target in force (to {PROGRESS_DECIMALS} decimals)"
    )
    status: str = Field(description="achieved, on_track, at_risk, off_track, no_data or not_assessed")
    countries: list[CountryValuePublic] = Field(
        description="The value in force in each cell in the programme's scope at as_of, by country and sector"
    )
    countries_selected: int = Field(description="Countries in the programme's scope at as_of")
    countries_reporting: int
    cells_reporting: int = Field(description="Cells (country, sector) whose values were combined")
    freshest: date | None = Field(description="Latest valid date among the values in force")


class BenchmarkStateRead(BenchmarkState):
    framework_version: FrameworkVersionInForce


class BenchmarkSeries(BaseModel):
    benchmark: str
    position: LogPosition
    framework_version: FrameworkVersionInForce
    points: list[BenchmarkState]


class BenchmarkStatusSummary(BaseModel):
    benchmark: str
    title: str
    level: Level = Field(description="national, or international: one series, with no countries")
    status: str
    combined: Figure | None
    progress: Progress | None
    countries_reporting: int
    cells_reporting: int
    freshest: date | None


class AssumptionSummary(BaseModel):
    benchmarks: int
    by_status: dict[str, int]


class AssumptionProgress(BaseModel):
    assumption: str
    text: str
    benchmarks: list[BenchmarkStatusSummary]
    summary: AssumptionSummary


class AssumptionRollup(BaseModel):
    as_of: date
    position: LogPosition
    sector: str | None = Field(description="The sector whose cells alone were combined (null: every cell)")
    framework_version: FrameworkVersionInForce
    assumptions: list[AssumptionProgress]


class CountryBenchmark(BaseModel):
    benchmark: str
    assumption: str
    title: str
    value: Number | None = Field(description="The value of the country's one cell (null with none, or several)")
    valid_date: date | None
    known_at: int | None
    cells: list[CountryValuePublic] = Field(description="The country's value in force in each of its cells")
    programme_status: str
    programme_combined: Figure | None


class CountryProfile(BaseModel):
    """The national benchmarks' values for one country (international ones name no country)."""

    country: str
    as_of: date
    position: LogPosition
    sector: str | None = Field(description="The sector whose cells alone are shown (null: every cell)")
    in_scope: bool = Field(
        description="Whether the country is in the programme's scope at as_of; when it is not, its values are "
        "shown but not combined into the programme's figures"
    )
    scope_periods: list[ScopePeriodPublic] = Field(description="The periods the country is in scope, as known here")
    framework_version: FrameworkVersionInForce
    benchmarks: list[CountryBenchmark]
