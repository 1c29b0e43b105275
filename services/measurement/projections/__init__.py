"""Read models of the measurement service, written from events.

Live, the projector runs inside the write transaction of the events it
projects and records the position it reached there too, so each event is
projected exactly once and a committed write is visible to the next read. A
rebuild (`services.measurement.application.rebuild`) replays the log through the same
handlers into fresh tables."""

from __future__ import annotations

from collections.abc import Iterable

from services.measurement.projections.handlers import Projected, ReadModelHandlers
from services.measurement.projections.store import ReadModelStore

# The tracked name carries the read models' version: when the code's read
# models change shape, the tracked position under the new name is missing,
# and `stocktake migrate` rebuilds them from the log.
READ_MODELS = "read-models/6"

__all__ = ["READ_MODELS", "Projected", "Projector"]


class Projector:
    def __init__(self) -> None:
        self.handlers = ReadModelHandlers()

    def project(self, store: ReadModelStore, items: Iterable[Projected], track: bool = True) -> int | None:
        """Applies the events in log order and, unless the caller records it
        itself, the position reached; returns the last position applied."""
        last = None
        apply = self.handlers.apply  # bound once: a singledispatchmethod builds a new wrapper at each access
        for item in items:
            apply(item.event, item, store)
            last = item.position
        store.settle()
        if last is not None and track:
            store.track(READ_MODELS, last)
        return last
