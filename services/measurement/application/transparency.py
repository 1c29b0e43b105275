"""The transparency log over the event log: signed checkpoints, inclusion and
consistency proofs from the stored Merkle tree (adapters/merkle_nodes.py),
and the auditor's checks that recompute the tree from the stored events.

Leaf number i (0-based) is the event at position i + 1, so the tree of size
n covers positions 1..n, and a read at log position P is covered by the
checkpoint of size P. Proofs come from O(log n) stored nodes read in one
query; nothing here writes.

The signing key is read (or created) on first use, at the path the settings
name, outside the database: whoever can change the database cannot also
sign a checkpoint for what they changed."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Row, func, select

from services.common.database import Database, as_utc
from services.common.errors import ConflictError, InvalidCommandError
from services.common.transparency.merkle import (
    NodeReader,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    node_ids_read,
    root,
)
from services.common.transparency.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    load_or_create_signer,
    open_checkpoint,
    sign_checkpoint,
)
from services.common.transparency.stream import RootAccumulator
from services.measurement.adapters.merkle_nodes import event_leaf, fetched_reader, read_nodes, recorded_at_text
from services.measurement.adapters.tables import merkle_nodes, stored_events

EXPORT_FORMAT = "stocktake-log-export/1"
VERIFY_BATCH = 20_000


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


@dataclass(frozen=True)
class SignedCheckpoint:
    origin: str
    size: int
    root_hash: bytes
    note: str

    def as_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "size": self.size, "root_hash": b64(self.root_hash), "note": self.note}


@dataclass(frozen=True)
class InclusionProof:
    position: int
    leaf_index: int
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: SignedCheckpoint


@dataclass(frozen=True)
class ConsistencyProof:
    size1: int
    root1: bytes
    proof: list[bytes]
    checkpoint: SignedCheckpoint


@dataclass
class VerifyReport:
    """What `verify` found. `ok` when every stored event matches its stored
    leaf, the stored tree's root is the recomputed one, the tree and the log
    have the same size, and the kept checkpoint (if any) is consistent."""

    events: int = 0
    tree_size: int = 0
    recomputed_root: bytes = b""
    stored_root: bytes | None = None
    first_mismatch: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class TransparencyLog:
    def __init__(self, database: Database, key_path: Path, origin: str) -> None:
        self.database = database
        self.key_path = key_path
        self.origin = origin
        self._signer: Signer | None = None
        self._lock = threading.Lock()

    @property
    def signer(self) -> Signer:
        """The checkpoint signing key, created (mode 0600) on first use."""
        with self._lock:
            if self._signer is None:
                self._signer = load_or_create_signer(self.key_path, self.origin)
            return self._signer

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier()

    def verifier_text(self) -> str:
        """The public key in note-verifier form (name+id+key), for auditors."""
        return self.signer.verifier_text()

    # -- checkpoints and proofs --------------------------------------------

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """The signed checkpoint of the tree of `size` events (default: all)."""
        with _reading(self.database) as connection:
            size = tree_size(connection) if size is None else size
            nodes = self._nodes(connection, size, "size", lambda node: root(size, node))
            return self._signed(size, nodes)

    def inclusion(self, position: int, size: int | None = None) -> InclusionProof:
        """The proof that the event at `position` is leaf position - 1 of the
        tree of `size` events (default: all), with that tree's checkpoint."""
        with _reading(self.database) as connection:
            size = tree_size(connection) if size is None else size
            if not 1 <= position <= size:
                raise InvalidCommandError.at(
                    ("position",),
                    f"Position {position} is not in the tree of {size} events: ask for a position from 1 to "
                    f"{size}, or for a larger size.",
                    "query",
                )
            index = position - 1
            nodes = self._nodes(
                connection,
                size,
                "size",
                lambda node: (node(0, index), inclusion_proof(index, size, node), root(size, node)),
            )
        return InclusionProof(
            position, index, nodes(0, index), inclusion_proof(index, size, nodes), self._signed(size, nodes)
        )

    def consistency(self, size1: int, size2: int | None = None) -> ConsistencyProof:
        """The proof that the tree of `size1` events is a prefix of the tree of
        `size2` (default: all), with both roots and size2's checkpoint."""
        with _reading(self.database) as connection:
            size2 = tree_size(connection) if size2 is None else size2
            if not 1 <= size1 <= size2:
                raise InvalidCommandError.at(
                    ("from",),
                    f"A consistency proof goes from a size from 1 to the later size ({size2}), not from {size1}.",
                    "query",
                )
            later = size2
            nodes = self._nodes(
                connection,
                later,
                "to",
                lambda node: (root(size1, node), consistency_proof(size1, later, node), root(later, node)),
            )
        return ConsistencyProof(
            size1, root(size1, nodes), consistency_proof(size1, later, nodes), self._signed(later, nodes)
        )

    def _nodes(
        self, connection: Connection, size: int, name: str, compute: Callable[[NodeReader], object]
    ) -> NodeReader:
        """A reader holding every stored node `compute` reads, in one query. A
        node missing means a size beyond the tree (nodes are stored only for
        complete subtrees), else a damaged store."""
        ids = node_ids_read(compute)
        fetched = read_nodes(connection, merkle_nodes, ids)
        if len(fetched) < len(set(ids)):
            head = tree_size(connection)
            if size > head:
                raise InvalidCommandError.at(
                    (name,),
                    f"The log holds {head} events, so there is no tree of {size}: ask for 0 to {head}.",
                    "query",
                )
            missing = next(node for node in ids if node not in fetched)
            raise TreeDamagedError(
                f"The Merkle tree of {size} events has no stored node at level {missing[0]}, index {missing[1]}: "
                "the store was damaged or altered; run `stocktake audit verify` to find where."
            )
        return fetched_reader(fetched, size)

    def _signed(self, size: int, nodes: NodeReader) -> SignedCheckpoint:
        root_hash = root(size, nodes)
        checkpoint = Checkpoint(self.origin, size, root_hash)
        return SignedCheckpoint(self.origin, size, root_hash, sign_checkpoint(checkpoint, self.signer))

    # -- the auditor's checks ----------------------------------------------

    def verify(
        self, kept_checkpoint: str | None = None, progress: Callable[[int], None] = lambda _: None
    ) -> VerifyReport:
        """Recomputes every leaf and the root from the stored events, and
        compares them with the stored tree (and with a checkpoint the auditor
        kept, signed by this log's key)."""
        report = VerifyReport()
        kept = self._open_kept(kept_checkpoint, report) if kept_checkpoint is not None else None
        accumulator = RootAccumulator()
        root_at_kept: bytes | None = None
        with self.database.snapshot() as connection:
            for position, leaf_hash, stored in _leaves_with_stored(connection):
                if position != accumulator.size + 1:
                    report.problems.append(f"the log has no event at position {accumulator.size + 1}")
                    break
                if stored != leaf_hash and report.first_mismatch is None:
                    report.first_mismatch = position
                    what = "has no stored leaf" if stored is None else "no longer matches its stored leaf hash"
                    report.problems.append(f"the event at position {position} {what}")
                accumulator.append(leaf_hash)
                if kept is not None and accumulator.size == kept.size:
                    root_at_kept = accumulator.root()
                if accumulator.size % VERIFY_BATCH == 0:
                    progress(accumulator.size)
            report.events = accumulator.size
            report.tree_size = tree_size(connection)
            report.recomputed_root = accumulator.root()
            self._compare_stored_root(connection, report)
        if kept is not None:
            _compare_kept(kept, root_at_kept, report)
        progress(report.events)
        return report

    def _open_kept(self, text: str, report: VerifyReport) -> Checkpoint | None:
        try:
            kept = open_checkpoint(text, self.verifier)
        except NoteError as error:
            report.problems.append(f"the kept checkpoint is not signed by this log's key: {error}")
            return None
        if kept.origin != self.origin:
            report.problems.append(f"the kept checkpoint is of the log {kept.origin!r}, not {self.origin!r}")
            return None
        return kept

    def _compare_stored_root(self, connection: Connection, report: VerifyReport) -> None:
        if report.tree_size != report.events:
            report.problems.append(
                f"the stored tree holds {report.tree_size} leaves but the log {report.events} events"
                + (": events are missing from the end of the log" if report.tree_size > report.events else "")
            )
        try:
            nodes = self._nodes(connection, report.events, "size", lambda node: root(report.events, node))
        except (TreeDamagedError, InvalidCommandError) as error:
            report.problems.append(f"the stored tree cannot give the root of {report.events} events: {error}")
            return
        report.stored_root = root(report.events, nodes)
        if report.stored_root != report.recomputed_root and report.first_mismatch is None:
            report.problems.append(
                f"the stored tree's root at size {report.events} is not the root recomputed from the events"
            )

    # -- export --------------------------------------------------------------

    def export(self, out: TextIO) -> SignedCheckpoint:
        """Writes the log as JSON Lines: a header line with the latest signed
        checkpoint and the verifier key, then one line per event holding
        exactly the fields of its leaf (services/common/transparency/leaf.py)."""
        with self.database.snapshot() as connection:
            size = tree_size(connection)
            checkpoint = self._signed(size, self._nodes(connection, size, "size", lambda node: root(size, node)))
            header = {
                "format": EXPORT_FORMAT,
                "origin": self.origin,
                "size": checkpoint.size,
                "root_hash": b64(checkpoint.root_hash),
                "checkpoint": checkpoint.note,
                "verifier_key": self.verifier_text(),
            }
            out.write(json.dumps(header, ensure_ascii=False) + "\n")
            for fields in _leaf_fields(connection, checkpoint.size):
                out.write(json.dumps(fields, ensure_ascii=False) + "\n")
        return checkpoint


@contextmanager
def _reading(database: Database) -> Iterator[Connection]:
    """A connection for reading the tree, without a snapshot: stored nodes never
    change, so those of a size read once stay those of that size (on
    PostgreSQL, autocommit: each query one round trip, no BEGIN or COMMIT)."""
    with database.engine.connect() as connection:
        if database.is_postgresql:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection
        if connection.in_transaction():
            connection.rollback()


class TreeDamagedError(ConflictError):
    """The stored tree lacks a node it must hold: the store was tampered with
    or damaged (`stocktake audit verify` says where)."""


def tree_size(connection: Connection) -> int:
    """The number of leaves of the stored tree (= the log's head, unless tampered with)."""
    last = connection.execute(select(func.max(merkle_nodes.c.index)).where(merkle_nodes.c.level == 0)).scalar_one()
    return 0 if last is None else int(last) + 1


def _compare_kept(kept: Checkpoint, root_at_kept: bytes | None, report: VerifyReport) -> None:
    if kept.size == 0:
        return
    if root_at_kept is None:
        report.problems.append(
            f"the kept checkpoint is of {kept.size} events but the log now holds {report.events}: "
            "events it covered are gone"
        )
    elif root_at_kept != kept.root_hash:
        report.problems.append(
            f"the events now stored at positions 1 to {kept.size} are not those of the kept checkpoint "
            "(its root differs): history was changed"
        )


def _event_batches(connection: Connection, until: int | None = None) -> Iterator[Sequence[Row[Any]]]:
    after = 0
    while True:
        query = (
            select(
                stored_events.c.position,
                stored_events.c.originator_id,
                stored_events.c.originator_version,
                stored_events.c.topic,
                stored_events.c.recorded_at,
                stored_events.c.state,
                merkle_nodes.c.hash,
            )
            .outerjoin(
                merkle_nodes,
                (merkle_nodes.c.level == 0) & (merkle_nodes.c.index == stored_events.c.position - 1),
            )
            .where(stored_events.c.position > after)
            .order_by(stored_events.c.position)
            .limit(VERIFY_BATCH)
        )
        if until is not None:
            query = query.where(stored_events.c.position <= until)
        rows = connection.execute(query).all()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _leaves_with_stored(connection: Connection) -> Iterator[tuple[int, bytes, bytes | None]]:
    """(position, recomputed leaf hash, stored leaf hash) of every stored event, in log order."""
    for rows in _event_batches(connection):
        for position, originator_id, version, topic, recorded_at, state, stored in rows:
            leaf = event_leaf(
                position=position,
                originator_id=originator_id,
                version=version,
                topic=topic,
                recorded_at=recorded_at,
                state=state,
            )
            yield position, hash_leaf(leaf), None if stored is None else bytes(stored)


def _leaf_fields(connection: Connection, size: int) -> Iterator[dict[str, Any]]:
    for rows in _event_batches(connection, until=size):
        for position, originator_id, version, topic, recorded_at, state, _stored in rows:
            yield {
                "position": position,
                "stream_id": str(originator_id),
                "version": version,
                "topic": topic,
                "recorded_at": recorded_at_text(as_utc(recorded_at)),
                "payload": bytes(state).decode("utf-8"),
            }
