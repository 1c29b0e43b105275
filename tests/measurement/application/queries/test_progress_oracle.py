"""The as-of query against a deliberately naive oracle.

Hypothesis generates histories (benchmarks, countries, observations with
corrections, retractions, backdated and late submissions, target revisions);
for random (valid date D, log position P) the API's benchmark state must equal
a pure-Python replay of the log's events up to P."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any
from uuid import UUID

import pycountry
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.access import Principal
from services.common.errors import ConflictError
from services.measurement.application.commands import Measurement
from services.measurement.domain.progress import BenchmarkSpec, CountryValue, assess
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Measure
from tests.support import criteria

ORACLE_OFFICE = Principal.office("oracle", (c.alpha_3 for c in pycountry.countries))

COUNTRIES = ("BGD", "VNM", "ETH")
# Few periods, so that several observations of a country often share a valid date.
PERIODS = ["2017-Q4", "2018-06-15", "2018-Q2", "2019", "2019-Q3", "2020-Q1", "2021-Q4"]
VALID_DATES = [
    date(2017, 12, 30),
    date(2017, 12, 31),
    date(2018, 6, 29),
    date(2018, 6, 30),
    date(2019, 9, 30),
    date(2019, 12, 31),
    date(2020, 3, 31),
    date(2021, 6, 30),
    date(2022, 1, 1),
]
_example = itertools.count()

record = st.tuples(
    st.just("record"),
    st.sampled_from([0, 1]),
    st.sampled_from(COUNTRIES),
    st.sampled_from(PERIODS),
    st.integers(0, 100),
)
other_operation = st.one_of(
    st.tuples(st.just("correct"), st.integers(0, 50), st.integers(0, 100)),
    st.tuples(st.just("retract"), st.integers(0, 50)),
    st.tuples(st.just("revise_targets"), st.sampled_from([0, 1]), st.integers(1, 100)),
    st.tuples(st.just("select"), st.just("ETH")),
)


def _define(measurement: Measurement, code: str, combination: Combination, ascending: bool) -> None:
    measurement.define_benchmark(
        code=code,
        assumption="CA2",
        title=code,
        description="",
        measure=Measure.PERCENTAGE,
        ascending=ascending,
        unit_label=None,
        levels=[],
        baseline={"value": 50, "date": date(2017, 1, 1)},
        targets=[
            {"value": 70 if ascending else 30, "date": date(2019, 12, 31), "label": "mid"},
            {"value": 90 if ascending else 10, "date": date(2021, 12, 31), "label": "final"},
        ],
        combination=combination,
        threshold=60 if combination is Combination.COUNT_MEETING_THRESHOLD else None,
        disaggregations=[],
        deliverables=[],
        pb_indicators=[],
        principal="oracle",
    )


def _apply(measurement: Measurement, codes: list[str], ops: list[tuple[Any, ...]]) -> None:
    observations: list[UUID] = []
    for op in ops:
        try:
            if op[0] == "select":
                measurement.select_country(op[1], IloRegion.ASIA_PACIFIC, criteria(), "oracle")
            elif op[0] == "record":
                _, which, country, period, value = op
                observations.append(
                    measurement.record_observation(
                        benchmark=codes[which],
                        country=country,
                        sector=None,
                        period=period,
                        value=value,
                        disaggregations=[],
                        evidence=[],
                        comment=None,
                        actor=ORACLE_OFFICE,
                    )["id"]
                )
            elif op[0] == "correct" and observations:
                target = observations[op[1] % len(observations)]
                measurement.correct_observation(
                    target, value=op[2], disaggregations=None, reason="r", actor=ORACLE_OFFICE, based_on=[]
                )
            elif op[0] == "retract" and observations:
                measurement.retract_observation(
                    observations[op[1] % len(observations)], reason="r", actor=ORACLE_OFFICE, based_on=[]
                )
            elif op[0] == "revise_targets":
                _, which, value = op
                measurement.revise_targets(
                    codes[which], [{"value": value, "date": date(2021, 12, 31), "label": "final"}], "r", "o"
                )
        except ConflictError:
            pass  # a country selected twice, a retracted observation corrected: refused, nothing recorded
        except Exception as error:  # a country not yet selected: refused as invalid, nothing recorded
            if type(error).__name__ != "InvalidCommandError":
                raise


def _log(client: TestClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get("/log", params={"after": after, "limit": 1000}).json()
        events += page["events"]
        if not page["events"]:
            return events
        after = page["next_after"]


def _oracle(events: list[dict[str, Any]], code: str, as_of: date, position: int) -> dict[str, Any] | None:
    """Replays the log naively: every event up to `position`, in order."""
    definition, selected, observations = _replay(events, code, position)
    if definition is None:
        return None
    values = _in_force(observations, as_of)
    assessment = assess(BenchmarkSpec.from_state(definition), values, as_of)
    return {
        "combined": assessment.combined,
        "status": assessment.status.value,
        "countries": [(v.country, v.valid_date.isoformat(), v.value, v.known_at) for v in values],
        "countries_selected": len(selected),
        "freshest": None if assessment.freshest is None else assessment.freshest.isoformat(),
        "target": None if assessment.target is None else assessment.target[1],
    }


def _replay(
    events: list[dict[str, Any]], code: str, position: int
) -> tuple[dict[str, Any] | None, set[str], dict[str, dict[str, Any]]]:
    """The benchmark's definition, the selected countries and the observations of it, as of `position`."""
    definition: dict[str, Any] | None = None
    benchmark_stream = None
    selected: set[str] = set()
    observations: dict[str, dict[str, Any]] = {}
    for event in events:
        if event["position"] > position:
            break
        data, kind = event["data"], event["type"]
        if kind == "Benchmark.Defined" and data["code"] == code:
            definition, benchmark_stream = dict(data), event["stream_id"]
        elif event["stream_id"] == benchmark_stream and kind == "Benchmark.TargetsRevised":
            assert definition is not None
            definition["targets"] = data["targets"]
        elif kind == "ProgrammeScope.CountrySelected":
            selected.add(data["iso3"])
        elif kind == "Observation.Recorded" and data["benchmark"] == code:
            observations[event["stream_id"]] = {
                "country": data["country"],
                "valid_date": date.fromisoformat(data["period_end"]),
                "value": data["value"],
                "learned": event["position"],
                "retracted": False,
            }
        elif kind == "Observation.Corrected" and event["stream_id"] in observations:
            observations[event["stream_id"]].update(value=data["value"], learned=event["position"])
        elif kind == "Observation.Retracted" and event["stream_id"] in observations:
            observations[event["stream_id"]]["retracted"] = True
    return definition, selected, observations


def _in_force(observations: dict[str, dict[str, Any]], as_of: date) -> list[CountryValue]:
    """Per country, the latest valid observation by `as_of` (the last learned among equals)."""
    in_force: dict[str, dict[str, Any]] = {}
    for observation in observations.values():
        if observation["retracted"] or observation["valid_date"] > as_of:
            continue
        current = in_force.get(observation["country"])
        rank = (observation["valid_date"], observation["learned"])
        if current is None or rank > (current["valid_date"], current["learned"]):
            in_force[observation["country"]] = observation
    return [
        CountryValue(country=c, valid_date=o["valid_date"], value=o["value"], known_at=o["learned"])
        for c, o in sorted(in_force.items())
    ]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    history=st.tuples(st.lists(record, min_size=2, max_size=16), st.lists(other_operation, max_size=14)).flatmap(
        lambda parts: st.permutations([*parts[0], *parts[1]])
    ),
    combination=st.sampled_from(
        [Combination.MEAN, Combination.SUM, Combination.COUNT_MEETING_THRESHOLD, Combination.LATEST]
    ),
    ascending=st.booleans(),
    as_of_dates=st.lists(
        st.sampled_from(VALID_DATES) | st.dates(date(2016, 6, 1), date(2022, 6, 30)), min_size=1, max_size=2
    ),
)
def test_benchmark_state_equals_a_naive_replay_of_the_log(
    client: TestClient,
    measurement: Measurement,
    history: list[tuple[Any, ...]],
    combination: Combination,
    ascending: bool,
    as_of_dates: list[date],
) -> None:
    example = next(_example)
    codes = [f"ORACLE-{example}-A", f"ORACLE-{example}-B"]
    _define(measurement, codes[0], combination, ascending)
    _define(measurement, codes[1], Combination.MEAN, not ascending)
    _apply(measurement, codes, [("select", "BGD"), ("select", "VNM"), *history])
    events = _log(client)
    head = events[-1]["position"]
    first = next(e["position"] for e in events if e["type"] == "Benchmark.Defined" and e["data"]["code"] == codes[0])
    # Every position of this history, and the one before it (not yet defined).
    for as_of, position, which in itertools.product(as_of_dates, range(first - 1, head + 1), (0, 1)):
        expected = _oracle(events, codes[which], as_of, position)
        response = client.get(f"/benchmarks/{codes[which]}/state", params={"as_of": as_of.isoformat(), "at": position})
        if expected is None:
            assert response.status_code == 404, response.text
            continue
        assert response.status_code == 200, response.text
        state = response.json()
        assert state["position"] == position
        actual = {
            "combined": state["combined"],
            "status": state["status"],
            "countries": [(c["country"], c["valid_date"], c["value"], c["known_at"]) for c in state["countries"]],
            "countries_selected": state["countries_selected"],
            "freshest": state["freshest"],
            "target": None if state["target"] is None else state["target"]["value"],
        }
        assert actual == expected, f"as_of={as_of} at={position}"
