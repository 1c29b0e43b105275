from __future__ import annotations

from datetime import date

import pytest

from services.common.errors import ConflictError, DomainError, FieldPath, InvalidCommandError
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.values import Combination, Dimension, Measure

BASELINE_DATE = date(2017, 1, 1)
FINAL_TARGET_DATE = date(2021, 12, 31)
MID_TERM = date(2019, 10, 31)
FINAL = date(2021, 12, 31)


def problem_paths(error: DomainError) -> list[FieldPath]:
    return [problem.path for problem in error.problems]


def refused_definition(define_benchmark, measure: Measure = Measure.PERCENTAGE, **overrides) -> list[FieldPath]:
    with pytest.raises(InvalidCommandError) as caught:
        define_benchmark(measure, **overrides)
    return problem_paths(caught.value)


def event_names(benchmark: Benchmark) -> list[str]:
    return [type(e).__name__ for e in benchmark.collect_events()]


# --- define: happy paths ----------------------------------------------------------


@pytest.mark.parametrize("measure", list(Measure))
def test_define_accepts_a_valid_definition_of_each_measure(define_benchmark, definition, measure):
    kwargs = definition(measure)

    benchmark = define_benchmark(measure)

    assert benchmark.measure is measure
    assert benchmark.code == kwargs["code"]
    assert benchmark.assumption == "CA1"
    assert benchmark.levels == kwargs["levels"]
    assert benchmark.combination is kwargs["combination"]
    assert benchmark.threshold == kwargs["threshold"]
    assert benchmark.baseline == kwargs["baseline"]
    assert [t["value"] for t in benchmark.targets] == [t["value"] for t in kwargs["targets"]]
    assert benchmark.disaggregations == [Dimension.SEX]
    assert benchmark.retired is False


def test_define_records_one_defined_event(define_benchmark):
    assert event_names(define_benchmark()) == ["Defined"]


def test_define_records_the_framework_version_it_was_checked_against(define_benchmark, framework):
    assert define_benchmark().framework_version == framework.version


def test_a_benchmark_id_is_derived_from_its_code(define_benchmark):
    benchmark = define_benchmark(code="CA3-NAP")

    assert benchmark.id == Benchmark.create_id("CA3-NAP")


def test_define_stores_values_in_their_canonical_type(define_benchmark):
    benchmark = define_benchmark(
        Measure.UNIT,
        baseline={"value": 2.0, "date": BASELINE_DATE},
        targets=[{"value": 7.0, "date": FINAL}],
    )

    assert type(benchmark.baseline["value"]) is int
    assert type(benchmark.targets[0]["value"]) is int


def test_define_returns_targets_sorted_by_date(define_benchmark):
    benchmark = define_benchmark(
        targets=[
            {"value": 60, "date": FINAL, "label": "final"},
            {"value": 30, "date": MID_TERM, "label": "mid-term"},
        ]
    )

    assert [t["date"] for t in benchmark.targets] == [MID_TERM, FINAL]
    assert [t["label"] for t in benchmark.targets] == ["mid-term", "final"]


def test_a_target_without_a_label_has_label_none(define_benchmark):
    benchmark = define_benchmark(targets=[{"value": 60, "date": FINAL}])

    assert benchmark.targets == [{"value": 60, "date": FINAL, "label": None}]


def test_define_accepts_a_benchmark_without_deliverables_indicators_or_disaggregations(define_benchmark):
    benchmark = define_benchmark(deliverables=[], pb_indicators=[], disaggregations=[])

    assert (benchmark.deliverables, benchmark.pb_indicators, benchmark.disaggregations) == ([], [], [])


# --- define: every rule reported at once -----------------------------------------


def test_define_reports_every_broken_rule_at_once(define_benchmark):
    paths = refused_definition(
        define_benchmark,
        assumption="CA11",
        baseline={"value": 120, "date": BASELINE_DATE},
        targets=[{"value": 50, "date": date(2016, 12, 31)}],
    )

    assert paths == [("assumption",), ("baseline", "value"), ("targets", 0, "date")]


def test_define_refuses_an_assumption_the_framework_does_not_have(define_benchmark):
    assert refused_definition(define_benchmark, assumption="CA11") == [("assumption",)]


def test_unknown_assumption_refusal_names_the_known_ones(define_benchmark):
    with pytest.raises(InvalidCommandError) as caught:
        define_benchmark(assumption="CA11")

    assert "CA1, CA2" in caught.value.detail and "CA10" in caught.value.detail


# --- define: levels ---------------------------------------------------------------


@pytest.mark.parametrize("measure", [Measure.ORDINAL, Measure.NOMINAL])
@pytest.mark.parametrize("levels", [[], ["only"]], ids=["no levels", "one level"])
def test_ordinal_and_nominal_benchmarks_need_at_least_two_levels(define_benchmark, measure, levels):
    assert ("levels",) in refused_definition(define_benchmark, measure, levels=levels)


@pytest.mark.parametrize("measure", [Measure.ORDINAL, Measure.NOMINAL])
def test_levels_must_be_unique(define_benchmark, definition, measure):
    levels = definition(measure)["levels"]

    assert refused_definition(define_benchmark, measure, levels=[*levels, levels[0]]) == [("levels",)]


@pytest.mark.parametrize("measure", [Measure.UNIT, Measure.PERCENTAGE, Measure.QUALITATIVE])
def test_levels_are_refused_for_measures_without_levels(define_benchmark, measure):
    assert refused_definition(define_benchmark, measure, levels=["low", "high"]) == [("levels",)]


def test_baseline_and_targets_of_a_levelled_benchmark_must_be_levels(define_benchmark):
    paths = refused_definition(
        define_benchmark,
        Measure.ORDINAL,
        baseline={"value": "nothing", "date": BASELINE_DATE},
        targets=[{"value": "everything", "date": FINAL}],
    )

    assert paths == [("baseline", "value"), ("targets", 0, "value")]


# --- define: combination and threshold --------------------------------------------


@pytest.mark.parametrize(
    "measure, combination",
    [
        (Measure.ORDINAL, Combination.SUM),
        (Measure.ORDINAL, Combination.MEAN),
        (Measure.NOMINAL, Combination.SUM),
        (Measure.QUALITATIVE, Combination.MEAN),
    ],
)
def test_combination_must_suit_the_measure(define_benchmark, measure, combination):
    assert refused_definition(define_benchmark, measure, combination=combination, threshold=None) == [("combination",)]


@pytest.mark.parametrize("measure", [Measure.UNIT, Measure.PERCENTAGE])
@pytest.mark.parametrize("combination", list(Combination))
def test_numeric_benchmarks_accept_every_combination(define_benchmark, measure, combination):
    threshold = 5 if combination is Combination.COUNT_MEETING_THRESHOLD else None

    benchmark = define_benchmark(measure, combination=combination, threshold=threshold)

    assert benchmark.combination is combination


def test_count_meeting_threshold_needs_a_threshold(define_benchmark):
    paths = refused_definition(
        define_benchmark, Measure.PERCENTAGE, combination=Combination.COUNT_MEETING_THRESHOLD, threshold=None
    )

    assert paths == [("threshold",)]


@pytest.mark.parametrize("combination", [Combination.SUM, Combination.MEAN, Combination.LATEST])
def test_a_threshold_is_refused_for_other_combinations(define_benchmark, combination):
    paths = refused_definition(define_benchmark, Measure.PERCENTAGE, combination=combination, threshold=50)

    assert paths == [("threshold",)]


def test_baseline_and_targets_of_count_meeting_threshold_count_countries(define_benchmark):
    paths = refused_definition(
        define_benchmark,
        Measure.ORDINAL,
        baseline={"value": "none", "date": BASELINE_DATE},
        targets=[{"value": 2.5, "date": FINAL_TARGET_DATE}],
    )

    assert paths == [("baseline", "value"), ("targets", 0, "value")]


def test_the_threshold_must_be_a_value_of_the_measure(define_benchmark):
    paths = refused_definition(
        define_benchmark, Measure.ORDINAL, combination=Combination.COUNT_MEETING_THRESHOLD, threshold="complete"
    )

    assert paths == [("threshold",)]


def test_the_threshold_is_stored_in_its_canonical_type(define_benchmark):
    benchmark = define_benchmark(Measure.UNIT, combination=Combination.COUNT_MEETING_THRESHOLD, threshold=3.0)

    assert benchmark.threshold == 3
    assert type(benchmark.threshold) is int


# --- define: disaggregations, deliverables, P&B indicators ------------------------


def test_a_disaggregation_dimension_may_be_named_once(define_benchmark):
    paths = refused_definition(define_benchmark, disaggregations=[Dimension.SEX, Dimension.DISABILITY, Dimension.SEX])

    assert paths == [("disaggregations",)]


def test_define_refuses_a_deliverable_not_in_the_workplan(define_benchmark):
    assert refused_definition(define_benchmark, deliverables=["8.2", "10.1"]) == [("deliverables", 1)]


@pytest.mark.parametrize("indicator", ["1.4", "2018-19:11.1", "2018-2019:1.4", "2018-19 1.4"])
def test_define_refuses_a_pb_indicator_the_programme_is_not_aligned_with(define_benchmark, indicator):
    paths = refused_definition(define_benchmark, pb_indicators=["2016-17:A2", indicator])

    assert paths == [("pb_indicators", 1)]


def test_pb_indicators_are_named_with_their_biennium(define_benchmark):
    benchmark = define_benchmark(pb_indicators=["2018-19:1.4", "2016-17:A2"])

    assert benchmark.pb_indicators == ["2018-19:1.4", "2016-17:A2"]


# --- define: targets --------------------------------------------------------------


def test_define_needs_at_least_one_target(define_benchmark):
    assert refused_definition(define_benchmark, targets=[]) == [("targets",)]


def test_a_target_on_the_baseline_date_is_refused(define_benchmark):
    paths = refused_definition(define_benchmark, targets=[{"value": 50, "date": BASELINE_DATE}])

    assert paths == [("targets", 0, "date")]


def test_two_targets_may_not_share_a_date(define_benchmark):
    paths = refused_definition(
        define_benchmark,
        targets=[{"value": 40, "date": FINAL}, {"value": 50, "date": MID_TERM}, {"value": 60, "date": FINAL}],
    )

    assert paths == [("targets", 2, "date")]


def test_target_values_are_checked_against_the_measure(define_benchmark):
    paths = refused_definition(
        define_benchmark,
        targets=[{"value": 50, "date": MID_TERM}, {"value": 150, "date": FINAL}],
    )

    assert paths == [("targets", 1, "value")]


# --- revise_baseline --------------------------------------------------------------


def test_revise_baseline_replaces_the_baseline(define_benchmark):
    benchmark = define_benchmark()

    benchmark.revise_baseline({"value": 15, "date": date(2017, 6, 30)}, reason="Survey re-weighted.", principal="pmt")

    assert benchmark.baseline == {"value": 15.0, "date": date(2017, 6, 30)}
    assert event_names(benchmark) == ["Defined", "BaselineRevised"]


@pytest.mark.parametrize("reason", ["", "   "], ids=repr)
def test_revise_baseline_needs_a_reason(define_benchmark, reason):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.revise_baseline({"value": 15, "date": BASELINE_DATE}, reason=reason, principal="pmt")

    assert problem_paths(caught.value) == [("reason",)]


def test_revise_baseline_checks_the_value_against_the_measure(define_benchmark):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.revise_baseline({"value": -5, "date": BASELINE_DATE}, reason="Typo.", principal="pmt")

    assert problem_paths(caught.value) == [("baseline", "value")]


def test_a_revised_baseline_must_come_before_every_target(define_benchmark):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.revise_baseline({"value": 15, "date": FINAL}, reason="Late survey.", principal="pmt")

    assert problem_paths(caught.value) == [("baseline", "date")]


def test_a_refused_baseline_revision_records_no_event(define_benchmark):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError):
        benchmark.revise_baseline({"value": -5, "date": BASELINE_DATE}, reason="Typo.", principal="pmt")

    assert event_names(benchmark) == ["Defined"]


def test_a_retired_benchmark_takes_no_baseline_revision(define_benchmark):
    benchmark = define_benchmark()
    benchmark.retire(reason="Superseded.", principal="pmt")

    with pytest.raises(ConflictError):
        benchmark.revise_baseline({"value": 15, "date": BASELINE_DATE}, reason="Typo.", principal="pmt")


# --- revise_targets ---------------------------------------------------------------


def test_revise_targets_replaces_the_targets_sorted_by_date(define_benchmark):
    benchmark = define_benchmark()

    benchmark.revise_targets(
        [{"value": 70, "date": FINAL}, {"value": 35, "date": MID_TERM, "label": "mid-term"}],
        reason="Mid-term review.",
        principal="pmt",
    )

    assert benchmark.targets == [
        {"value": 35.0, "date": MID_TERM, "label": "mid-term"},
        {"value": 70.0, "date": FINAL, "label": None},
    ]
    assert event_names(benchmark) == ["Defined", "TargetsRevised"]


@pytest.mark.parametrize("reason", ["", "\t"], ids=repr)
def test_revise_targets_needs_a_reason(define_benchmark, reason):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.revise_targets([{"value": 70, "date": FINAL}], reason=reason, principal="pmt")

    assert problem_paths(caught.value) == [("reason",)]


def test_revise_targets_checks_every_target(define_benchmark):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.revise_targets(
            [{"value": 101, "date": MID_TERM}, {"value": 70, "date": BASELINE_DATE}, {"value": 80, "date": MID_TERM}],
            reason="Mid-term review.",
            principal="pmt",
        )

    assert problem_paths(caught.value) == [("targets", 0, "value"), ("targets", 1, "date"), ("targets", 2, "date")]


def test_revise_targets_needs_at_least_one_target(define_benchmark):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.revise_targets([], reason="Mid-term review.", principal="pmt")

    assert problem_paths(caught.value) == [("targets",)]


def test_a_retired_benchmark_takes_no_target_revision(define_benchmark):
    benchmark = define_benchmark()
    benchmark.retire(reason="Superseded.", principal="pmt")

    with pytest.raises(ConflictError):
        benchmark.revise_targets([{"value": 70, "date": FINAL}], reason="Mid-term review.", principal="pmt")


# --- retire -----------------------------------------------------------------------


def test_retire_marks_the_benchmark_retired(define_benchmark):
    benchmark = define_benchmark()

    benchmark.retire(reason="Superseded by CA1-B.", principal="pmt")

    assert benchmark.retired is True
    assert event_names(benchmark) == ["Defined", "Retired"]


def test_retire_needs_a_reason(define_benchmark):
    benchmark = define_benchmark()

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.retire(reason=" ", principal="pmt")

    assert problem_paths(caught.value) == [("reason",)]
    assert benchmark.retired is False


def test_a_benchmark_cannot_be_retired_twice(define_benchmark):
    benchmark = define_benchmark()
    benchmark.retire(reason="Superseded.", principal="pmt")

    with pytest.raises(ConflictError):
        benchmark.retire(reason="Again.", principal="pmt")

    assert event_names(benchmark) == ["Defined", "Retired"]


# --- check_accepts ----------------------------------------------------------------


def test_a_benchmark_accepts_the_disaggregations_it_names(define_benchmark):
    define_benchmark(disaggregations=[Dimension.SEX]).check_accepts("sex", ("dimension",))


def test_a_benchmark_refuses_a_disaggregation_it_does_not_name_at_the_given_path(define_benchmark):
    benchmark = define_benchmark(disaggregations=[Dimension.SEX])

    with pytest.raises(InvalidCommandError) as caught:
        benchmark.check_accepts("disability", ("disaggregations", 3, "dimension"))

    assert problem_paths(caught.value) == [("disaggregations", 3, "dimension")]


# --- history ----------------------------------------------------------------------


def test_replaying_the_events_of_a_benchmark_rebuilds_its_state(define_benchmark):
    benchmark = define_benchmark(Measure.ORDINAL)
    benchmark.revise_baseline({"value": 1, "date": date(2017, 3, 31)}, reason="New survey.", principal="pmt")
    benchmark.revise_targets([{"value": 2, "date": MID_TERM}], reason="Mid-term review.", principal="pmt")
    benchmark.retire(reason="Superseded.", principal="pmt")
    events = benchmark.collect_events()

    replayed: Benchmark | None = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert [type(e).__name__ for e in events] == ["Defined", "BaselineRevised", "TargetsRevised", "Retired"]
    assert replayed is not None
    assert vars(replayed) == vars(benchmark)
    assert replayed.version == 4
