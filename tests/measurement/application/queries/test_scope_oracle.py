"""Dated scope against a tiny independent model (issue 11, point 4).

Hypothesis generates histories of selections, deselections and
observations of three countries. The model reads the log's scope events
and says a country is in scope at D as known at P when, among its decisions
recorded up to P, the one taking effect last on or before D (in valid-date
order, then log order) is a selection. For every history:
- an observation is recorded exactly when the model has its country in scope
  at its valid date as known then (else it is refused with a 422);
- at every (D, P) the service's benchmark state combines exactly the
  countries the model has in scope, and counts them as selected;
- appending scope events never changes an answer at an earlier position."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pycountry
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.access import Principal
from services.common.errors import ConflictError, InvalidCommandError, NotFoundError
from services.measurement.application.commands import Measurement
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Period
from tests.measurement.application.queries.test_progress_oracle import _define, _log
from tests.support import criteria

# Each example uses three countries no other example used: the scope is the programme's, shared by examples.
_COUNTRIES = iter(sorted(c.alpha_3 for c in pycountry.countries))
_example = itertools.count()
OFFICE = Principal.office("scope-oracle", (c.alpha_3 for c in pycountry.countries))

DECISION_DATES = [date(2017, 1, 1), date(2018, 1, 1), date(2019, 4, 1), date(2019, 7, 1), date(2020, 1, 1)]
PERIODS = ["2017-Q4", "2018", "2019-Q2", "2019-Q3", "2020-Q1", "2021"]
AS_OF = [date(2017, 12, 31), date(2019, 3, 31), date(2019, 6, 30), date(2019, 9, 30), date(2021, 12, 31)]

operation = st.one_of(
    st.tuples(st.just("select"), st.integers(0, 2), st.sampled_from(DECISION_DATES)),
    st.tuples(st.just("deselect"), st.integers(0, 2), st.sampled_from(DECISION_DATES)),
    st.tuples(st.just("record"), st.integers(0, 2), st.sampled_from(PERIODS), st.integers(0, 100)),
)


def in_scope(events: list[dict[str, Any]], country: str, day: date, position: int) -> bool:
    """The model: the decision taking effect last on or before `day`, among those known at `position`."""
    decisions = [
        (date.fromisoformat(e["data"]["valid_from"]), e["position"], e["type"].endswith("Selected"))
        for e in events
        if e["position"] <= position
        and e["type"] in ("ProgrammeScope.CountrySelected", "ProgrammeScope.CountryDeselected")
        and e["data"]["iso3"] == country
    ]
    in_effect = [decision for decision in decisions if decision[0] <= day]
    return bool(in_effect) and max(in_effect)[2]


def _apply(client: TestClient, measurement: Measurement, code: str, countries: list[str], op: tuple[Any, ...]) -> None:
    """Applies one operation; a refused one records nothing. An observation
    is refused exactly when the model has its country out of scope then."""
    kind, country = op[0], countries[op[1]]
    try:
        if kind == "select":
            measurement.select_country(country, IloRegion.AFRICA, criteria(), "oracle", op[2])
        elif kind == "deselect":
            measurement.deselect_country(country, op[2], "test", "oracle")
        else:
            events = _log(client)
            expected = in_scope(events, country, Period.parse(op[2]).valid_date, events[-1]["position"])
            try:
                measurement.record_observation(
                    benchmark=code,
                    country=country,
                    sector=None,
                    period=op[2],
                    value=op[3],
                    disaggregations=[],
                    evidence=[],
                    comment=None,
                    actor=OFFICE,
                )
            except InvalidCommandError as error:
                assert not expected, error.detail
                assert [problem.path for problem in error.problems] == [("country",)], error.problems
            else:
                assert expected, f"{country} {op[2]} was recorded out of scope"
    except (ConflictError, NotFoundError, InvalidCommandError):
        assert kind != "record"  # a scope decision the rules refuse: nothing recorded


def _states(client: TestClient, code: str, positions: range) -> dict[tuple[date, int], dict[str, Any]]:
    answers = {}
    for as_of, position in itertools.product(AS_OF, positions):
        response = client.get(f"/benchmarks/{code}/state", params={"as_of": as_of.isoformat(), "at": position})
        assert response.status_code == 200, response.text
        answers[(as_of, position)] = response.json()
    return answers


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(history=st.lists(operation, min_size=3, max_size=14), later=st.lists(operation, min_size=1, max_size=6))
def test_the_scope_in_force_agrees_with_a_tiny_model_and_never_changes_an_earlier_answer(
    client: TestClient, measurement: Measurement, history: list[tuple[Any, ...]], later: list[tuple[Any, ...]]
) -> None:
    code = f"SCOPE-ORACLE-{next(_example)}"
    countries = [next(_COUNTRIES) for _ in range(3)]
    _define(measurement, code, Combination.SUM, ascending=True)
    start = _log(client)[-1]["position"]
    for op in history:
        _apply(client, measurement, code, countries, op)
    head = _log(client)[-1]["position"]
    before = _states(client, code, range(start, head + 1))

    for op in later:
        _apply(client, measurement, code, countries, op)
    events = _log(client)

    assert _states(client, code, range(start, head + 1)) == before
    # Earlier examples' countries too: the count of countries selected is the programme's.
    every_country = {e["data"]["iso3"] for e in events if e["type"] == "ProgrammeScope.CountrySelected"}
    for (as_of, position), state in _states(client, code, range(start, events[-1]["position"] + 1)).items():
        admitted = {country for country in countries if in_scope(events, country, as_of, position)}
        assert {cell["country"] for cell in state["countries"]} <= admitted, (as_of, position)
        # Every country in scope with a value by as_of is combined.
        recorded = {
            e["data"]["country"]
            for e in events
            if e["position"] <= position
            and e["type"] == "Observation.Recorded"
            and e["data"]["benchmark"] == code
            and date.fromisoformat(e["data"]["period_end"]) <= as_of
        }
        assert {cell["country"] for cell in state["countries"]} == recorded & admitted, (as_of, position)
        assert state["combined"] == (sum(cell["value"] for cell in state["countries"]) if state["countries"] else None)
        assert state["countries_selected"] == sum(in_scope(events, c, as_of, position) for c in every_country)
