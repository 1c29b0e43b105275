"""Read models of the measurement service, written from events.

Live, `Projector.project` runs inside the write transaction of the events it
projects, with the tracked position, so each event is projected exactly once
and a committed write is visible to the next read. A rebuild replays the log
through the same handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any, Iterable
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import Connection, insert, select, update

from services.measurement.adapters.tables import (
    benchmarks_view,
    observations_view,
    projection_tracking,
)
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.observations import Observation
from services.measurement.serialisation import jsonable

PROJECTION_NAME = "views"


@dataclass(frozen=True)
class Projected:
    """A domain event and where it stands in the log."""

    event: DomainEventProtocol[UUID]
    position: int
    recorded_at: datetime


class Projector:
    def project(self, connection: Connection, projected: Iterable[Projected]) -> None:
        last = None
        for item in projected:
            self.apply(item.event, item, connection)
            last = item.position
        if last is not None:
            self._track(connection, last)

    @singledispatchmethod
    def apply(self, event: Any, item: Projected, connection: Connection) -> None:
        """Events no read model needs (framework, scope) are skipped."""

    @apply.register
    def _(self, event: Benchmark.Defined, item: Projected, connection: Connection) -> None:
        state = jsonable({k: v for k, v in event.__dict__.items() if k not in _EVENT_ENVELOPE})
        state["retired"] = None
        state["defined_at"] = item.recorded_at.isoformat()
        state["history"] = [_history_entry(event, item, "defined")]
        connection.execute(
            insert(benchmarks_view).values(
                id=event.originator_id,
                code=event.code,
                assumption=event.assumption,
                retired=False,
                state=state,
                version=event.originator_version,
                defined_position=item.position,
                last_position=item.position,
            )
        )

    @apply.register
    def _(self, event: Benchmark.BaselineRevised, item: Projected, connection: Connection) -> None:
        self._revise_benchmark(connection, event, item, "baseline_revised", baseline=jsonable(event.baseline))

    @apply.register
    def _(self, event: Benchmark.TargetsRevised, item: Projected, connection: Connection) -> None:
        self._revise_benchmark(connection, event, item, "targets_revised", targets=jsonable(event.targets))

    @apply.register
    def _(self, event: Benchmark.Retired, item: Projected, connection: Connection) -> None:
        retired = {"reason": event.reason, "by": event.principal, "at": item.recorded_at.isoformat()}
        self._revise_benchmark(connection, event, item, "retired", retired=retired)

    def _revise_benchmark(
        self, connection: Connection, event: Any, item: Projected, kind: str, **changes: Any
    ) -> None:
        state = connection.execute(
            select(benchmarks_view.c.state).where(benchmarks_view.c.id == event.originator_id)
        ).scalar_one()
        state = {**state, **changes, "history": [*state["history"], _history_entry(event, item, kind)]}
        connection.execute(
            update(benchmarks_view)
            .where(benchmarks_view.c.id == event.originator_id)
            .values(
                state=state,
                retired=state["retired"] is not None,
                version=event.originator_version,
                last_position=item.position,
            )
        )

    @apply.register
    def _(self, event: Observation.Recorded, item: Projected, connection: Connection) -> None:
        state = jsonable(
            {
                "value": event.value,
                "disaggregations": event.disaggregations,
                "evidence": event.evidence,
                "comment": event.comment,
                "recorded_by": event.principal,
                "corrections": 0,
                "retraction": None,
            }
        )
        connection.execute(
            insert(observations_view).values(
                id=event.originator_id,
                benchmark=event.benchmark,
                assumption=event.assumption,
                country=event.country,
                sector=event.sector,
                period=event.period,
                period_start=event.period_start,
                period_end=event.period_end,
                status="recorded",
                state=state,
                version=event.originator_version,
                recorded_position=item.position,
                last_position=item.position,
                recorded_at=item.recorded_at,
                updated_at=item.recorded_at,
            )
        )

    @apply.register
    def _(self, event: Observation.Corrected, item: Projected, connection: Connection) -> None:
        state = self._observation_state(connection, event)
        state.update(
            value=jsonable(event.value),
            disaggregations=jsonable(event.disaggregations),
            corrections=state["corrections"] + 1,
        )
        self._update_observation(connection, event, item, "corrected", state)

    @apply.register
    def _(self, event: Observation.Retracted, item: Projected, connection: Connection) -> None:
        state = self._observation_state(connection, event)
        state["retraction"] = {"reason": event.reason, "by": event.principal, "at": item.recorded_at.isoformat()}
        self._update_observation(connection, event, item, "retracted", state)

    def _observation_state(self, connection: Connection, event: Any) -> dict[str, Any]:
        state = connection.execute(
            select(observations_view.c.state).where(observations_view.c.id == event.originator_id)
        ).scalar_one()
        return dict(state)

    def _update_observation(
        self, connection: Connection, event: Any, item: Projected, status: str, state: dict[str, Any]
    ) -> None:
        connection.execute(
            update(observations_view)
            .where(observations_view.c.id == event.originator_id)
            .values(
                status=status,
                state=state,
                version=event.originator_version,
                last_position=item.position,
                updated_at=item.recorded_at,
            )
        )

    def _track(self, connection: Connection, position: int) -> None:
        updated = connection.execute(
            update(projection_tracking)
            .where(projection_tracking.c.projection == PROJECTION_NAME)
            .values(position=position)
        )
        if updated.rowcount == 0:
            connection.execute(insert(projection_tracking).values(projection=PROJECTION_NAME, position=position))


_EVENT_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def _history_entry(event: Any, item: Projected, kind: str) -> dict[str, Any]:
    return {
        "event": kind,
        "position": item.position,
        "recorded_at": item.recorded_at.isoformat(),
        "principal": event.principal,
        "reason": getattr(event, "reason", None),
    }
