"""The as-of query against a deliberately naive oracle.

Hypothesis generates histories (benchmarks, countries, sectors, observations
with corrections, retractions, backdated and late submissions, target
revisions); for random (valid date D, log position P) the API's benchmark
state must equal a pure-Python replay of the log's events up to P. Two
properties hold for every history: a correction that repeats an
observation's value changes no answer, and no answer pinned to a position
changes when events are appended."""

from __future__ import annotations

import contextlib
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
from services.measurement.application.queries import catalogue
from services.measurement.domain.progress import BenchmarkSpec, CountryValue, assess
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Measure
from services.measurement.entrypoints.http.schemas.progress import FIGURE_DECIMALS
from tests.support import criteria

ORACLE_OFFICE = Principal.office("oracle", (c.alpha_3 for c in pycountry.countries))

COUNTRIES = ("BGD", "VNM", "ETH")
# None: an observation for no sector (its cell's sector is empty).
SECTORS = (None, "garments", "electronics")
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
    st.sampled_from(SECTORS),
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


def _apply(
    measurement: Measurement, codes: list[str], ops: list[tuple[Any, ...]], observations: list[UUID] | None = None
) -> list[UUID]:
    """Applies the operations; returns the observations recorded (after
    `observations`, those recorded before, which corrections may pick too)."""
    observations = [] if observations is None else observations
    for op in ops:
        try:
            if op[0] == "select":
                measurement.select_country(op[1], IloRegion.ASIA_PACIFIC, criteria(), "oracle")
            elif op[0] == "record":
                _, which, country, period, value, sector = op
                observations.append(
                    measurement.record_observation(
                        benchmark=codes[which],
                        country=country,
                        sector=sector,
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
    return observations


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
        # Answers give the combined figure to its declared precision.
        "combined": round(assessment.combined, FIGURE_DECIMALS)
        if isinstance(assessment.combined, float)
        else assessment.combined,
        "status": assessment.status.value,
        "countries": [(v.country, v.sector or None, v.valid_date.isoformat(), v.value, v.known_at) for v in values],
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
                "sector": data["sector"] or "",
                "valid_date": date.fromisoformat(data["period_end"]),
                "value": data["value"],
                "learned": event["position"],
                "first": event["position"],
                "retracted": False,
            }
        elif kind == "Observation.Corrected" and event["stream_id"] in observations:
            observations[event["stream_id"]].update(value=data["value"], learned=event["position"])
        elif kind == "Observation.Retracted" and event["stream_id"] in observations:
            observations[event["stream_id"]]["retracted"] = True
    return definition, selected, observations


def _in_force(observations: dict[str, dict[str, Any]], as_of: date) -> list[CountryValue]:
    """Per cell (country, sector), the latest valid observation by `as_of`;
    among those for the same valid date, the one first recorded last."""
    in_force: dict[tuple[str, str], dict[str, Any]] = {}
    for observation in observations.values():
        if observation["retracted"] or observation["valid_date"] > as_of:
            continue
        cell = (observation["country"], observation["sector"])
        current = in_force.get(cell)
        if current is None or (observation["valid_date"], observation["first"]) > (
            current["valid_date"],
            current["first"],
        ):
            in_force[cell] = observation
    return [
        CountryValue(
            country=country,
            sector=sector,
            valid_date=o["valid_date"],
            value=o["value"],
            known_at=o["learned"],
            first_recorded=o["first"],
        )
        for (country, sector), o in sorted(in_force.items())
    ]


def _start(measurement: Measurement, combination: Combination, ascending: bool) -> list[str]:
    """Two fresh benchmarks (the first by `combination`), two countries and two sectors."""
    example = next(_example)
    codes = [f"ORACLE-{example}-A", f"ORACLE-{example}-B"]
    _define(measurement, codes[0], combination, ascending)
    _define(measurement, codes[1], Combination.MEAN, not ascending)
    for sector in SECTORS[1:]:
        with contextlib.suppress(ConflictError):  # selected by an earlier example
            measurement.select_sector(sector, sector, "oracle", "oracle")
    return codes


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
        st.sampled_from(VALID_DATES) | st.dates(date(2017, 1, 1), date(2022, 6, 30)), min_size=1, max_size=2
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
    codes = _start(measurement, combination, ascending)
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
            "countries": [
                (c["country"], c["sector"], c["valid_date"], c["value"], c["known_at"]) for c in state["countries"]
            ],
            "countries_selected": state["countries_selected"],
            "freshest": state["freshest"],
            "target": None if state["target"] is None else state["target"]["value"],
        }
        assert actual == expected, f"as_of={as_of} at={position}"


def _answers(client: TestClient, codes: list[str], positions: range) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every state of the benchmarks at every valid date of VALID_DATES and
    every one of `positions`, as facts: without the bookkeeping of which
    version of a value is in force (`known_at`) and of the position asked."""
    answers = {}
    for code, as_of, position in itertools.product(codes, VALID_DATES, positions):
        response = client.get(f"/benchmarks/{code}/state", params={"as_of": as_of.isoformat(), "at": position})
        assert response.status_code in (200, 404), response.text
        state = response.json()
        if response.status_code == 200:
            state.pop("position")
            for cell in state["countries"]:
                cell.pop("known_at")
        answers[(code, as_of, position)] = state
    return answers


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    history=st.lists(st.one_of(record, other_operation), min_size=2, max_size=12),
    later=st.lists(st.one_of(record, other_operation), max_size=6),
    repeated=st.lists(st.integers(0, 50), min_size=1, max_size=3),
    combination=st.sampled_from(list(Combination)),
)
def test_no_op_corrections_and_appended_events_change_no_earlier_answer(
    client: TestClient,
    measurement: Measurement,
    history: list[tuple[Any, ...]],
    later: list[tuple[Any, ...]],
    repeated: list[int],
    combination: Combination,
) -> None:
    codes = _start(measurement, combination, True)
    observations = _apply(measurement, codes, [("select", "BGD"), ("select", "VNM"), *history])
    first = measurement.event_log.max_notification_id() or 0
    head = first
    before = _answers(client, codes, range(first - 3, head + 1))

    # Corrections that repeat the value in force: the answer at the new head
    # is the answer at the old one, at every valid date.
    for pick in repeated:
        live = [found for o in observations if (found := catalogue.observation(measurement.database, o))]
        live = [o for o in live if o["status"] != "retracted"]
        if not live:
            break
        target, value = live[pick % len(live)]["id"], live[pick % len(live)]["value"]
        measurement.correct_observation(
            target, value=value, disaggregations=None, reason="no-op", actor=ORACLE_OFFICE, based_on=[]
        )
    after_no_ops = measurement.event_log.max_notification_id() or 0
    at_head = {(code, as_of, after_no_ops): answer for (code, as_of, at), answer in before.items() if at == head}
    assert _answers(client, codes, range(after_no_ops, after_no_ops + 1)) == at_head

    # Whatever is appended next, every answer pinned to an earlier position stays.
    _apply(measurement, codes, later, observations)
    assert _answers(client, codes, range(first - 3, head + 1)) == before
