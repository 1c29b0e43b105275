"""Progress of a benchmark at a valid date D: the figure combined across
countries, where the straight-line trajectory says it should be, how far it
has come, and a status. This docstring is the documented rule.

Values used
    A value belongs to a cell: one country and one sector (the sector empty
    when the observation names none). Each value comes with its valid date,
    the log position at which its observation was first recorded
    (`first_recorded`) and that of the version in force (`known_at`). A cell
    counts once, with its most recent value: the one with the latest valid
    date and, among observations for the same cell and the same valid date,
    the one first recorded last stands. A correction changes an
    observation's value, never its precedence (so a correction that repeats
    the value changes no answer); a retraction removes the observation and
    uncovers the one before. `assess` first drops values whose valid date is
    after D (they are not yet in force at D).

Combining (`combine`), across cells as across countries
    - no values: None.
    - sum: the sum of the numbers (an int when every value is an int).
    - mean: the arithmetic mean (a float).
    - count_meeting_threshold: the number of cells whose value meets the
      threshold (of countries, when no value names a sector). Numeric and
      ordinal values are compared by `rank` (values.py): a value meets the
      threshold when rank(value) >= rank(threshold) for an ascending
      benchmark, rank(value) <= rank(threshold) for a descending one. A
      nominal value meets it when it equals the threshold.
    - latest: the value with the greatest (valid date, first recorded); the
      country and sector codes break a tie (which a real log never has: each
      observation has its own position).

The scale
    The combined figure, the baseline and the targets are compared as numbers:
    for sum, mean and count_meeting_threshold the numbers themselves (the
    baseline and targets of a count are counts of countries); for latest, the
    numbers of a numeric measure and the rank of the level of an ordinal one
    (its baseline and targets are levels). Latest of a nominal or qualitative
    measure has no scale: it is NOT_ASSESSED when there is data, and has no
    expected figure and no progress.

Direction
    More is better when the benchmark is ascending, less when it is
    descending; except for count_meeting_threshold, where more countries
    meeting the threshold is always better (the direction is already in
    "meets").

Target in force at D
    The first target (in date order) whose date is on or after D; when D is
    after every target, the last target. None when the benchmark has none.

Expected figure at D
    Piecewise-linear interpolation, by days, through (baseline date, baseline)
    and each (target date, target) in date order: the baseline before the
    baseline date, the last target after the last target date.

Status, when there is data, a scale and a target in force
    - ACHIEVED when the combined figure meets the target in force (>= it when
      more is better, <= it when less is).
    - Otherwise shortfall = how far the combined figure is behind the expected
      figure in the good direction (0 when it is level or ahead), and
      span = |target in force - baseline| (1.0 when that is 0):
      ON_TRACK when shortfall <= ON_TRACK_TOLERANCE x span,
      AT_RISK when shortfall <= AT_RISK_TOLERANCE x span, else OFF_TRACK.
    Each of these comparisons forgives a difference of up to
    ROUNDING_ALLOWANCE x max(1, |allowed|), so that the rounding of a mean or
    an interpolation does not push a figure that is exactly on a target or on
    a band boundary across it.
    With no values the status is NO_DATA (no combined figure, no progress;
    the expected figure and the target in force are still given). With data
    but no scale, or no target, it is NOT_ASSESSED.

Progress
    (combined - baseline) / (target in force - baseline), on the scale; when
    the target equals the baseline, 1.0 if the target is met, else 0.0.

Reporting
    countries_reporting is the number of countries whose values were used
    (none for an international benchmark, whose cells name no country),
    cells_reporting the number of cells; freshest is the latest valid date
    among them (None without values).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple, cast

from services.measurement.domain.values import Combination, Measure, Value, rank

ON_TRACK_TOLERANCE = 0.10
AT_RISK_TOLERANCE = 0.25
ROUNDING_ALLOWANCE = 1e-9

DatedTarget = tuple[date, Value, str | None]


class Status(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    NOT_ASSESSED = "not_assessed"


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark as known at some log position. Targets are in date order."""

    measure: Measure
    levels: tuple[str, ...]
    ascending: bool
    combination: Combination
    threshold: Value | None
    baseline: tuple[date, Value]
    targets: tuple[DatedTarget, ...]

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> BenchmarkSpec:
        """From a benchmark's state as stored or served: dates may be
        `date`s or ISO strings, and targets may come in any order."""
        baseline = state["baseline"]
        targets = sorted(
            ((_as_date(target["date"]), target["value"], target.get("label")) for target in state["targets"]),
            key=lambda target: target[0],
        )
        return cls(
            measure=Measure(state["measure"]),
            levels=tuple(state["levels"]),
            ascending=bool(state["ascending"]),
            combination=Combination(state["combination"]),
            threshold=state.get("threshold"),
            baseline=(_as_date(baseline["date"]), baseline["value"]),
            targets=tuple(targets),
        )


class CountryValue(NamedTuple):
    """A cell's value in force (a tuple: a roll-up builds thousands).
    `first_recorded` None: the value's observation was never corrected, so
    it was first recorded at `known_at`."""

    country: str
    valid_date: date
    value: Value
    known_at: int
    sector: str = ""
    first_recorded: int | None = None

    @property
    def cell(self) -> tuple[str, str]:
        return (self.country, self.sector)

    @property
    def precedence(self) -> tuple[date, int]:
        """Greater stands: the later valid date, then the observation first recorded last."""
        return (self.valid_date, self.known_at if self.first_recorded is None else self.first_recorded)


@dataclass(frozen=True)
class Assessment:
    combined: Value | None
    target: DatedTarget | None
    expected: float | None
    progress: float | None
    status: Status
    countries_reporting: int
    freshest: date | None
    cells_reporting: int = 0


def combine(spec: BenchmarkSpec, values: Sequence[CountryValue]) -> Value | None:
    """The figure the cells' values combine into, or None without values."""
    return _combine_current(spec, _most_recent_per_cell(values))


def _combine_current(spec: BenchmarkSpec, current: Sequence[CountryValue]) -> Value | None:
    """`combine` of values already one per cell."""
    if not current:
        return None
    figures = [value.value for value in current]
    if spec.combination is Combination.SUM:
        if all(isinstance(figure, int) for figure in figures):
            return sum(int(figure) for figure in figures)
        return math.fsum(float(figure) for figure in figures)
    if spec.combination is Combination.MEAN:
        return math.fsum(float(figure) for figure in figures) / len(figures)
    if spec.combination is Combination.COUNT_MEETING_THRESHOLD:
        meets = _threshold_test(spec)
        return sum(1 for figure in figures if meets(figure))
    return max(current, key=lambda value: (value.precedence, value.cell)).value


def assess(spec: BenchmarkSpec, values: Sequence[CountryValue], as_of: date) -> Assessment:
    """The state of the benchmark at valid date `as_of`."""
    used = _most_recent_per_cell(value for value in values if value.valid_date <= as_of)
    return _assessment(
        spec,
        _combine_current(spec, used),
        as_of,
        countries_reporting=len({value.country for value in used if value.country}),
        freshest=max((value.valid_date for value in used), default=None),
        cells_reporting=len(used),
    )


@dataclass(frozen=True)
class ValueColumns:
    """Values as columns, the i-th of each column one value (a CountryValue's
    fields): a roll-up assesses thousands of values without an object each."""

    countries: Sequence[str]
    sectors: Sequence[str]
    valid_dates: Sequence[date]
    values: Sequence[Value]
    known_at: Sequence[int]
    first_recorded: Sequence[int | None]

    def country_values(self) -> list[CountryValue]:
        return list(
            map(
                CountryValue,
                self.countries,
                self.valid_dates,
                self.values,
                self.known_at,
                self.sectors,
                self.first_recorded,
            )
        )


def assess_columns(spec: BenchmarkSpec, columns: ValueColumns, as_of: date) -> Assessment:
    """`assess` of the values in `columns`: the same Assessment, by the same
    rules. When each cell has one value, on or before `as_of` (as an as-of
    lookup gives them), the figures are computed on the columns at once;
    otherwise (and for `latest`, or values a fast path does not cover) the
    values are assessed one by one by `assess`."""
    figures = columns.values
    cells = len(figures)
    if cells and (
        spec.combination is Combination.LATEST
        or max(columns.valid_dates) > as_of
        or len(set(zip(columns.countries, columns.sectors, strict=True))) != cells
    ):
        return assess(spec, columns.country_values(), as_of)
    combined = _combine_columns(spec, figures) if cells else None
    if isinstance(combined, _NotCovered):
        return assess(spec, columns.country_values(), as_of)
    countries = set(columns.countries)
    return _assessment(
        spec,
        combined,
        as_of,
        countries_reporting=len(countries) - ("" in countries),
        freshest=max(columns.valid_dates) if cells else None,
        cells_reporting=cells,
    )


class _NotCovered:
    """Values a fast path of `_combine_columns` does not cover."""


_NOT_COVERED = _NotCovered()
_NUMBERS = ({int}, {float}, {int, float})


def _combine_columns(spec: BenchmarkSpec, figures: Sequence[Value]) -> Value | _NotCovered:
    """`_combine_current` of one value per cell, not `latest`, with the sums
    and comparisons run over whole columns (in C); _NOT_COVERED for values of
    other types, which `_combine_current` combines (or refuses) one by one."""
    types = set(map(type, figures))
    combination = spec.combination
    if combination is Combination.SUM:
        if types == {int}:
            return sum(cast(Sequence[int], figures))
        if types in _NUMBERS:
            return math.fsum(map(float, figures))
        return _NOT_COVERED
    if combination is Combination.MEAN:
        if types in _NUMBERS:
            return math.fsum(map(float, figures)) / len(figures)
        return _NOT_COVERED
    assert spec.threshold is not None, "count_meeting_threshold benchmarks always have a threshold"
    threshold_rank = rank(spec.measure, spec.levels, spec.threshold)
    if threshold_rank is None:
        return _NOT_COVERED
    if spec.measure.is_numeric and types in _NUMBERS:
        # rank(value) >= rank(threshold) (ascending) is threshold_rank <= float(value).
        meets = threshold_rank.__le__ if spec.ascending else threshold_rank.__ge__
        return sum(map(meets, map(float, figures)))
    if spec.measure is Measure.ORDINAL and types == {str}:
        levels = spec.levels
        if not set(figures) <= set(levels):
            return _NOT_COVERED
        meeting = {
            level
            for level in set(levels)
            if (
                float(levels.index(level)) >= threshold_rank
                if spec.ascending
                else float(levels.index(level)) <= threshold_rank
            )
        }
        return sum(map(meeting.__contains__, figures))
    return _NOT_COVERED


def _assessment(
    spec: BenchmarkSpec,
    combined: Value | None,
    as_of: date,
    countries_reporting: int,
    freshest: date | None,
    cells_reporting: int,
) -> Assessment:
    target = _target_in_force(spec, as_of)
    expected = _expected(spec, as_of)
    status, progress = _judge(spec, combined, target, expected)
    return Assessment(
        combined=combined,
        target=target,
        expected=expected,
        progress=progress,
        status=status,
        countries_reporting=countries_reporting,
        freshest=freshest,
        cells_reporting=cells_reporting,
    )


def _most_recent_per_cell(values: Iterable[CountryValue]) -> list[CountryValue]:
    most_recent: dict[tuple[str, str], CountryValue] = {}
    for value in values:
        # The cell spelled out, not `.cell`: a roll-up passes thousands of values here.
        cell = (value.country, value.sector)
        held = most_recent.get(cell)
        if held is None or value.precedence > held.precedence:
            most_recent[cell] = value
    return list(most_recent.values())


def _threshold_test(spec: BenchmarkSpec) -> Callable[[Value], bool]:
    """Whether a value meets the benchmark's threshold (ranked once, not per value)."""
    assert spec.threshold is not None, "count_meeting_threshold benchmarks always have a threshold"
    threshold = spec.threshold
    threshold_rank = rank(spec.measure, spec.levels, threshold)

    def meets(value: Value) -> bool:
        value_rank = rank(spec.measure, spec.levels, value)
        if value_rank is None or threshold_rank is None:
            return value == threshold
        return value_rank >= threshold_rank if spec.ascending else value_rank <= threshold_rank

    return meets


def _has_scale(spec: BenchmarkSpec) -> bool:
    return spec.combination is not Combination.LATEST or spec.measure.is_numeric or spec.measure is Measure.ORDINAL


def _on_scale(spec: BenchmarkSpec, figure: Value) -> float:
    if spec.combination is Combination.LATEST and spec.measure is Measure.ORDINAL:
        return float(spec.levels.index(str(figure)))
    return float(figure)


def _more_is_better(spec: BenchmarkSpec) -> bool:
    return spec.ascending or spec.combination is Combination.COUNT_MEETING_THRESHOLD


def _target_in_force(spec: BenchmarkSpec, as_of: date) -> DatedTarget | None:
    for target in spec.targets:
        if target[0] >= as_of:
            return target
    return spec.targets[-1] if spec.targets else None


def _expected(spec: BenchmarkSpec, as_of: date) -> float | None:
    if not _has_scale(spec):
        return None
    previous_date, previous_figure = spec.baseline[0], _on_scale(spec, spec.baseline[1])
    if as_of <= previous_date:
        return previous_figure
    for target_date, target_value, _ in spec.targets:
        target_figure = _on_scale(spec, target_value)
        if as_of <= target_date:
            fraction = (as_of - previous_date).days / (target_date - previous_date).days
            # This form gives each end point exactly, with no rounding.
            return previous_figure * (1 - fraction) + target_figure * fraction
        previous_date, previous_figure = target_date, target_figure
    return previous_figure


def _within(excess: float, allowed: float) -> bool:
    return excess <= allowed + ROUNDING_ALLOWANCE * max(1.0, abs(allowed))


def _judge(
    spec: BenchmarkSpec, combined: Value | None, target: DatedTarget | None, expected: float | None
) -> tuple[Status, float | None]:
    """The status and the progress."""
    if combined is None:
        return Status.NO_DATA, None
    if expected is None or target is None:
        return Status.NOT_ASSESSED, None
    figure = _on_scale(spec, combined)
    baseline = _on_scale(spec, spec.baseline[1])
    goal = _on_scale(spec, target[1])
    # Multiplying by the direction turns "behind" into a positive number both ways.
    direction = 1.0 if _more_is_better(spec) else -1.0
    met = _within(direction * (goal - figure), 0.0)
    progress = (figure - baseline) / (goal - baseline) if goal != baseline else (1.0 if met else 0.0)
    if met:
        return Status.ACHIEVED, progress
    shortfall = max(0.0, direction * (expected - figure))
    span = abs(goal - baseline) or 1.0
    if _within(shortfall, ON_TRACK_TOLERANCE * span):
        return Status.ON_TRACK, progress
    if _within(shortfall, AT_RISK_TOLERANCE * span):
        return Status.AT_RISK, progress
    return Status.OFF_TRACK, progress
