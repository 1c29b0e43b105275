"""The event store: an `eventsourcing` application recorder on SQLAlchemy.

Why not `eventsourcing_sqlalchemy`: its positions come from an autoincrement
sequence, which on PostgreSQL leaves a gap for every rolled-back insert (an
optimistic-concurrency conflict, say), and the application log here must be
gap-free (auditors check that nothing is missing). Here a writer takes the
table's write lock, reads the head and numbers its events head+1...; the lock
is held to commit, so positions are gap-free and commit in position order,
and a reader that sees position P has seen every position below it.

The recorder joins the ambient write transaction (`Database.transaction`), so
events commit atomically with the projections derived from them. Inside
`locked` (a group commit's transaction) the head and the Merkle tree's border
are read once, by the first insert, and carried to the next ones
(`LOG_TAIL`): whoever undoes an insert inside the lock (a savepoint rolled
back) puts the tail back as it was (`tail` / `restore_tail`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    TrackingRecorder,
)
from eventsourcing.utils import Environment
from sqlalchemy import Connection, Select, Text, cast, func, select
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError

from services.common.database import Database, as_utc
from services.common.transparency.merkle import NewNode
from services.measurement.adapters.bulk import PendingInserts
from services.measurement.adapters.merkle_nodes import (
    HEAD_AND_BORDER_SQL,
    LeafStart,
    border_after,
    completed_nodes,
    event_leaf_start,
    finished_leaf_hash,
    head_and_border,
    insert_events_and_nodes,
    recorded_at_bytes,
)
from services.measurement.adapters.tables import merkle_nodes
from services.measurement.adapters.tables import stored_events as events_table

# Where insert_events leaves the time it recorded, for whatever else writes in
# the same transaction (the projections) to use without reading it back.
RECORDED_AT = "stocktake.recorded_at"
LOCK_HELD = "stocktake.log_lock_held"
# Inside `locked(lazily=True)` on PostgreSQL, until the first read of the log's tail takes the lock.
LOCK_DEFERRED = "stocktake.log_lock_deferred"
# The head and the tree's border after the last insert of this transaction, while the lock is held.
LOG_TAIL = "stocktake.log_tail"
# The live read models' valid-date high-water mark, as a 1-tuple (None: no row yet), read on PostgreSQL in
# the round trip of the log's tail, while the lock is held; the projections' store keeps it up to date.
HIGH_WATER = "stocktake.valid_date_high_water"
_HIGH_WATER_SQL = "SELECT max(valid_date) FROM valid_date_high_water"
# PostgreSQL advisory lock key of the log's write lock ("stocktak" in ASCII).
LOG_LOCK_KEY = 0x73746F636B74616B
_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"


@dataclass(frozen=True)
class LoggedEvent:
    """A stored event with its place in the application log."""

    position: int
    recorded_at: datetime
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    def as_stored_event(self) -> StoredEvent:
        return StoredEvent(
            originator_id=self.originator_id,
            originator_version=self.originator_version,
            topic=self.topic,
            state=self.state,
        )


def log_head(connection: Connection, at: int | None = None, recorded_by: datetime | None = None) -> int:
    """The last position of the log (0 when empty); at most `at`, or the last
    one recorded by the time `recorded_by`."""
    query = select(func.coalesce(func.max(events_table.c.position), 0))
    if at is not None:
        query = query.where(events_table.c.position <= at)
    if recorded_by is not None:
        # Stored times are UTC, and SQLite compares them as text: so is the bound.
        query = query.where(events_table.c.recorded_at <= recorded_by.astimezone(UTC))
    return int(connection.execute(query).scalar_one())


def log_head_recorded_at(connection: Connection) -> tuple[int, datetime | None]:
    """The last position of the log and when it was recorded ((0, None) when empty)."""
    row = connection.execute(
        select(events_table.c.position, events_table.c.recorded_at).order_by(events_table.c.position.desc()).limit(1)
    ).first()
    return (0, None) if row is None else (int(row.position), as_utc(row.recorded_at))


def stream_versions_query(streams: Iterable[UUID]) -> Select[tuple[UUID, int]]:
    """The last version of each of `streams` that has an event (one indexed query)."""
    return (
        select(events_table.c.originator_id, func.max(events_table.c.originator_version))
        .where(events_table.c.originator_id.in_(list(streams)))
        .group_by(events_table.c.originator_id)
    )


class EventLogRecorder(ApplicationRecorder):
    # The Merkle tree's part of a write: the statement that reads the log's head with the tree's border,
    # `_tree_nodes` (the nodes an append completes) and `_border_after` (the border it leaves for the next
    # append of the transaction). bench/audit.py swaps the three on one recorder to measure writes without
    # the tree.
    head_and_border_sql = HEAD_AND_BORDER_SQL

    def __init__(self, database: Database) -> None:
        self.database = database

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        into: PendingInserts | None = None,
        leaves: Sequence[LeafStart] | None = None,
        **kwargs: Any,
    ) -> Sequence[int]:
        """Appends the events (numbered from the head on) and the Merkle nodes they complete, or, with
        `into`, numbers them and adds their rows to it, to be written with the rest of the transaction.
        `leaves`: each event's leaf hash begun (`leaf_starts`), if the caller began them before the lock."""
        if not stored_events:
            return []
        if leaves is None:
            leaves = leaf_starts(stored_events)
        assert len(leaves) == len(stored_events)
        try:
            with self.database.transaction() as connection:
                if connection.info.get(LOCK_HELD):
                    tail = connection.info.get(LOG_TAIL) or self._read_head_and_border(connection)
                else:
                    self._lock(connection)
                    tail = self._read_head_and_border(connection)
                head, border = tail
                recorded_at = datetime.now(UTC)
                connection.info[RECORDED_AT] = recorded_at
                positions = list(range(head + 1, head + 1 + len(stored_events)))
                # The values of the table's columns, in their order (position, originator_id,
                # originator_version, topic, state, recorded_at): a tuple per event, not a dict (bulk.py).
                rows = [
                    (
                        position,
                        _as_uuid(event.originator_id),
                        event.originator_version,
                        event.topic,
                        event.state,
                        recorded_at,
                    )
                    for position, event in zip(positions, stored_events, strict=True)
                ]
                new_nodes = self._tree_nodes(head, leaves, recorded_at, border)
                insert_events_and_nodes(connection, events_table, merkle_nodes, rows, new_nodes, into)
                if connection.info.get(LOCK_HELD):
                    connection.info[LOG_TAIL] = (positions[-1], self._border_after(positions[-1], border, new_nodes))
        except SQLAlchemyIntegrityError as error:
            raise IntegrityError(str(error.orig)) from error
        return positions

    def lock_and_read_head(self, connection: Connection) -> int:
        """Takes the log's write lock for the transaction; returns the head."""
        self._lock(connection)
        return self._read_head(connection)

    def lock_and_read_versions(self, connection: Connection, streams: set[UUID]) -> dict[UUID, int]:
        """Holds the log's write lock for the transaction (unless `locked`
        holds it already) and reads the last version of each of `streams`
        (none for a stream with no event): read under the lock, so no event
        of those streams can slip in before the commit. Inside `locked` on
        PostgreSQL, the log's tail for the inserts that follow is read in the
        same round trip (psycopg's pipeline), after the lock itself when
        `locked` left it to this read, and so is the read models' high-water
        mark (`HIGH_WATER`, for their store to settle against)."""
        if not connection.info.get(LOCK_HELD):
            self._lock(connection)
        elif connection.info.get(LOG_TAIL) is None:
            if self.database.is_postgresql:
                lock = bool(connection.info.pop(LOCK_DEFERRED, False))
                tail, versions, high_water = self._read_tail_and_versions(connection, streams, lock)
            else:
                tail, versions, high_water = self._read_tail_and_versions_here(connection, streams)
            connection.info[LOG_TAIL] = tail
            connection.info[HIGH_WATER] = high_water
            return versions
        if not streams:
            return {}
        return {row[0]: row[1] for row in connection.execute(stream_versions_query(streams))}

    def _tree_nodes(
        self, head: int, leaves: Sequence[LeafStart], recorded_at: datetime, border: dict[tuple[int, int], bytes]
    ) -> list[NewNode]:
        """The nodes the events of `leaves`, appended at `head` + 1 on and recorded at `recorded_at`, complete."""
        return completed_nodes(head, finished_leaf_hashes(leaves, head + 1, recorded_at), border)

    def _border_after(
        self, size: int, border: dict[tuple[int, int], bytes], new_nodes: list[NewNode]
    ) -> dict[tuple[int, int], bytes]:
        """The tree's border once the append that completed `new_nodes` made it `size` leaves."""
        return border_after(size, border, new_nodes)

    def _read_tail_and_versions(
        self, connection: Connection, streams: set[UUID], lock: bool
    ) -> tuple[tuple[int, dict[tuple[int, int], bytes]], dict[UUID, int], tuple[Any]]:
        """The tail, the streams' versions and the high-water mark (`HIGH_WATER`). `lock`: the log's write
        lock is taken first, in the same pipeline (the server runs its statements in order, each reading
        what was committed when it starts: after the lock)."""
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.pipeline():
            if lock:
                driver.execute(_LOCK_SQL, [LOG_LOCK_KEY])
            tail_cursor = driver.cursor()
            tail_cursor.execute(self.head_and_border_sql)
            versions_cursor = driver.cursor()
            versions_cursor.execute(
                "SELECT originator_id, max(originator_version) FROM stored_events"
                " WHERE originator_id = ANY(%s) GROUP BY originator_id",
                [list(streams)],
            )
            high_water_cursor = driver.cursor()
            high_water_cursor.execute(_HIGH_WATER_SQL)
        tail = head_and_border(tail_cursor.fetchall())
        versions = {row[0]: row[1] for row in versions_cursor.fetchall()}
        high_water = high_water_cursor.fetchone()
        assert high_water is not None
        for cursor in (tail_cursor, versions_cursor, high_water_cursor):
            cursor.close()
        return tail, versions, (high_water[0],)

    def _read_tail_and_versions_here(
        self, connection: Connection, streams: set[UUID]
    ) -> tuple[tuple[int, dict[tuple[int, int], bytes]], dict[UUID, int], tuple[Any]]:
        """SQLite (in process, no round trips): what `_read_tail_and_versions` reads, as three statements
        sent to the driver as they are (no SQLAlchemy construct built and compiled per group)."""
        tail = head_and_border(connection.exec_driver_sql(self.head_and_border_sql).all())
        versions: dict[UUID, int] = {}
        if streams:
            ids = tuple(stream.hex for stream in streams)  # SQLite stores a Uuid as its 32 hex digits
            rows = connection.exec_driver_sql(
                "SELECT originator_id, max(originator_version) FROM stored_events"
                f" WHERE originator_id IN ({', '.join('?' * len(ids))}) GROUP BY originator_id",
                ids,
            )
            versions = {UUID(hex=row[0]): int(row[1]) for row in rows}
        highest = connection.exec_driver_sql(_HIGH_WATER_SQL).scalar()
        return tail, versions, (None if highest is None else date.fromisoformat(highest),)

    def _lock(self, connection: Connection) -> None:
        if self.database.is_postgresql:
            # Blocks other writers of the log (not readers) until commit. An
            # advisory lock, not LOCK TABLE: the service's role may only
            # INSERT into and SELECT from the log, too little to lock it.
            connection.exec_driver_sql(_LOCK_SQL, (LOG_LOCK_KEY,))
        # SQLite: BEGIN IMMEDIATE already holds the database's write lock.

    @contextmanager
    def locked(self, connection: Connection, lazily: bool = False) -> Iterator[None]:
        """Holds the log's write lock for the rest of the transaction, taken
        outside any savepoint (rolling one back would release it), so that
        the inserts inside need not take it again, and read the head once.
        `lazily` (PostgreSQL): the lock is taken by the first read of the
        log's tail, in its round trip (`lock_and_read_versions`), for a
        transaction that opens no savepoint before that read."""
        if lazily and self.database.is_postgresql:
            connection.info[LOCK_DEFERRED] = True
        else:
            self._lock(connection)
        connection.info[LOCK_HELD] = True
        try:
            yield
        finally:
            connection.info.pop(LOCK_HELD, None)
            connection.info.pop(LOG_TAIL, None)
            connection.info.pop(HIGH_WATER, None)
            connection.info.pop(LOCK_DEFERRED, None)

    @staticmethod
    def tail(connection: Connection) -> object:
        """The log's tail (and the high-water mark read with it) as this transaction's inserts left it
        (see `restore_tail`)."""
        return tuple(connection.info.get(key) for key in (LOG_TAIL, HIGH_WATER))

    @staticmethod
    def restore_tail(connection: Connection, tail: object) -> None:
        """Puts back the tail taken by `tail` before inserts that were undone (a savepoint rolled back)."""
        assert isinstance(tail, tuple)
        for key, value in zip((LOG_TAIL, HIGH_WATER), tail, strict=True):
            if value is None:
                connection.info.pop(key, None)
            else:
                connection.info[key] = value

    def _read_head_and_border(self, connection: Connection) -> tuple[int, dict[tuple[int, int], bytes]]:
        """The head, and the Merkle tree nodes an append to it reads, in one round trip."""
        if connection.info.pop(LOCK_DEFERRED, False):
            self._lock(connection)
        return head_and_border(connection.exec_driver_sql(self.head_and_border_sql))

    def _read_head(self, connection: Connection) -> int:
        return log_head(connection)

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        query = select(
            events_table.c.originator_id,
            events_table.c.originator_version,
            events_table.c.topic,
            events_table.c.state,
        ).where(events_table.c.originator_id == _as_uuid(originator_id))
        if gt is not None:
            query = query.where(events_table.c.originator_version > gt)
        if lte is not None:
            query = query.where(events_table.c.originator_version <= lte)
        version = events_table.c.originator_version
        query = query.order_by(version.desc() if desc else version)
        if limit is not None:
            query = query.limit(limit)
        with self.database.snapshot() as connection:
            rows = connection.execute(query).all()
        return [
            StoredEvent(originator_id=row[0], originator_version=row[1], topic=row[2], state=bytes(row[3]))
            for row in rows
        ]

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        return [
            Notification(
                id=event.position,
                originator_id=event.originator_id,
                originator_version=event.originator_version,
                topic=event.topic,
                state=event.state,
            )
            for event in self.select_logged(
                after=None if start is None else (start - 1 if inclusive_of_start else start),
                limit=limit,
                until=stop,
                topics=topics,
            )
        ]

    def select_logged(
        self,
        *,
        after: int | None = None,
        limit: int,
        until: int | None = None,
        topics: Sequence[str] = (),
        originator_id: UUID | None = None,
        connection: Connection | None = None,
        partition: tuple[int, int] | None = None,
    ) -> list[LoggedEvent]:
        """Events in log order, with their positions and recorded times; with
        `partition` (k, n) on PostgreSQL, only the streams of the k-th of n
        parts (every event of a stream falls in the same part)."""
        query = select(
            events_table.c.position,
            events_table.c.recorded_at,
            events_table.c.originator_id,
            events_table.c.originator_version,
            events_table.c.topic,
            events_table.c.state,
        )
        if after is not None:
            query = query.where(events_table.c.position > after)
        if until is not None:
            query = query.where(events_table.c.position <= until)
        if topics:
            query = query.where(events_table.c.topic.in_(topics))
        if originator_id is not None:
            query = query.where(events_table.c.originator_id == originator_id)
        if partition is not None:
            part, parts = partition
            stream_hash = func.hashtext(cast(events_table.c.originator_id, Text))
            query = query.where(func.abs(stream_hash) % parts == part)
        query = query.order_by(events_table.c.position).limit(limit)
        if connection is None:
            with self.database.snapshot() as connection:
                rows = connection.execute(query).all()
        else:
            rows = connection.execute(query).all()
        return [
            LoggedEvent(
                position=row[0],
                recorded_at=as_utc(row[1]),
                originator_id=row[2],
                originator_version=row[3],
                topic=row[4],
                state=bytes(row[5]),
            )
            for row in rows
        ]

    def max_notification_id(self) -> int | None:
        with self.database.snapshot() as connection:
            maximum: int | None = connection.execute(select(func.max(events_table.c.position))).scalar_one()
            return maximum

    def position_at(self, moment: datetime) -> int:
        """The head of the log as it stood at `moment` (0 before any event)."""
        with self.database.snapshot() as connection:
            return log_head(connection, recorded_by=moment)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        raise NotImplementedError(
            "Projections here are written in the transaction of their events; "
            "a rebuild reads the log with select_logged()."
        )


def leaf_starts(stored_events: Iterable[StoredEvent]) -> list[LeafStart]:
    """The events' leaf hashes begun, before they have positions and a recorded time: made by a saving
    request in its own thread, so that the writer does less under the log's lock (the stream id as the
    event's row stores it, a UUID)."""
    return [
        event_leaf_start(
            originator_id=_as_uuid(e.originator_id), version=e.originator_version, topic=e.topic, state=e.state
        )
        for e in stored_events
    ]


def finished_leaf_hashes(leaves: Sequence[LeafStart], first_position: int, recorded_at: datetime) -> list[bytes]:
    """The leaf hashes of events begun as `leaves`, numbered from `first_position` on, all recorded at
    `recorded_at` (one transaction's time): what the Merkle tree appends, in the transaction of the events."""
    moment = recorded_at_bytes(recorded_at)
    return [finished_leaf_hash(leaf, position, moment) for position, leaf in enumerate(leaves, first_position)]


def _as_uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class Factory(InfrastructureFactory[TrackingRecorder]):
    """Infrastructure factory of the `eventsourcing` application, built by the
    application itself around the process's one `Database`."""

    def __init__(self, env: Environment, database: Database) -> None:
        super().__init__(env)
        self.database = database

    def application_recorder(self) -> ApplicationRecorder:
        return EventLogRecorder(self.database)

    def aggregate_recorder(self, purpose: str = "events") -> ApplicationRecorder:
        if purpose != "events":
            raise NotImplementedError("Snapshots are not used: streams here stay short.")
        return self.application_recorder()

    def tracking_recorder(self, tracking_recorder_class: type[TrackingRecorder] | None = None) -> TrackingRecorder:
        raise NotImplementedError("Projection positions are kept in projection_tracking.")

    def process_recorder(self) -> ProcessRecorder:
        raise NotImplementedError("Stocktake runs no event-processing system.")
