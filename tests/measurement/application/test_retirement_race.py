"""Recording an observation while its benchmark is retired: whatever the
interleaving, no observation of a benchmark is recorded after the position
of its retirement (on both stores)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from services.common.access import Principal
from services.common.errors import ConflictError
from services.measurement.adapters.references import ReferenceCache
from services.measurement.application.commands import Measurement
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import IloRegion
from services.measurement.domain.values import Combination, Measure
from tests.support import criteria

OFFICE = Principal.office("office-bgd", ["BGD"])


class PausingReferences(ReferenceCache):
    """The application's reference cache, whose first read waits at
    `barrier` once it has read: between an observation's check and its save."""

    def __init__(self, inner: ReferenceCache, barrier: threading.Barrier) -> None:
        super().__init__(inner.database, inner.load)
        self.barrier = barrier
        self.paused = False

    def get(self, *aggregate_ids: UUID, trust_copies: bool = False) -> dict[UUID, Any]:
        found = super().get(*aggregate_ids, trust_copies=trust_copies)
        if not self.paused:
            self.paused = True
            self.barrier.wait(timeout=30)
            self.barrier.wait(timeout=30)  # the retirement is committed (or still to come)
        return found


def _define(measurement: Measurement, code: str) -> None:
    measurement.define_benchmark(
        code=code,
        assumption="CA2",
        title=code,
        description="",
        measure=Measure.PERCENTAGE,
        ascending=True,
        unit_label=None,
        levels=[],
        baseline={"value": 10, "date": date(2017, 1, 1)},
        targets=[{"value": 20, "date": date(2021, 12, 31), "label": "final"}],
        combination=Combination.MEAN,
        threshold=None,
        disaggregations=[],
        deliverables=[],
        pb_indicators=[],
        principal="pm",
    )


def _record(measurement: Measurement, code: str) -> dict[str, Any]:
    return measurement.record_observation(
        benchmark=code,
        country="BGD",
        sector=None,
        period="2019-Q2",
        value=12.5,
        disaggregations=[],
        evidence=[],
        comment=None,
        actor=OFFICE,
    )


def _positions(measurement: Measurement, code: str) -> tuple[list[int], int]:
    """The positions of the benchmark's observations, and of its retirement."""
    recorded, retired = [], None
    for logged in measurement.event_log.select_logged(limit=100_000):
        event = measurement.mapper.to_domain_event(logged.as_stored_event())
        if isinstance(event, Observation.Recorded) and event.benchmark == code:
            recorded.append(logged.position)
        elif isinstance(event, Benchmark.Retired) and event.originator_id == Benchmark.create_id(code):
            retired = logged.position
    assert retired is not None
    return recorded, retired


@pytest.fixture
def programme(measurement: Measurement) -> Measurement:
    measurement.select_country("BGD", IloRegion.ASIA_PACIFIC, criteria(), "pm")
    return measurement


def test_an_observation_checked_before_a_retirement_and_saved_after_it_is_refused(programme: Measurement) -> None:
    _define(programme, "RACE")
    barrier = threading.Barrier(2)
    programme.references = PausingReferences(programme.references, barrier)
    with ThreadPoolExecutor(max_workers=1) as pool:
        recording = pool.submit(_record, programme, "RACE")
        barrier.wait(timeout=30)  # the observation is checked against the benchmark, not yet saved
        programme.retire_benchmark("RACE", "replaced", "pm")
        barrier.wait(timeout=30)
        with pytest.raises(ConflictError, match="retired"):
            recording.result(timeout=60)

    recorded, _ = _positions(programme, "RACE")
    assert recorded == []


def test_recording_and_retiring_at_once_never_record_after_the_retirement(programme: Measurement) -> None:
    codes = [f"RACE-{n}" for n in range(12)]
    outcomes = []
    for code in codes:
        _define(programme, code)
        start = threading.Barrier(2)

        def record(code: str = code, start: threading.Barrier = start) -> str:
            start.wait(timeout=30)
            try:
                _record(programme, code)
            except ConflictError:
                return "refused"
            return "recorded"

        def retire(code: str = code, start: threading.Barrier = start) -> None:
            start.wait(timeout=30)
            programme.retire_benchmark(code, "replaced", "pm")

        with ThreadPoolExecutor(max_workers=2) as pool:
            recording, retiring = pool.submit(record), pool.submit(retire)
            retiring.result(timeout=60)
            outcomes.append(recording.result(timeout=60))

        recorded, retired = _positions(programme, code)
        assert all(position < retired for position in recorded), (code, recorded, retired)
        assert len(recorded) == (outcomes[-1] == "recorded")


def test_copies_another_process_made_stale_never_decide(programme: Measurement) -> None:
    """A second application on the same store stands for another server
    process: what it changes, the first one's trusted copies do not know.
    A benchmark it retired refuses the first one's next observation (409,
    nothing recorded); a country it selected is accepted by the first one
    at once (its stale scope's refusal is checked again against the store)."""
    _define(programme, "STALE")
    _record(programme, "STALE")  # the first application now holds copies of STALE and the scope
    other = Measurement(programme.database, programme.country_name)
    try:
        other.select_country("KHM", IloRegion.ASIA_PACIFIC, criteria(), "pm")
        cambodia = programme.record_observation(
            benchmark="STALE",
            country="KHM",
            sector=None,
            period="2019-Q2",
            value=11.0,
            disaggregations=[],
            evidence=[],
            comment=None,
            actor=Principal.office("test-office-khm", ["KHM"]),
        )
        assert cambodia["country"] == "KHM"
        other.retire_benchmark("STALE", "replaced", "pm")
        with pytest.raises(ConflictError, match="retired"):
            _record(programme, "STALE")
    finally:
        other.close()
    recorded, retired = _positions(programme, "STALE")
    assert len(recorded) == 2
    assert all(position < retired for position in recorded)
