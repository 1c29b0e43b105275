from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from services.common.errors import ConflictError, DomainError, FieldPath, InvalidCommandError
from services.measurement.domain.observations import Observation
from services.measurement.domain.values import Dimension, Measure

PRINCIPAL = "co-hanoi@ilo.org"


def problem_paths(error: DomainError) -> list[FieldPath]:
    return [problem.path for problem in error.problems]


def event_names(observation: Observation) -> list[str]:
    return [type(e).__name__ for e in observation.collect_events()]


def by_sex(female: object, male: object) -> list[dict[str, object]]:
    return [
        {"dimension": "sex", "category": "female", "value": female},
        {"dimension": "sex", "category": "male", "value": male},
    ]


@pytest.fixture
def benchmark(define_benchmark):
    """A percentage benchmark disaggregated by sex."""
    return define_benchmark(Measure.PERCENTAGE, disaggregations=[Dimension.SEX])


@pytest.fixture
def observation(record_observation: Callable[..., Observation], benchmark: object) -> Observation:
    return record_observation(benchmark, value=40, disaggregations=by_sex(35, 45))


def refused_record(record_observation, benchmark, **overrides) -> list[FieldPath]:
    with pytest.raises(InvalidCommandError) as caught:
        record_observation(benchmark, **overrides)
    return problem_paths(caught.value)


# --- record -----------------------------------------------------------------------


@pytest.mark.parametrize("measure", list(Measure))
def test_record_accepts_a_value_of_the_benchmarks_measure(define_benchmark, record_observation, measure):
    benchmark = define_benchmark(measure)

    observation = record_observation(benchmark)

    assert observation.benchmark == benchmark.code
    assert observation.assumption == benchmark.assumption
    assert observation.retracted is False


def test_record_records_one_recorded_event_on_the_observation_id(record_observation, benchmark):
    observation_id = uuid4()

    observation = record_observation(benchmark, observation_id=observation_id)

    assert observation.id == observation_id
    assert event_names(observation) == ["Recorded"]


def test_record_keeps_the_period_label_and_its_dates(record_observation, benchmark):
    observation = record_observation(benchmark, period="2019-Q2")

    assert (observation.period, observation.period_start, observation.period_end) == (
        "2019-Q2",
        date(2019, 4, 1),
        date(2019, 6, 30),
    )


def test_record_stores_the_value_in_its_canonical_type(define_benchmark, record_observation):
    observation = record_observation(define_benchmark(Measure.UNIT), value=12.0)

    assert observation.value == 12
    assert type(observation.value) is int


def test_record_accepts_an_observation_without_a_sector(record_observation, benchmark):
    assert record_observation(benchmark, sector=None).sector is None


def test_record_refuses_a_country_outside_the_programme(record_observation, benchmark):
    assert refused_record(record_observation, benchmark, country="BGD") == [("country",)]


def test_record_refuses_a_sector_outside_the_programme(record_observation, benchmark):
    assert refused_record(record_observation, benchmark, sector="tourism") == [("sector",)]


@pytest.mark.parametrize("measure, value", [(Measure.PERCENTAGE, 140), (Measure.UNIT, -2), (Measure.ORDINAL, "all")])
def test_record_checks_the_value_against_the_benchmarks_measure(define_benchmark, record_observation, measure, value):
    assert refused_record(record_observation, define_benchmark(measure), value=value) == [("value",)]


def test_record_reports_every_broken_rule_at_once(record_observation, benchmark):
    paths = refused_record(
        record_observation,
        benchmark,
        country="BGD",
        sector="tourism",
        value=-1,
        disaggregations=[{"dimension": "disability", "category": "yes", "value": 10}],
    )

    assert paths == [("country",), ("sector",), ("value",), ("disaggregations", 0, "dimension")]


def test_record_refuses_an_observation_of_a_retired_benchmark(record_observation, benchmark):
    benchmark.retire(reason="Superseded.", principal="pmt")

    with pytest.raises(ConflictError):
        record_observation(benchmark)


# --- record: disaggregations ------------------------------------------------------


def test_record_keeps_disaggregated_values_in_their_canonical_type(record_observation, benchmark):
    observation = record_observation(benchmark, disaggregations=by_sex(35, 45))

    assert observation.disaggregations == [
        {"dimension": "sex", "category": "female", "value": 35.0},
        {"dimension": "sex", "category": "male", "value": 45.0},
    ]


def test_record_refuses_a_dimension_the_benchmark_does_not_accept(record_observation, benchmark):
    disaggregations = [*by_sex(35, 45), {"dimension": "ethnicity", "category": "kinh", "value": 40}]

    assert refused_record(record_observation, benchmark, disaggregations=disaggregations) == [
        ("disaggregations", 2, "dimension")
    ]


def test_record_checks_disaggregated_values_against_the_measure(record_observation, benchmark):
    assert refused_record(record_observation, benchmark, disaggregations=by_sex(35, 145)) == [
        ("disaggregations", 1, "value")
    ]


def test_record_refuses_a_dimension_and_category_given_twice(record_observation, benchmark):
    disaggregations = [*by_sex(35, 45), {"dimension": "sex", "category": "female", "value": 36}]

    assert refused_record(record_observation, benchmark, disaggregations=disaggregations) == [
        ("disaggregations", 2, "category")
    ]


# --- correct ----------------------------------------------------------------------


def test_correct_replaces_the_value(observation, benchmark):
    observation.correct(benchmark=benchmark, value=42, disaggregations=None, reason="Typo.", principal=PRINCIPAL)

    assert observation.value == 42.0
    assert event_names(observation) == ["Recorded", "Corrected"]


def test_correct_keeps_the_disaggregations_when_none_are_given(observation, benchmark):
    before = observation.disaggregations

    observation.correct(benchmark=benchmark, value=42, disaggregations=None, reason="Typo.", principal=PRINCIPAL)

    assert observation.disaggregations == before


def test_correct_replaces_the_disaggregations_when_given(observation, benchmark):
    observation.correct(
        benchmark=benchmark, value=42, disaggregations=by_sex(37, 47), reason="Typo.", principal=PRINCIPAL
    )

    assert [d["value"] for d in observation.disaggregations] == [37.0, 47.0]


def test_correct_with_an_empty_list_clears_the_disaggregations(observation, benchmark):
    observation.correct(benchmark=benchmark, value=42, disaggregations=[], reason="Not by sex.", principal=PRINCIPAL)

    assert observation.disaggregations == []


def test_correct_checks_the_new_value(observation, benchmark):
    with pytest.raises(InvalidCommandError) as caught:
        observation.correct(benchmark=benchmark, value=-3, disaggregations=None, reason="Typo.", principal=PRINCIPAL)

    assert problem_paths(caught.value) == [("value",)]
    assert observation.value == 40.0


def test_correct_checks_the_new_disaggregations(observation, benchmark):
    with pytest.raises(InvalidCommandError) as caught:
        observation.correct(
            benchmark=benchmark,
            value=42,
            disaggregations=[{"dimension": "disability", "category": "yes", "value": 5}],
            reason="Typo.",
            principal=PRINCIPAL,
        )

    assert problem_paths(caught.value) == [("disaggregations", 0, "dimension")]


@pytest.mark.parametrize("reason", ["", "  "], ids=repr)
def test_correct_needs_a_reason(observation, benchmark, reason):
    with pytest.raises(InvalidCommandError) as caught:
        observation.correct(benchmark=benchmark, value=42, disaggregations=None, reason=reason, principal=PRINCIPAL)

    assert problem_paths(caught.value) == [("reason",)]


def test_a_refused_correction_records_no_event(observation, benchmark):
    with pytest.raises(InvalidCommandError):
        observation.correct(benchmark=benchmark, value=-3, disaggregations=None, reason="Typo.", principal=PRINCIPAL)

    assert event_names(observation) == ["Recorded"]


def test_a_retracted_observation_cannot_be_corrected(observation, benchmark):
    observation.retract(reason="Wrong country.", principal=PRINCIPAL)

    with pytest.raises(ConflictError):
        observation.correct(benchmark=benchmark, value=42, disaggregations=None, reason="Typo.", principal=PRINCIPAL)


def test_correct_refuses_a_benchmark_other_than_the_observations_own(observation, define_benchmark):
    other = define_benchmark(Measure.QUALITATIVE, code="CA2-NAP", disaggregations=[Dimension.SEX])

    with pytest.raises(DomainError):
        observation.correct(
            benchmark=other, value="Much better.", disaggregations=None, reason="Typo.", principal=PRINCIPAL
        )


# --- retract ----------------------------------------------------------------------


def test_retract_marks_the_observation_retracted(observation):
    observation.retract(reason="Recorded for the wrong country.", principal=PRINCIPAL)

    assert observation.retracted is True
    assert event_names(observation) == ["Recorded", "Retracted"]


@pytest.mark.parametrize("reason", ["", "\n"], ids=repr)
def test_retract_needs_a_reason(observation, reason):
    with pytest.raises(InvalidCommandError) as caught:
        observation.retract(reason=reason, principal=PRINCIPAL)

    assert problem_paths(caught.value) == [("reason",)]
    assert observation.retracted is False


def test_a_retracted_observation_cannot_be_retracted_again(observation):
    observation.retract(reason="Wrong country.", principal=PRINCIPAL)

    with pytest.raises(ConflictError):
        observation.retract(reason="Again.", principal=PRINCIPAL)

    assert event_names(observation) == ["Recorded", "Retracted"]


# --- history ----------------------------------------------------------------------


def test_replaying_the_events_of_an_observation_rebuilds_its_state(observation, benchmark):
    observation.correct(
        benchmark=benchmark, value=42, disaggregations=by_sex(38, 46), reason="Re-weighted.", principal=PRINCIPAL
    )
    observation.retract(reason="Wrong country.", principal=PRINCIPAL)
    events = observation.collect_events()

    replayed: Observation | None = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert [type(e).__name__ for e in events] == ["Recorded", "Corrected", "Retracted"]
    assert vars(replayed) == vars(observation)


# --- recorded: the event alone, for bulk imports ------------------------------------


def _without_timestamp(event: object) -> dict[str, Any]:
    return {k: v for k, v in vars(event).items() if k != "timestamp"}


@pytest.mark.parametrize("measure", list(Measure))
def test_recorded_gives_the_event_record_would_save(define_benchmark, observation_kwargs, measure):
    kwargs = observation_kwargs(define_benchmark(measure))

    (saved,) = Observation.record(**kwargs).collect_events()
    alone = Observation.recorded(**kwargs)

    assert type(alone) is type(saved)
    assert _without_timestamp(alone) == _without_timestamp(saved)
    rebuilt: Observation | None = alone.mutate(None)  # as a repository would rebuild it from the log
    assert rebuilt is not None
    assert (rebuilt.id, rebuilt.version, rebuilt.value, rebuilt.period) == (
        kwargs["observation_id"],
        1,
        saved.value,
        saved.period,
    )


def test_recorded_refuses_what_record_refuses(observation_kwargs, benchmark):
    kwargs = observation_kwargs(benchmark, period="2019-Q5", value=140, disaggregations=by_sex(35, "x"))

    refusals = []
    for build in (Observation.record, Observation.recorded):
        with pytest.raises(InvalidCommandError) as caught:
            build(**kwargs)
        refusals.append(problem_paths(caught.value))

    assert refusals[0] == refusals[1] and len(refusals[0]) == 3
