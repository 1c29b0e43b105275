"""Read models of the measurement service, written from events.

Live, the projector runs inside the write transaction of the events it
projects and records the position it reached there too, so each event is
projected exactly once and a committed write is visible to the next read. A
rebuild (`services.measurement.application.rebuild`) replays the log through the same
handlers into fresh tables."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

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
        # The handler of each event type, as `ReadModelHandlers.apply` dispatches it, looked up once per
        # type: a call through the singledispatchmethod looks it up and binds it anew for every event
        # (0.8 us against 0.1, for each of a batch's 1,000 events under the log's lock).
        self._dispatch = inspect.getattr_static(ReadModelHandlers, "apply").dispatcher.dispatch
        self._handler_of: dict[type, Callable[..., None]] = {}

    def project(self, store: ReadModelStore, items: Iterable[Projected], track: bool = True) -> int | None:
        """Applies the events in log order and, unless the caller records it
        itself, the position reached; returns the last position applied."""
        last = None
        handlers, handler_of = self.handlers, self._handler_of
        for item in items:
            kind = type(item.event)
            handler = handler_of.get(kind)
            if handler is None:
                handler = handler_of[kind] = self._dispatch(kind)
            handler(handlers, item.event, item, store)
            last = item.position
        store.settle()
        if last is not None and track:
            store.track(READ_MODELS, last)
        return last
