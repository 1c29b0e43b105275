"""The transparency log's Merkle tree (RFC 9162 §2.1) over the event log, kept
in the `merkle_nodes` table: the hash of every perfect subtree (level 0 holds
the leaf hashes). Leaf number i (0-based) is the event at position i + 1, so
the tree of size n covers positions 1..n.

Nodes are written by the event store in the transaction of their events,
under the log's write lock, so the tree never lags the log; an append reads
the O(log n) border nodes it needs in one query and never recomputes a root.
Nothing in the service updates or deletes a node (the database refuses it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from sqlalchemy import Connection, Table, select, tuple_

from services.common.database import as_utc
from services.common.errors import ConflictError
from services.common.transparency.leaf import leaf_bytes_around, leaf_bytes_unchecked, recorded_at_member
from services.common.transparency.merkle import (
    NewNode,
    NodeReader,
    hash_leaf,
    nodes_completed_by_appends,
)
from services.measurement.adapters.bulk import PendingInserts, Row

if TYPE_CHECKING:
    from hashlib import _Hash


def recorded_at_text(moment: datetime) -> str:
    """The leaf's recorded time: the stored UTC time in ISO 8601, to the microsecond."""
    return as_utc(moment).isoformat(timespec="microseconds")


def event_leaf(
    *, position: int, originator_id: UUID | str, version: int, topic: str, recorded_at: datetime, state: bytes
) -> bytes:
    """The leaf of a stored event (services/common/transparency/leaf.py); its fields are valid by
    construction, so the unchecked (quicker) form gives the same bytes."""
    return leaf_bytes_unchecked(
        position=position,
        stream_id=str(originator_id),
        version=version,
        topic=topic,
        recorded_at=recorded_at_text(recorded_at),
        payload=bytes(state).decode("utf-8"),
    )


def event_leaf_hash(
    *, position: int, originator_id: UUID | str, version: int, topic: str, recorded_at: datetime, state: bytes
) -> bytes:
    return hash_leaf(
        event_leaf(
            position=position,
            originator_id=originator_id,
            version=version,
            topic=topic,
            recorded_at=recorded_at,
            state=state,
        )
    )


class LeafStart(NamedTuple):
    """An event's leaf hash begun before its position and recorded time are known (`event_leaf_start`):
    SHA-256 fed with 0x00 and the leaf's bytes up to its position, and the leaf's bytes after its
    recorded time. Made in the saving request's own thread, so the writer, under the log's lock, hashes
    only the few bytes of the position and time and those after them (`finished_leaf_hash`)."""

    hashing: _Hash
    after: bytes


def event_leaf_start(*, originator_id: UUID | str, version: int, topic: str, state: bytes) -> LeafStart:
    """The start of a stored event's leaf hash: everything but its position and recorded time."""
    before, after = leaf_bytes_around(
        stream_id=str(originator_id), version=version, topic=topic, payload=bytes(state).decode("utf-8")
    )
    return LeafStart(hashlib.sha256(b"\x00" + before), after)


def recorded_at_bytes(recorded_at: datetime) -> bytes:
    """A leaf's bytes after its position up to the end of its recorded time (`finished_leaf_hash`'s)."""
    return recorded_at_member(recorded_at_text(recorded_at))


def finished_leaf_hash(start: LeafStart, position: int, recorded_at: bytes) -> bytes:
    """`event_leaf_hash` of the event `start` was begun with, at `position`, recorded at the time whose
    `recorded_at_bytes` are `recorded_at`: the same hash (SHA-256 of 0x00 and the same leaf bytes)."""
    hashing = start.hashing.copy()  # a start may be finished again (a group written anew, save by save)
    hashing.update(b"%d%b%b" % (position, recorded_at, start.after))
    return hashing.digest()


def read_nodes(connection: Connection, table: Table, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored nodes at `ids` (level, index), in one query."""
    if not ids:
        return {}
    wanted = sorted(set(ids))
    rows = connection.execute(
        select(table.c.level, table.c.index, table.c.hash).where(tuple_(table.c.level, table.c.index).in_(wanted))
    ).all()
    return {(row[0], row[1]): bytes(row[2]) for row in rows}


def fetched_reader(fetched: dict[tuple[int, int], bytes], size: int) -> NodeReader:
    def node(level: int, index: int) -> bytes:
        try:
            return fetched[(level, index)]
        except KeyError:
            raise MissingNodeError(
                f"the Merkle tree of {size} events has no stored node at level {level}, index {index}: "
                "run `stocktake audit verify` to find where the log and its tree part"
            ) from None

    return node


class MissingNodeError(ConflictError):
    """A node the tree of a size must hold is not stored: the store was damaged or tampered with."""


def border_node_ids(size: int) -> list[tuple[int, int]]:
    """The roots of the perfect subtrees the tree of `size` leaves is made of, left to right (one per one
    bit of `size`): every stored node an append can read (RFC 9162 trees grow along this border)."""
    ids, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            ids.append((level, start >> level))
            start += 1 << level
    return ids


def append_leaves(connection: Connection, table: Table, size_before: int, leaf_hashes: Iterable[bytes]) -> None:
    """Stores the nodes completed by appending `leaf_hashes` to the tree of `size_before` leaves. The caller
    holds the log's write lock. Reads the old tree's border (at most log2(size_before) + 1 nodes) in one query."""
    hashes = list(leaf_hashes)
    if not hashes:
        return
    border = fetched_reader(read_nodes(connection, table, border_node_ids(size_before)), size_before)
    new = nodes_completed_by_appends(size_before, hashes, border)
    connection.execute(table.insert(), [{"level": level, "index": index, "hash": value} for level, index, value in new])


# Levels 0..62: enough for any tree of up to 2**63 - 1 leaves.
_LEVELS = ", ".join(f"({level})" for level in range(63))
# Each border node is looked up by its whole key (a scalar subquery per level of the border), not joined:
# a served connection prepares this statement once (psycopg, after five runs) and PostgreSQL keeps its
# plan, made with the statistics of that moment, until the table is analysed (never, with autovacuum
# off): a join planned while the tree was small (a few rows) looked nodes up by their level alone and
# filtered on their index, reading every node of a level on every append (PostgreSQL's CPU per single
# POST grew from 0.5 ms to 1.5 ms over 10,000 POSTs). A lookup of both columns of the primary key is
# planned as an index scan on both whatever the table's size. A missing node comes as NULL, skipped.
HEAD_AND_BORDER_SQL = f"""
    WITH head(n) AS (SELECT coalesce(max(position), 0) FROM stored_events),
         levels(level) AS (VALUES {_LEVELS})
    SELECT -1, head.n, NULL FROM head
    UNION ALL
    SELECT levels.level, (head.n >> levels.level) - 1,
           (SELECT m.hash FROM merkle_nodes AS m
            WHERE m.level = levels.level AND m."index" = (head.n >> levels.level) - 1)
    FROM head CROSS JOIN levels
    WHERE (head.n >> levels.level) & 1 = 1
    """


def head_and_border(rows: Iterable[Sequence[Any]]) -> tuple[int, dict[tuple[int, int], bytes]]:
    """The log's head n and the roots of the perfect subtrees of the tree of n leaves (`border_node_ids(n)`),
    from the rows of `HEAD_AND_BORDER_SQL`, which reads them in one round trip: what an append needs, read
    where the head was read anyway (under the log's write lock)."""
    head, border = 0, {}
    for level, index, value in rows:
        if level == -1:
            head = int(index)
        elif value is not None:  # None: not stored (MissingNodeError when an append needs it)
            border[(int(level), int(index))] = bytes(value)
    return head, border


def completed_nodes(size_before: int, leaf_hashes: list[bytes], border: dict[tuple[int, int], bytes]) -> list[NewNode]:
    """The nodes to store when `leaf_hashes` are appended to the tree of `size_before` leaves, whose
    border (`head_and_border`) is given."""
    return nodes_completed_by_appends(size_before, leaf_hashes, fetched_reader(border, size_before))


def border_after(
    size: int, border_before: dict[tuple[int, int], bytes], new: list[NewNode]
) -> dict[tuple[int, int], bytes]:
    """The border of the tree of `size` leaves (`border_node_ids(size)`), from the border of the tree an append
    grew from and the nodes the append completed: each of its nodes is one or the other."""
    known = {**border_before, **{(level, index): value for level, index, value in new}}
    return {node: known[node] for node in border_node_ids(size)}


def insert_events_and_nodes(
    connection: Connection,
    events: Table,
    nodes: Table,
    rows: Sequence[Row],
    new_nodes: list[NewNode],
    into: PendingInserts | None = None,
) -> None:
    """Inserts the events' rows and the tree's new nodes, or adds them to `into` (written with the rest of
    a group commit). On PostgreSQL a small append (a single POST's) sends both INSERTs in one pipeline, so
    the tree costs the write path no round trip of its own; larger batches are COPYed (bulk.py), the nodes
    after the events. A new node (level, index, hash) is its row's values in the table's order."""
    pending = into or PendingInserts()
    pending.add(events, rows)
    pending.add(nodes, new_nodes)
    if into is None:
        pending.send(connection)
