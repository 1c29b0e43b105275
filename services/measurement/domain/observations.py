"""Observations: one value of one benchmark for one country, or for the
international level (no country), and optionally one sector, over one
period. One stream per observation, so recording never
loads or grows a large aggregate; corrections and retractions are new events
on that stream."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict, Unpack
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from services.common.errors import ConflictError, ErrorCollector, InvalidCommandError
from services.measurement.domain.benchmarks import Benchmark, Level, check_reason
from services.measurement.domain.scope import ProgrammeScope
from services.measurement.domain.values import Period, Value, check_value

Disaggregation = dict[str, Any]  # {"dimension": str, "category": str, "value": Value}
Evidence = dict[str, Any]  # {"title": str, "url": str}


def check_disaggregations(
    benchmark: Benchmark, disaggregations: Sequence[Disaggregation], errors: ErrorCollector
) -> list[Disaggregation]:
    checked: list[Disaggregation] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(disaggregations):
        path = ("disaggregations", index)
        try:
            benchmark.check_accepts(item["dimension"], (*path, "dimension"))
            value = check_value(benchmark.measure, benchmark.levels, item["value"], (*path, "value"))
        except InvalidCommandError as error:
            errors.extend(error)
            continue
        key = (item["dimension"], item["category"])
        if key in seen:
            errors.add((*path, "category"), f"{key[0]}={key[1]!r} is given twice.")
        seen.add(key)
        checked.append({"dimension": item["dimension"], "category": item["category"], "value": value})
    return checked


class Recording(TypedDict):
    """What recording an observation takes (`Observation.record`, `.recorded`)."""

    observation_id: UUID
    benchmark: Benchmark
    scope: ProgrammeScope
    country: str | None
    sector: str | None
    period: str
    value: Any
    disaggregations: Sequence[Disaggregation]
    evidence: Sequence[Evidence]
    comment: str | None
    principal: str


class CheckedRecording(TypedDict):
    """The attributes of a `Recorded` event but its id, once checked."""

    benchmark: str
    assumption: str
    country: str | None
    sector: str | None
    period: str
    period_start: date
    period_end: date
    value: Value
    disaggregations: list[Disaggregation]
    evidence: list[Evidence]
    comment: str | None
    principal: str


class Observation(Aggregate):
    # Each event's class name and attributes are stored (topic and state):
    # renaming or moving one needs a registered old topic or an upcaster.
    # @dataclass shows type checkers the constructor that eventsourcing's
    # metaclass gives every event anyway (it skips a second dataclass pass).
    @dataclass(frozen=True)
    class Recorded(Aggregate.Created):
        observation_id: UUID
        benchmark: str
        assumption: str
        country: str | None
        sector: str | None
        period: str
        period_start: date
        period_end: date
        value: Value
        disaggregations: list[Disaggregation]
        evidence: list[Evidence]
        comment: str | None
        principal: str

    @dataclass(frozen=True)
    class Corrected(Aggregate.Event):
        value: Value
        disaggregations: list[Disaggregation]
        reason: str
        principal: str

    @dataclass(frozen=True)
    class Retracted(Aggregate.Event):
        reason: str
        principal: str

    @staticmethod
    def create_id(observation_id: UUID) -> UUID:
        return observation_id

    @classmethod
    def record(cls, **recording: Unpack[Recording]) -> Observation:
        """Checks the observation against its benchmark and the programme
        scope, reporting every broken rule at once."""
        return cls(observation_id=recording["observation_id"], **_checked_recording(recording))

    @classmethod
    def recorded(cls, **recording: Unpack[Recording]) -> Observation.Recorded:
        """The event `record` would give, checked by the same rules, without
        building the aggregate: a bulk import only saves the events of its new
        observations, and building thousands of aggregates it never uses
        would cost it more than the checks themselves. Its event is given its
        attributes as the dataclass's constructor gives them (in its fields'
        order, the id a UUID), without a call per field."""
        observation_id = recording["observation_id"]
        checked = _checked_recording(recording)
        if type(observation_id) is not UUID:  # the constructor says what is wrong with it
            return cls.Recorded(
                originator_topic=_OBSERVATION_TOPIC,
                originator_id=observation_id,
                originator_version=cls.INITIAL_VERSION,
                timestamp=cls.Recorded.create_timestamp(),
                observation_id=observation_id,
                **checked,
            )
        recorded = object.__new__(cls.Recorded)
        recorded.__dict__.update(
            originator_id=observation_id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=cls.Recorded.create_timestamp(),
            originator_topic=_OBSERVATION_TOPIC,
            observation_id=observation_id,
            **checked,
        )
        return recorded

    @event(Recorded)
    def __init__(
        self,
        observation_id: UUID,
        benchmark: str,
        assumption: str,
        country: str | None,
        sector: str | None,
        period: str,
        period_start: date,
        period_end: date,
        value: Value,
        disaggregations: list[Disaggregation],
        evidence: list[Evidence],
        comment: str | None,
        principal: str,
    ) -> None:
        self.benchmark = benchmark
        self.assumption = assumption
        self.country = country
        self.sector = sector
        self.period = period
        self.period_start = period_start
        self.period_end = period_end
        self.value = value
        self.disaggregations = disaggregations
        self.evidence = evidence
        self.comment = comment
        self.recorded_by = principal
        self.retracted = False

    def correct(
        self,
        *,
        benchmark: Benchmark,
        value: Any,
        disaggregations: Sequence[Disaggregation] | None,
        reason: str,
        principal: str,
    ) -> None:
        """A new value (and, if given, new disaggregated values) replacing the
        one in force; the earlier value stays in the history."""
        self.check_not_retracted()
        if benchmark.code != self.benchmark:
            raise ConflictError(f"Observation {self.id} measures benchmark {self.benchmark}, not {benchmark.code}.")
        errors = ErrorCollector()
        with errors.collecting():
            check_reason(reason)
        with errors.collecting():
            value = check_value(benchmark.measure, benchmark.levels, value)
        checked = (
            self.disaggregations
            if disaggregations is None
            else check_disaggregations(benchmark, disaggregations, errors)
        )
        errors.raise_if_any("The correction breaks several rules; see errors.")
        self._correct(value=value, disaggregations=checked, reason=reason, principal=principal)

    @event(Corrected)
    def _correct(self, value: Value, disaggregations: list[Disaggregation], reason: str, principal: str) -> None:
        self.value = value
        self.disaggregations = disaggregations

    def retract(self, reason: str, principal: str) -> None:
        self.check_not_retracted()
        check_reason(reason)
        self._retract(reason=reason, principal=principal)

    @event(Retracted)
    def _retract(self, reason: str, principal: str) -> None:
        self.retracted = True

    def check_not_retracted(self) -> None:
        if self.retracted:
            raise ConflictError(f"Observation {self.id} is retracted: it can be neither corrected nor retracted again.")


_OBSERVATION_TOPIC = get_topic(Observation)
_NATIONAL = Level.NATIONAL  # looked up once: see values.py's _UNIT


def _checked_recording(recording: Recording) -> CheckedRecording:
    """The attributes of a Recorded event, once the observation is checked
    against its benchmark and the programme scope (every broken rule at once)."""
    benchmark, scope = recording["benchmark"], recording["scope"]
    country, sector = recording["country"], recording["sector"]
    benchmark.check_not_retired()
    errors = ErrorCollector()
    parsed_period = None
    with errors.collecting():
        parsed_period = Period.parse(recording["period"])
    with errors.collecting():
        benchmark.check_country_level(country)
    # In scope on the observation's valid date (domain/scope_periods.py).
    if country is not None and benchmark.level is _NATIONAL:
        with errors.collecting():
            scope.check_country(country, parsed_period)
    if sector is not None:
        with errors.collecting():
            scope.check_sector(sector, parsed_period)
    value = recording["value"]
    with errors.collecting():
        value = check_value(benchmark.measure, benchmark.levels, value)
    checked_disaggregations = check_disaggregations(benchmark, recording["disaggregations"], errors)
    errors.raise_if_any("The observation breaks several rules; see errors.")
    assert parsed_period is not None
    return {
        "benchmark": benchmark.code,
        "assumption": benchmark.assumption,
        "country": country,
        "sector": sector,
        "period": parsed_period.label,
        "period_start": parsed_period.start,
        "period_end": parsed_period.end,
        "value": value,
        "disaggregations": checked_disaggregations,
        "evidence": [dict(item) for item in recording["evidence"]],
        "comment": recording["comment"],
        "principal": recording["principal"],
    }
