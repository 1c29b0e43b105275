from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.measurement.domain.progress import (
    Assessment,
    BenchmarkSpec,
    CountryValue,
    Status,
    ValueColumns,
    assess,
    assess_columns,
    combine,
)
from services.measurement.domain.values import Combination, Measure, Value

BASELINE_DATE = date(2020, 1, 1)
FIRST_TARGET_DATE = date(2020, 1, 11)  # ten days after the baseline: easy fractions
SECOND_TARGET_DATE = date(2020, 1, 21)
MIDWAY = date(2020, 1, 6)
LEVELS = ("none", "partial", "full")


def spec(
    measure: Measure = Measure.PERCENTAGE,
    combination: Combination = Combination.MEAN,
    *,
    ascending: bool = True,
    levels: tuple[str, ...] = (),
    threshold: Value | None = None,
    baseline: Value = 0,
    targets: tuple[Value, ...] = (100,),
) -> BenchmarkSpec:
    """A benchmark with its baseline on BASELINE_DATE and its targets ten days apart after it."""
    return BenchmarkSpec(
        measure=measure,
        levels=levels,
        ascending=ascending,
        combination=combination,
        threshold=threshold,
        baseline=(BASELINE_DATE, baseline),
        targets=tuple(
            (FIRST_TARGET_DATE + timedelta(days=10 * index), value, f"target {index + 1}")
            for index, value in enumerate(targets)
        ),
    )


def values(*figures: Value, valid_date: date = BASELINE_DATE) -> list[CountryValue]:
    """One value per country, in countries C0, C1, ..."""
    return [
        CountryValue(country=f"C{index}", valid_date=valid_date, value=figure, known_at=index + 1)
        for index, figure in enumerate(figures)
    ]


def status_at(benchmark: BenchmarkSpec, figure: Value, as_of: date = FIRST_TARGET_DATE) -> Status:
    return assess(benchmark, values(figure), as_of).status


# --- combine: sum and mean ----------------------------------------------------------


@pytest.mark.parametrize("combination", list(Combination))
def test_no_values_combine_into_none(combination):
    threshold = 1 if combination is Combination.COUNT_MEETING_THRESHOLD else None
    benchmark = spec(Measure.UNIT, combination, threshold=threshold)

    assert combine(benchmark, []) is None


def test_sum_of_unit_values_is_an_int():
    total = combine(spec(Measure.UNIT, Combination.SUM), values(3, 4, 5))

    assert total == 12
    assert isinstance(total, int)


def test_sum_of_percentages_is_a_float():
    total = combine(spec(Measure.PERCENTAGE, Combination.SUM), values(12.5, 30.0))

    assert total == 42.5
    assert isinstance(total, float)


def test_mean_of_unit_values_is_a_float():
    mean = combine(spec(Measure.UNIT, Combination.MEAN), values(1, 2))

    assert mean == 1.5
    assert isinstance(mean, float)


def test_mean_of_percentages_is_their_arithmetic_mean():
    assert combine(spec(Measure.PERCENTAGE, Combination.MEAN), values(10.0, 20.0, 60.0)) == 30.0


# --- combine: count meeting the threshold -----------------------------------------


@pytest.mark.parametrize("measure", [Measure.UNIT, Measure.PERCENTAGE])
def test_count_of_numbers_counts_values_at_or_above_the_threshold_when_ascending(measure):
    benchmark = spec(measure, Combination.COUNT_MEETING_THRESHOLD, threshold=50)

    assert combine(benchmark, values(49, 50, 51, 80)) == 3


@pytest.mark.parametrize("measure", [Measure.UNIT, Measure.PERCENTAGE])
def test_count_of_numbers_counts_values_at_or_below_the_threshold_when_descending(measure):
    benchmark = spec(measure, Combination.COUNT_MEETING_THRESHOLD, ascending=False, threshold=50)

    assert combine(benchmark, values(49, 50, 51, 80)) == 2


def test_count_of_ordinal_values_counts_levels_at_or_above_the_threshold_when_ascending():
    benchmark = spec(Measure.ORDINAL, Combination.COUNT_MEETING_THRESHOLD, levels=LEVELS, threshold="partial")

    assert combine(benchmark, values("none", "partial", "full", "full")) == 3


def test_count_of_ordinal_values_counts_levels_at_or_below_the_threshold_when_descending():
    benchmark = spec(
        Measure.ORDINAL, Combination.COUNT_MEETING_THRESHOLD, ascending=False, levels=LEVELS, threshold="partial"
    )

    assert combine(benchmark, values("none", "partial", "full", "full")) == 2


@pytest.mark.parametrize("ascending", [True, False])
def test_count_of_nominal_values_counts_values_equal_to_the_threshold(ascending):
    benchmark = spec(
        Measure.NOMINAL,
        Combination.COUNT_MEETING_THRESHOLD,
        ascending=ascending,
        levels=("no", "yes", "in part"),
        threshold="yes",
    )

    assert combine(benchmark, values("yes", "no", "in part", "yes")) == 2


# --- combine: latest -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "levels", "older", "newer"),
    [
        (Measure.UNIT, (), 7, 3),
        (Measure.PERCENTAGE, (), 70.0, 30.0),
        (Measure.ORDINAL, LEVELS, "full", "partial"),
        (Measure.NOMINAL, ("no", "yes"), "yes", "no"),
        (Measure.QUALITATIVE, (), "A plan is drafted.", "The plan is withdrawn."),
    ],
)
def test_latest_is_the_value_with_the_latest_valid_date(measure, levels, older, newer):
    benchmark = spec(measure, Combination.LATEST, levels=levels)
    given_values = [
        CountryValue("VNM", date(2019, 6, 30), newer, known_at=1),
        CountryValue("BGD", date(2019, 3, 31), older, known_at=2),
    ]

    assert combine(benchmark, given_values) == newer


def test_latest_breaks_a_tie_of_valid_dates_by_the_later_log_position():
    benchmark = spec(Measure.UNIT, Combination.LATEST)
    given_values = [
        CountryValue("VNM", date(2019, 6, 30), 5, known_at=9),
        CountryValue("BGD", date(2019, 6, 30), 8, known_at=4),
    ]

    assert combine(benchmark, given_values) == 5


def test_a_country_given_twice_counts_once_with_its_most_recent_value():
    benchmark = spec(Measure.UNIT, Combination.SUM)
    given_values = [
        CountryValue("VNM", date(2019, 3, 31), 100, known_at=1),
        CountryValue("VNM", date(2019, 6, 30), 5, known_at=2),
        CountryValue("BGD", date(2019, 6, 30), 7, known_at=3),
    ]

    assert combine(benchmark, given_values) == 12
    assert assess(benchmark, given_values, date(2019, 12, 31)).countries_reporting == 2


# --- values in force -------------------------------------------------------------


def test_assess_ignores_values_whose_valid_date_is_after_the_date_assessed():
    benchmark = spec(Measure.UNIT, Combination.SUM)
    given_values = [
        CountryValue("VNM", date(2019, 3, 31), 4, known_at=1),
        CountryValue("VNM", date(2019, 6, 30), 6, known_at=2),
        CountryValue("BGD", date(2019, 6, 30), 7, known_at=3),
    ]

    assessment = assess(benchmark, given_values, date(2019, 4, 30))

    assert assessment.combined == 4
    assert assessment.countries_reporting == 1
    assert assessment.freshest == date(2019, 3, 31)


def test_countries_reporting_and_freshest_describe_the_values_used():
    given_values = [
        CountryValue("VNM", date(2019, 6, 30), 40.0, known_at=1),
        CountryValue("BGD", date(2019, 9, 30), 60.0, known_at=2),
    ]

    assessment = assess(spec(), given_values, date(2019, 12, 31))

    assert assessment.countries_reporting == 2
    assert assessment.freshest == date(2019, 9, 30)


# --- target in force -------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected_label"),
    [
        (BASELINE_DATE - timedelta(days=1), "target 1"),
        (MIDWAY, "target 1"),
        (FIRST_TARGET_DATE, "target 1"),
        (FIRST_TARGET_DATE + timedelta(days=1), "target 2"),
        (SECOND_TARGET_DATE, "target 2"),
        (SECOND_TARGET_DATE + timedelta(days=400), "target 2"),
    ],
    ids=["before-baseline", "before-first", "on-first", "between", "on-last", "after-last"],
)
def test_the_target_in_force_is_the_first_on_or_after_the_date_else_the_last(as_of, expected_label):
    assessment = assess(spec(targets=(50, 100)), values(10.0), as_of)

    assert assessment.target is not None
    assert assessment.target[2] == expected_label


# --- expected figure -------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (BASELINE_DATE - timedelta(days=30), 20.0),
        (BASELINE_DATE, 20.0),
        (MIDWAY, 40.0),
        (FIRST_TARGET_DATE, 60.0),
        (FIRST_TARGET_DATE + timedelta(days=5), 80.0),
        (SECOND_TARGET_DATE, 100.0),
        (SECOND_TARGET_DATE + timedelta(days=400), 100.0),
    ],
    ids=["before-baseline", "at-baseline", "midway", "at-target", "between-targets", "at-last", "after-last"],
)
def test_the_expected_figure_follows_straight_lines_through_baseline_and_targets(as_of, expected):
    assert assess(spec(baseline=20, targets=(60, 100)), values(0.0), as_of).expected == expected


def test_the_expected_figure_of_an_ordinal_latest_benchmark_is_on_the_rank_of_its_levels():
    benchmark = spec(Measure.ORDINAL, Combination.LATEST, levels=LEVELS, baseline="none", targets=("full",))

    assert assess(benchmark, values("none"), MIDWAY).expected == 1.0


# --- status bands ----------------------------------------------------------------


@pytest.mark.parametrize("figure", [100.0, 120.0])
def test_a_figure_meeting_the_target_in_force_is_achieved(figure):
    assert status_at(spec(), figure) is Status.ACHIEVED


def test_a_figure_ahead_of_the_trajectory_but_short_of_the_target_is_on_track():
    assert status_at(spec(), 60.0, as_of=MIDWAY) is Status.ON_TRACK


@pytest.mark.parametrize(
    ("figure", "status"),
    [
        (90.0, Status.ON_TRACK),
        (89.9, Status.AT_RISK),
        (75.0, Status.AT_RISK),
        (74.9, Status.OFF_TRACK),
    ],
    ids=["at-10%", "past-10%", "at-25%", "past-25%"],
)
def test_the_bands_include_their_boundaries_at_10_and_25_percent_of_the_span(figure, status):
    assert status_at(spec(), figure) is status


def test_the_bands_are_measured_against_the_expected_figure_not_the_target():
    # Midway the trajectory expects 50: 40 is 10 behind, 10% of the span.
    assert status_at(spec(), 40.0, as_of=MIDWAY) is Status.ON_TRACK
    assert status_at(spec(), 39.0, as_of=MIDWAY) is Status.AT_RISK


@pytest.mark.parametrize(
    ("figure", "status"),
    [
        (0.0, Status.ACHIEVED),
        (10.0, Status.ON_TRACK),
        (10.1, Status.AT_RISK),
        (25.0, Status.AT_RISK),
        (25.1, Status.OFF_TRACK),
    ],
    ids=["met", "at-10%", "past-10%", "at-25%", "past-25%"],
)
def test_a_descending_benchmark_mirrors_the_bands(figure, status):
    assert status_at(spec(ascending=False, baseline=100, targets=(0,)), figure) is status


def test_a_descending_figure_below_the_trajectory_is_ahead_of_it():
    assert status_at(spec(ascending=False, baseline=100, targets=(0,)), 30.0, as_of=MIDWAY) is Status.ON_TRACK


def test_a_count_is_better_when_more_countries_meet_the_threshold_even_when_descending():
    benchmark = spec(
        Measure.UNIT, Combination.COUNT_MEETING_THRESHOLD, ascending=False, threshold=5, baseline=0, targets=(4,)
    )

    assert assess(benchmark, values(1, 2, 3, 9), FIRST_TARGET_DATE).status is Status.AT_RISK
    assert assess(benchmark, values(1, 2, 3, 4), FIRST_TARGET_DATE).status is Status.ACHIEVED


@pytest.mark.parametrize(
    ("figure", "status"),
    [(5.0, Status.ACHIEVED), (4.9, Status.ON_TRACK), (4.8, Status.AT_RISK), (4.7, Status.OFF_TRACK)],
)
def test_a_target_equal_to_the_baseline_uses_a_span_of_one(figure, status):
    assert status_at(spec(baseline=5, targets=(5,)), figure) is status


def test_an_ordinal_latest_benchmark_is_assessed_on_the_rank_of_its_level():
    benchmark = spec(Measure.ORDINAL, Combination.LATEST, levels=LEVELS, baseline="none", targets=("full",))

    assert status_at(benchmark, "partial", as_of=MIDWAY) is Status.ON_TRACK
    assert status_at(benchmark, "none", as_of=MIDWAY) is Status.OFF_TRACK
    assert status_at(benchmark, "full", as_of=MIDWAY) is Status.ACHIEVED


def test_a_mean_that_rounds_just_short_of_the_target_still_meets_it():
    assert status_at(spec(baseline=0, targets=(0.2,)), 0.0) is Status.OFF_TRACK
    assert assess(spec(baseline=0, targets=(0.2,)), values(0.1, 0.2, 0.3), FIRST_TARGET_DATE).status is (
        Status.ACHIEVED
    )


# --- no data, not assessed ---------------------------------------------------------


def test_without_values_the_status_is_no_data_with_the_expected_figure_and_target_still_given():
    benchmark = spec(baseline=0, targets=(100,))

    assessment = assess(benchmark, [], MIDWAY)

    assert assessment == Assessment(
        combined=None,
        target=benchmark.targets[0],
        expected=50.0,
        progress=None,
        status=Status.NO_DATA,
        countries_reporting=0,
        freshest=None,
    )


@pytest.mark.parametrize(
    ("measure", "levels", "baseline", "target", "figure"),
    [
        (Measure.NOMINAL, ("no", "yes"), "no", "yes", "yes"),
        (Measure.QUALITATIVE, (), "No plan.", "A plan is adopted.", "A plan is adopted."),
    ],
)
def test_latest_of_a_measure_without_order_is_not_assessed(measure, levels, baseline, target, figure):
    benchmark = spec(measure, Combination.LATEST, levels=levels, baseline=baseline, targets=(target,))

    assessment = assess(benchmark, values(figure), FIRST_TARGET_DATE)

    assert assessment.status is Status.NOT_ASSESSED
    assert assessment.combined == figure
    assert assessment.target == benchmark.targets[0]
    assert (assessment.expected, assessment.progress) == (None, None)


def test_latest_of_a_measure_without_order_and_without_values_is_no_data():
    benchmark = spec(Measure.NOMINAL, Combination.LATEST, levels=("no", "yes"), baseline="no", targets=("yes",))

    assessment = assess(benchmark, [], FIRST_TARGET_DATE)

    assert assessment.status is Status.NO_DATA
    assert assessment.expected is None


def test_a_benchmark_without_targets_is_not_assessed():
    assessment = assess(spec(targets=()), values(50.0), MIDWAY)

    assert assessment.status is Status.NOT_ASSESSED
    assert (assessment.target, assessment.progress) == (None, None)


# --- progress --------------------------------------------------------------------


def test_progress_is_the_fraction_of_the_way_from_baseline_to_target():
    assert assess(spec(baseline=20, targets=(60,)), values(30.0), MIDWAY).progress == 0.25


def test_progress_is_measured_towards_the_target_in_force():
    benchmark = spec(baseline=0, targets=(50, 100))

    assert assess(benchmark, values(25.0), MIDWAY).progress == 0.5
    assert assess(benchmark, values(25.0), SECOND_TARGET_DATE).progress == 0.25


def test_progress_of_a_descending_benchmark_is_positive_when_the_figure_falls():
    assert assess(spec(ascending=False, baseline=60, targets=(20,)), values(50.0), MIDWAY).progress == 0.25


def test_progress_of_a_count_counts_countries():
    benchmark = spec(
        Measure.ORDINAL, Combination.COUNT_MEETING_THRESHOLD, levels=LEVELS, threshold="full", targets=(4,)
    )

    assert assess(benchmark, values("full", "partial", "full"), MIDWAY).progress == 0.5


@pytest.mark.parametrize(("figure", "progress"), [(5.0, 1.0), (4.0, 0.0)])
def test_progress_towards_a_target_equal_to_the_baseline_is_one_if_met_else_zero(figure, progress):
    assert assess(spec(baseline=5, targets=(5,)), values(figure), MIDWAY).progress == progress


# --- from_state ------------------------------------------------------------------


def benchmark_state(**overrides: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "measure": "ordinal",
        "levels": list(LEVELS),
        "ascending": True,
        "combination": "count_meeting_threshold",
        "threshold": "partial",
        "baseline": {"value": 0, "date": "2017-01-01"},
        "targets": [
            {"value": 4, "date": "2021-12-31", "label": "final"},
            {"value": 2, "date": "2019-10-31", "label": "mid-term"},
        ],
    }
    state.update(overrides)
    return state


def test_from_state_reads_iso_date_strings_and_puts_targets_in_date_order():
    benchmark = BenchmarkSpec.from_state(benchmark_state())

    assert benchmark == BenchmarkSpec(
        measure=Measure.ORDINAL,
        levels=LEVELS,
        ascending=True,
        combination=Combination.COUNT_MEETING_THRESHOLD,
        threshold="partial",
        baseline=(date(2017, 1, 1), 0),
        targets=((date(2019, 10, 31), 2, "mid-term"), (date(2021, 12, 31), 4, "final")),
    )


def test_from_state_accepts_dates_enums_and_targets_without_a_label():
    state = benchmark_state(
        measure=Measure.PERCENTAGE,
        levels=[],
        combination=Combination.MEAN,
        threshold=None,
        baseline={"value": 12.5, "date": date(2017, 1, 1)},
        targets=[{"value": 50.0, "date": date(2021, 12, 31)}],
    )

    benchmark = BenchmarkSpec.from_state(state)

    assert benchmark.measure is Measure.PERCENTAGE
    assert benchmark.combination is Combination.MEAN
    assert benchmark.baseline == (date(2017, 1, 1), 12.5)
    assert benchmark.targets == ((date(2021, 12, 31), 50.0, None),)


# --- properties ------------------------------------------------------------------

STATUS_ORDER = {Status.OFF_TRACK: 0, Status.AT_RISK: 1, Status.ON_TRACK: 2, Status.ACHIEVED: 3}

figures = st.floats(min_value=0, max_value=100, allow_nan=False)
days_from_baseline = st.integers(min_value=-30, max_value=60)


@st.composite
def mean_benchmarks(draw: st.DrawFn) -> BenchmarkSpec:
    target_count = draw(st.integers(min_value=1, max_value=3))
    return spec(baseline=draw(figures), targets=tuple(draw(figures) for _ in range(target_count)))


@given(
    benchmark=mean_benchmarks(),
    figures_and_rises=st.lists(st.tuples(figures, st.floats(min_value=0, max_value=50)), min_size=1, max_size=6),
    day=days_from_baseline,
)
def test_raising_every_value_of_an_ascending_mean_never_worsens_the_status(benchmark, figures_and_rises, day):
    as_of = BASELINE_DATE + timedelta(days=day)
    before = assess(benchmark, values(*(figure for figure, _ in figures_and_rises), valid_date=as_of), as_of)
    after = assess(benchmark, values(*(figure + rise for figure, rise in figures_and_rises), valid_date=as_of), as_of)

    assert STATUS_ORDER[after.status] >= STATUS_ORDER[before.status]


@given(benchmark=mean_benchmarks(), given_figures=st.lists(figures, min_size=1, max_size=6), day=days_from_baseline)
def test_a_descending_benchmark_of_negated_numbers_is_the_mirror_of_the_ascending_one(benchmark, given_figures, day):
    # The pure rule, outside the ranges the definitions check: a pure mirror image.
    as_of = BASELINE_DATE + timedelta(days=day)
    mirrored = replace(
        benchmark,
        ascending=False,
        baseline=(benchmark.baseline[0], -benchmark.baseline[1]),
        targets=tuple((when, -value, label) for when, value, label in benchmark.targets),
    )

    ascending = assess(benchmark, values(*given_figures, valid_date=as_of), as_of)
    descending = assess(mirrored, values(*(-figure for figure in given_figures), valid_date=as_of), as_of)

    assert descending.status is ascending.status
    assert descending.progress == ascending.progress
    assert ascending.expected is not None
    assert descending.expected == -ascending.expected


@given(
    entries=st.lists(
        st.tuples(
            st.sampled_from(["VNM", "BGD", "KHM", "MMR", "ETH"]),
            st.dates(min_value=date(2017, 1, 1), max_value=date(2022, 12, 31)),
            st.integers(min_value=0, max_value=1000),
        ),
        max_size=12,
    ),
    data=st.data(),
)
def test_latest_is_the_same_whatever_the_order_of_the_values(entries, data):
    benchmark = spec(Measure.UNIT, Combination.LATEST)
    given_values = [
        CountryValue(country, valid_date, value, known_at=position)
        for position, (country, valid_date, value) in enumerate(entries, start=1)
    ]

    shuffled = data.draw(st.permutations(given_values))

    assert combine(benchmark, shuffled) == combine(benchmark, given_values)


def _columns(given_values: list[CountryValue]) -> ValueColumns:
    return ValueColumns(
        countries=[value.country for value in given_values],
        sectors=[value.sector for value in given_values],
        valid_dates=[value.valid_date for value in given_values],
        values=[value.value for value in given_values],
        known_at=[value.known_at for value in given_values],
        first_recorded=[value.first_recorded for value in given_values],
    )


def _outcome(assessing: Any) -> Any:
    """An assessment, or the kind of error it raised."""
    try:
        return assessing()
    except (ArithmeticError, ValueError, TypeError) as error:
        return type(error)


_ORDINAL_LEVELS = ("none", "partial", "full")
_column_specs = st.one_of(
    st.builds(
        spec,
        measure=st.sampled_from([Measure.UNIT, Measure.PERCENTAGE, Measure.NOMINAL]),
        combination=st.sampled_from(list(Combination)),
        ascending=st.booleans(),
        threshold=st.one_of(st.integers(-5, 5), st.sampled_from([-2.5, 1.0, 3.0])),
        baseline=st.integers(-5, 5),
        targets=st.lists(st.integers(-10, 10), min_size=0, max_size=2).map(tuple),
    ),
    st.builds(
        spec,
        measure=st.sampled_from([Measure.UNIT, Measure.PERCENTAGE]),
        combination=st.just(Combination.COUNT_MEETING_THRESHOLD),
        ascending=st.booleans(),
        threshold=st.one_of(st.integers(-5, 5), st.sampled_from([-2.5, 1.0, 3.0])),
        baseline=st.integers(0, 3),
        targets=st.lists(st.integers(0, 6), max_size=2).map(tuple),
    ),
    # A count's baseline and targets are counts; latest's are levels.
    st.builds(
        spec,
        measure=st.just(Measure.ORDINAL),
        combination=st.just(Combination.COUNT_MEETING_THRESHOLD),
        ascending=st.booleans(),
        levels=st.just(_ORDINAL_LEVELS),
        threshold=st.sampled_from(_ORDINAL_LEVELS),
        baseline=st.integers(0, 3),
        targets=st.lists(st.integers(0, 6), max_size=2).map(tuple),
    ),
    st.builds(
        spec,
        measure=st.just(Measure.ORDINAL),
        combination=st.just(Combination.LATEST),
        ascending=st.booleans(),
        levels=st.just(_ORDINAL_LEVELS),
        threshold=st.none(),
        baseline=st.sampled_from(_ORDINAL_LEVELS),
        targets=st.lists(st.sampled_from(_ORDINAL_LEVELS), max_size=2).map(tuple),
    ),
)
# Mostly one kind of figure per history (as a benchmark's values are), now and then a mix.
_column_figures = st.sampled_from(
    [
        st.integers(-6, 6),
        st.sampled_from([-2.5, 0.0, 1.0, 3.0, 4.75]),
        st.one_of(st.integers(-6, 6), st.floats(-20, 20)),
        st.sampled_from(_ORDINAL_LEVELS),
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(10**400), 10**400),
            st.sampled_from([*_ORDINAL_LEVELS, "unknown", "12.5"]),
        ),
    ]
)


@given(
    benchmark=_column_specs,
    entries=_column_figures.flatmap(
        lambda figures: st.lists(
            st.tuples(
                st.sampled_from(["VNM", "BGD", "", "KHM"]),
                st.sampled_from(["", "garments", "electronics"]),
                st.dates(min_value=date(2019, 12, 1), max_value=date(2020, 2, 1)),
                figures,
                st.one_of(st.none(), st.integers(1, 50)),
            ),
            max_size=12,
        )
    ),
    one_per_cell=st.booleans(),
    day=st.integers(min_value=-40, max_value=40),
)
@settings(max_examples=800)
def test_assessing_columns_is_assessing_the_values(benchmark, entries, one_per_cell, day):
    # One value per cell on or before D (as a lookup gives them) takes the
    # columns' fast paths; anything else is assessed value by value.
    as_of = BASELINE_DATE + timedelta(days=day)
    if one_per_cell:
        entries = list({(country, sector): entry for entry in entries for country, sector in [entry[:2]]}.values())
        entries = [entry for entry in entries if entry[2] <= as_of]
    given_values = [
        CountryValue(country, valid_date, figure, position, sector, first)
        for position, (country, sector, valid_date, figure, first) in enumerate(entries, start=60)
    ]

    by_columns = _outcome(lambda: assess_columns(benchmark, _columns(given_values), as_of))
    by_values = _outcome(lambda: assess(benchmark, given_values, as_of))

    # repr: a NaN figure is equal in kind, not by ==; and an int is not a float.
    assert repr(by_columns) == repr(by_values)
