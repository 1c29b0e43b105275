"""Read-only copies of the few aggregates every observation is checked
against (its benchmark, the programme scope), kept while they are current.

Recording an observation reads them but never changes them, so a copy can be
shared instead of replaying and deep-copying the streams per request; one
indexed query checks that no event was added to those streams since, unless
the caller trusts the copies (`trust_copies`): one that checks, under the
log's write lock, that the streams are still at the versions it used (a save
with `unchanged`), and reads again when they are not."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID

from cachetools import LRUCache
from eventsourcing.domain import Aggregate

from services.common.database import Database
from services.measurement.adapters.event_store import stream_versions_query


class ReferenceCache:
    def __init__(self, database: Database, load: Callable[[UUID], Aggregate | None], maxsize: int = 1024) -> None:
        self.database = database
        self.load = load
        # Bounded (the least recently used copy goes first); locked, as an LRUCache reorders on every read.
        self._copies: LRUCache[UUID, Aggregate] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def get(self, *aggregate_ids: UUID, trust_copies: bool = False) -> dict[UUID, Aggregate]:
        """Those of the aggregates that exist, as they stand now (with
        `trust_copies`, as they stood when last read, if all were read before:
        no query). Do not change what it returns: it is shared."""
        if trust_copies:
            with self._lock:
                copies = {aggregate_id: self._copies.get(aggregate_id) for aggregate_id in aggregate_ids}
            if all(copy is not None for copy in copies.values()):
                return {aggregate_id: copy for aggregate_id, copy in copies.items() if copy is not None}
        versions = {row[0]: row[1] for row in self.database.read_once(stream_versions_query(aggregate_ids))}
        found: dict[UUID, Aggregate] = {}
        for aggregate_id, version in versions.items():
            with self._lock:
                copy = self._copies.get(aggregate_id)
            if copy is None or copy.version != version:
                copy = self.load(aggregate_id)
                if copy is None:
                    continue
                with self._lock:
                    self._copies[aggregate_id] = copy
            found[aggregate_id] = copy
        return found
