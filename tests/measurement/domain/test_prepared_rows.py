"""The read models' rows of a recorded observation made before the log's lock (`prepare`, in the saving
request's thread) and finished under it with the position and time are the rows the handler makes alone."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.common.errors import DomainError
from services.measurement.adapters.bulk import EncodedJson, json_text
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.observations import Observation
from services.measurement.domain.values import Measure
from services.measurement.projections.handlers import Projected, ReadModelHandlers
from services.measurement.projections.store import MemoryStore
from tests.measurement.domain.test_recorded_in_bulk import _recording


def test_rows_prepared_before_the_lock_are_the_handlers_rows(
    define_benchmark: Callable[..., Benchmark], observation_kwargs: Callable[..., dict[str, Any]]
) -> None:
    benchmarks = [define_benchmark(measure) for measure in Measure]
    handlers = ReadModelHandlers()
    rng = random.Random(20261204)
    alone, prepared = MemoryStore(), MemoryStore()
    moment = datetime(2026, 12, 4, 19, 30, 0, 654321, tzinfo=UTC)
    made = 0
    for position in range(1, 1500):
        benchmark = rng.choice(benchmarks)
        try:
            event = Observation.recorded(**_recording(rng, benchmark, observation_kwargs(benchmark)))
        except DomainError:
            continue
        ahead = handlers.prepare(event)
        assert ahead is not None
        assert type(ahead.view["state"]) is EncodedJson
        assert ahead.view["state"].text == json_text(dict(ahead.view["state"]))
        handlers.apply(event, Projected(event, position, moment), alone)
        handlers.apply(event, Projected(event, position, moment, ahead), prepared)
        made += 1
    assert made > 500
    assert prepared.rows == alone.rows
    assert all(
        set(prepared.rows[role][key]) == set(row) for role in alone.rows for key, row in alone.rows[role].items()
    )


def test_other_events_are_not_prepared() -> None:
    assert ReadModelHandlers.prepare(object()) is None
