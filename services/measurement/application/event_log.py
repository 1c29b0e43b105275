"""The measurement context's `eventsourcing` Application, wired to our store:
events are serialised in the caller's thread, appended to the log with
gap-free positions and projected into the read models in one group-committed
transaction (see `adapters/group_commit.py`). The commands (`commands.py`)
and the queries that read streams from the log build on it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from itertools import count, repeat
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, project_aggregate
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification, Recording, StoredEvent, Transcoding
from eventsourcing.utils import Environment
from sqlalchemy import Connection

from services.common.database import Database, deferring_inserts
from services.common.errors import ConflictError, NotFoundError
from services.measurement.adapters.bulk import PendingInserts
from services.measurement.adapters.event_store import RECORDED_AT, EventLogRecorder, Factory, leaf_starts, log_head
from services.measurement.adapters.group_commit import GroupCommit
from services.measurement.adapters.merkle_nodes import LeafStart
from services.measurement.adapters.tables import LIVE
from services.measurement.projections import READ_MODELS, Projected, Projector
from services.measurement.projections.store import SqlStore

AggregateT = TypeVar("AggregateT", bound=Aggregate)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class _Save:
    """The events of one `save`, their stored (serialised) form, the
    version of each stream they were checked against (`unchanged`), and
    what else to write in their transaction once they are (`along`)."""

    events: Sequence[DomainEventProtocol[UUID]]
    stored: Sequence[StoredEvent]
    unchanged: Mapping[UUID, int] = field(default_factory=dict)
    along: Along | None = None
    # Each stored event's leaf hash begun (all but its position and time), in the caller's thread, and
    # what the read models' handlers made of it there (`Projected.prepared`).
    leaves: Sequence[LeafStart] = ()
    prepared: Sequence[Any] = ()


class ReferenceChangedError(ConflictError):
    """A stream the saved events were checked against (an observation's
    benchmark) changed between the check and the save."""


@dataclass(frozen=True)
class Saved:
    """What one save recorded: its events (and their stored form), at the
    log positions from `first` on, and the log's recorded time of the
    transaction that holds them."""

    events: Sequence[DomainEventProtocol[UUID]]
    stored: Sequence[StoredEvent]
    first: int
    recorded_at: datetime

    @cached_property
    def recordings(self) -> list[Recording[UUID]]:
        """Each event with its notification: made when first asked for, by the saving request's own
        thread, not by the group commit's writer under the log's lock (a batch's 1,000 events made
        2,000 objects there)."""
        return [
            Recording(
                event,
                Notification(
                    id=position,
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                ),
            )
            for position, event, stored in zip(
                range(self.first, self.first + len(self.events)), self.events, self.stored, strict=True
            )
        ]

    @property
    def last(self) -> int | None:
        """The log position of its last event (None: it saved none)."""
        return self.first + len(self.events) - 1 if self.events else None

    def projected(self, prepared: Sequence[Any] = ()) -> list[Projected]:
        """Its events where they stand in the log, each with what was `prepared` for its rows, if anything."""
        return [
            Projected(event, position, self.recorded_at, ready)
            for position, event, ready in zip(count(self.first), self.events, prepared or repeat(None), strict=False)
        ]


# Writes something more in the transaction of a save, given what it saved
# (an idempotency record holding the answer built from it, say).
Along = Callable[[Connection, Saved], None]

# The last save of this context, for answers built from the saved events
# without reading them back.
_last_saved: ContextVar[Saved] = ContextVar("last_saved")


class EventLogApplication(Application[UUID]):
    name = "Measurement"

    def __init__(self, database: Database) -> None:
        self.database = database
        self.projector = Projector()
        super().__init__(env={"AGGREGATE_CACHE_MAXSIZE": "1000", "AGGREGATE_CACHE_FASTFORWARD": "y"})
        self.group_commit: GroupCommit[_Save, Saved] = GroupCommit(
            database,
            self._write,
            write_group=self._write_group,
            # A group written at once opens no savepoint before it reads the log's tail: that read takes the lock.
            begin=lambda connection, at_once: self.event_log.locked(connection, lazily=at_once),
            finish=self._track,
        )

    def construct_factory(self, env: Environment) -> Factory:
        return Factory(env, self.database)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def event_log(self) -> EventLogRecorder:
        assert isinstance(self.recorder, EventLogRecorder)
        return self.recorder

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Events are serialised here, in the caller's thread, not while the log is locked, and so are their
        # leaves of the Merkle tree, but for their positions and time.
        stored = processing_event.saved_kwargs.get("stored") or [
            self.events.mapper.to_stored_event(e) for e in processing_event.events
        ]
        save = _Save(
            processing_event.events,
            stored,
            processing_event.saved_kwargs.get("unchanged", {}),
            processing_event.saved_kwargs.get("along"),
            leaf_starts(stored),
            [self.projector.handlers.prepare(event) for event in processing_event.events],
        )
        saved = self.group_commit.submit(save)
        _last_saved.set(saved)
        return saved.recordings

    def last_saved(self) -> Saved:
        """What the last `save` of this context recorded."""
        return _last_saved.get()

    def save_events(
        self,
        events: Sequence[DomainEventProtocol[UUID]],
        unchanged: Mapping[UUID, int] | None = None,
        stored: Sequence[StoredEvent] | None = None,
    ) -> list[Recording[UUID]]:
        """Saves events built without their aggregates (a bulk import's new
        observations: see `Observation.recorded`), as `save` would; `stored`:
        their stored form, if the caller made it (as the mapper makes it)."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(events)
        processing_event.saved_kwargs["unchanged"] = unchanged or {}
        if stored is not None:
            assert len(stored) == len(events)
            processing_event.saved_kwargs["stored"] = list(stored)
        return self._record(processing_event)

    def _write(self, connection: Connection, save: _Save) -> Saved:
        """Appends one save's events to the log and projects them, in
        `connection`'s transaction (a save written alone, or in a savepoint
        when its group's transaction failed). If it fails, the caller undoes
        what it wrote (a savepoint rolled back), so the log's tail is put back
        as it was."""
        tail = self.event_log.tail(connection)
        try:
            (outcome,) = self._write_group(connection, [save], defer=False)
        except BaseException:
            self.event_log.restore_tail(connection, tail)
            raise
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _write_group(
        self, connection: Connection, saves: list[_Save], defer: bool = True
    ) -> list[Saved | BaseException]:
        """Writes the saves of a group at once, in `connection`'s transaction,
        under the log's write lock: the versions of the streams they were
        checked against read in one query, their events appended in one
        insert, projected into one store that writes its rows together, and
        (with `defer`) what they write along (their idempotency records) in
        one insert per table. A save checked against a stream that has moved
        on (`ReferenceChangedError`) is refused alone, with nothing of it
        written; whatever else fails fails the group, which the group commit
        then writes again save by save (`_write`)."""
        streams = {stream for save in saves for stream in save.unchanged}
        versions = self.event_log.lock_and_read_versions(connection, streams)
        outcomes: list[Saved | BaseException | None] = []
        accepted: list[tuple[int, _Save]] = []
        for save in saves:
            moved = [stream for stream, version in save.unchanged.items() if versions.get(stream) != version]
            if moved:
                outcomes.append(
                    ReferenceChangedError(
                        f"{', '.join(map(str, moved))} changed while this was being recorded; "
                        "nothing was recorded: retry."
                    )
                )
                continue
            accepted.append((len(outcomes), save))
            outcomes.append(None)
            for stored in save.stored:  # a later save of the group is checked against these too
                stream = stored.originator_id
                versions[stream if type(stream) is UUID else UUID(str(stream))] = stored.originator_version
        if accepted:
            for (index, _), saved in zip(
                accepted, self._append_and_project(connection, [s for _, s in accepted], defer), strict=True
            ):
                outcomes[index] = saved
        return [outcome for outcome in outcomes if outcome is not None]

    def _append_and_project(self, connection: Connection, saves: list[_Save], defer: bool) -> list[Saved]:
        # Deferred: every row of the group (events, Merkle nodes, read models, idempotency records) is
        # written together at the end, on PostgreSQL in one round trip.
        pending = PendingInserts() if defer else None
        try:
            positions = self.event_log.insert_events(
                [stored for save in saves for stored in save.stored],
                into=pending,
                leaves=[leaf for save in saves for leaf in save.leaves],
            )
        except IntegrityError as error:
            raise ConflictError(
                "Another change to the same record was saved at the same moment; read it again and retry."
            ) from error
        recorded_at = connection.info[RECORDED_AT] if any(save.stored for save in saves) else datetime.now(UTC)
        # A save's events have consecutive positions, in the order the group's were inserted.
        written, first = [], positions[0] if positions else 0
        for save in saves:
            assert len(save.events) == len(save.stored)
            written.append(Saved(save.events, save.stored, first, recorded_at))
            first += len(save.stored)
        store = SqlStore(connection, LIVE, into=pending)
        projected = [
            item for save, saved in zip(saves, written, strict=True) for item in saved.projected(save.prepared)
        ]
        last = self.projector.project(store, projected, track=False)
        alongs = [(save.along, saved) for save, saved in zip(saves, written, strict=True) if save.along is not None]
        if pending is None:
            for along, saved in alongs:
                along(connection, saved)
            return written
        with deferring_inserts(connection) as deferred:
            for along, saved in alongs:
                along(connection, saved)
        for table, rows in deferred.items():
            pending.add(table, rows)
        if last is not None:  # the group's `finish`: the position the read models reached
            store.track(READ_MODELS, last)
        pending.send(connection)
        return written

    def _track(self, connection: Connection, saved: list[Saved]) -> None:
        """Records, once per group of saves, the position the read models reached."""
        positions = [s.last for s in saved if s.last is not None]
        if positions:
            SqlStore(connection, LIVE).track(READ_MODELS, max(positions))

    def close(self) -> None:
        self.group_commit.close()
        super().close()

    def find(self, aggregate_id: UUID, kind: type[AggregateT]) -> AggregateT | None:
        """The aggregate as it stands now, if it exists and is a `kind`."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def get(self, aggregate_id: UUID, kind: type[AggregateT], missing: str) -> AggregateT:
        """The aggregate as it stands now; `NotFoundError(missing)` if there is none."""
        aggregate = self.find(aggregate_id, kind)
        if aggregate is None:
            raise NotFoundError(missing)
        return aggregate

    def stream_at(self, aggregate_id: UUID, at: int | None) -> tuple[Aggregate | None, int]:
        """The aggregate as known at log position `at` (default: the head), and
        that position, read in one snapshot so the two agree."""
        with self.database.snapshot() as connection:
            head = log_head(connection, at)
            logged = self.event_log.select_logged(
                originator_id=aggregate_id, until=head, limit=1_000_000, connection=connection
            )
        events = (self.mapper.to_domain_event(item.as_stored_event()) for item in logged)
        aggregate: Aggregate | None = project_aggregate(None, events)
        return aggregate, head
