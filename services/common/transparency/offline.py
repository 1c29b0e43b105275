"""`stocktake-verify`: checks an export of the log (`stocktake audit export`)
offline, with the log's public key alone: no database, no server.

    stocktake-verify EXPORT --verifier-key KEYFILE [--checkpoint NOTE] [--position N] [--proof PROOF.json]

1. The export's checkpoint must be signed by KEYFILE's key (a key the auditor
   got and kept apart from the export: from `/transparency/verifier-key`).
2. Its events must be positions 1, 2, ... with nothing missing, and the root
   of the RFC 9162 tree over their leaves (leaf.py) must be the checkpoint's.
3. With --checkpoint (say the one a report names, or one kept earlier): it
   too must be signed by the key, and the export's first `size` events must
   have its root, i.e. the log still holds exactly what that checkpoint covered.
4. With --position: prints the event and its inclusion proof in the tree of
   the --checkpoint's size (else the export's), and checks it.
5. With --proof: checks an inclusion proof the service gave
   (`/transparency/inclusion`, JSON) against the leaf recomputed here and its
   checkpoint, verified with the key.

Exits 0 when every check holds, 1 saying which failed first, 2 for unusable input."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from services.common.transparency.leaf import leaf_bytes_unchecked
from services.common.transparency.merkle import (
    MemoryNodes,
    ProofError,
    hash_leaf,
    inclusion_proof,
    root,
    verify_inclusion,
)
from services.common.transparency.note import Checkpoint, NoteError, Verifier, open_checkpoint
from services.common.transparency.stream import RootAccumulator

EXPORT_FORMAT = "stocktake-log-export/1"
LEAF_TYPES = {"position": int, "stream_id": str, "version": int, "topic": str, "recorded_at": str, "payload": str}


class VerificationFailed(Exception):
    """A check did not hold: the message says which, and where."""


class UnusableInput(Exception):
    """A file is missing, unreadable or not what it should be."""


@dataclass
class Replay:
    """What one pass over the export found."""

    size: int = 0
    root: bytes = b""
    roots_at: dict[int, bytes] = field(default_factory=dict)
    leaves: dict[int, dict[str, Any]] = field(default_factory=dict)
    leaf_hashes: list[bytes] | None = None


def event_leaf_hash(fields: dict[str, Any]) -> bytes:
    """The leaf hash of one exported event (leaf.py), its fields checked for type."""
    for name, kind in LEAF_TYPES.items():
        if type(fields.get(name)) is not kind:
            raise VerificationFailed(f"the event {fields.get('position')!r} has no {kind.__name__} {name!r}")
    if set(fields) != set(LEAF_TYPES):
        raise VerificationFailed(f"the event at position {fields['position']} has other fields than a leaf's")
    return hash_leaf(leaf_bytes_unchecked(**fields))


def _lines(export: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(export, start=1):
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            raise VerificationFailed(f"line {number} of the export is not JSON: {error}") from None


def read_header(export: TextIO) -> dict[str, Any]:
    first = export.readline()
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        raise UnusableInput("the export's first line is not its JSON header") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise UnusableInput(f"this is not a {EXPORT_FORMAT} file (from `stocktake audit export`)")
    return header


def replay(export: TextIO, sizes: Sequence[int], positions: Sequence[int], keep_hashes: bool) -> Replay:
    """Recomputes the tree over the export's events: its root, the roots at `sizes`, the fields of the events
    at `positions`, and (if asked) every leaf hash."""
    found = Replay(leaf_hashes=[] if keep_hashes else None)
    accumulator = RootAccumulator()
    for number, fields in _lines(export):
        expected = accumulator.size + 1
        if not isinstance(fields, dict) or fields.get("position") != expected:
            got = fields.get("position") if isinstance(fields, dict) else None
            raise VerificationFailed(f"line {number}: expected the event at position {expected}, found {got!r}")
        leaf_hash = event_leaf_hash(fields)
        accumulator.append(leaf_hash)
        if found.leaf_hashes is not None:
            found.leaf_hashes.append(leaf_hash)
        if expected in positions:
            found.leaves[expected] = fields
        if accumulator.size in sizes:
            found.roots_at[accumulator.size] = accumulator.root()
    found.size, found.root = accumulator.size, accumulator.root()
    return found


def _open(note: str, verifier: Verifier, what: str) -> Checkpoint:
    try:
        return open_checkpoint(note, verifier)
    except NoteError as error:
        raise VerificationFailed(f"{what} is refused: {error}") from None


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def verify_export(
    export_path: Path,
    verifier: Verifier,
    kept: str | None = None,
    position: int | None = None,
    proof: dict[str, Any] | None = None,
    out: TextIO | None = None,
) -> None:
    """Runs the checks of the module's docstring; raises VerificationFailed at the first that fails."""
    out = out or sys.stdout  # looked up now, not at import: whoever runs this may have redirected it
    with export_path.open(encoding="utf-8") as export:
        header = read_header(export)
        exported = _open(str(header.get("checkpoint", "")), verifier, "the export's checkpoint")
        pinned = _open(kept, verifier, "the checkpoint given") if kept is not None else None
        proof_checkpoint = (
            _open(str(proof.get("checkpoint", {}).get("note", "")), verifier, "the proof's checkpoint")
            if proof
            else None
        )
        at = pinned or exported
        sizes = [c.size for c in (exported, pinned, proof_checkpoint) if c is not None]
        wanted = [p for p in (position, proof.get("position") if proof else None) if isinstance(p, int)]
        found = replay(export, sizes, wanted, keep_hashes=position is not None)
    _check_export(exported, found, out)
    for checkpoint, what in ((pinned, "the checkpoint given"), (proof_checkpoint, "the proof's checkpoint")):
        if checkpoint is not None:
            _check_covered(checkpoint, found, what, out)
    if position is not None:
        _prove(position, at, found, out)
    if proof is not None and proof_checkpoint is not None:
        _check_proof(proof, proof_checkpoint, found, out)


def _check_export(checkpoint: Checkpoint, found: Replay, out: TextIO) -> None:
    if found.size != checkpoint.size:
        raise VerificationFailed(f"the export holds {found.size} events but its checkpoint covers {checkpoint.size}")
    if found.root != checkpoint.root_hash:
        raise VerificationFailed(
            f"the root recomputed from the {found.size} exported events is {_b64(found.root)}, "
            f"not the signed checkpoint's {_b64(checkpoint.root_hash)}: the export is not the log that was signed"
        )
    out.write(
        f"OK  export: {found.size} events, root {_b64(found.root)} = signed checkpoint of {checkpoint.origin}" + "\n"
    )


def _check_covered(checkpoint: Checkpoint, found: Replay, what: str, out: TextIO) -> None:
    if checkpoint.size == 0:
        return
    at = found.roots_at.get(checkpoint.size)
    if at is None:
        raise VerificationFailed(f"{what} covers {checkpoint.size} events, the export only {found.size}")
    if at != checkpoint.root_hash:
        raise VerificationFailed(
            f"the export's first {checkpoint.size} events do not have the root of {what}: "
            "the log's history differs from what that checkpoint signed"
        )
    out.write(f"OK  {what}: the export's first {checkpoint.size} events have its root" + "\n")


def _prove(position: int, checkpoint: Checkpoint, found: Replay, out: TextIO) -> None:
    if not 1 <= position <= checkpoint.size:
        raise VerificationFailed(f"position {position} is not in the tree of {checkpoint.size} events")
    assert found.leaf_hashes is not None
    nodes = MemoryNodes.from_leaf_hashes(found.leaf_hashes[: checkpoint.size])
    leaf_hash = found.leaf_hashes[position - 1]
    path = inclusion_proof(position - 1, checkpoint.size, nodes)
    try:
        verify_inclusion(leaf_hash, position - 1, checkpoint.size, path, root(checkpoint.size, nodes))
    except ProofError as error:
        raise VerificationFailed(f"inclusion of position {position}: {error}") from None
    answer = {
        "position": position,
        "size": checkpoint.size,
        "event": found.leaves[position],
        "leaf_hash": _b64(leaf_hash),
        "proof": [_b64(node) for node in path],
        "root_hash": _b64(checkpoint.root_hash),
    }
    out.write(json.dumps(answer, ensure_ascii=False, indent=2) + "\n")
    out.write(f"OK  position {position} is in the log at the checkpoint of size {checkpoint.size}" + "\n")


def _check_proof(proof: dict[str, Any], checkpoint: Checkpoint, found: Replay, out: TextIO) -> None:
    position = proof.get("position")
    if not isinstance(position, int) or position not in found.leaves:
        raise VerificationFailed(f"the proof is for position {position!r}, which the export does not hold")
    try:
        nodes = [base64.b64decode(node, validate=True) for node in proof.get("proof", [])]
        verify_inclusion(
            event_leaf_hash(found.leaves[position]), position - 1, checkpoint.size, nodes, checkpoint.root_hash
        )
    except (ProofError, ValueError) as error:
        raise VerificationFailed(f"the inclusion proof of position {position} is refused: {error}") from None
    out.write(f"OK  proof: position {position} is in the signed tree of {checkpoint.size} events" + "\n")


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stocktake-verify", description="Verify an export of the Stocktake event log offline."
    )
    parser.add_argument("export", type=Path, help="the file `stocktake audit export` wrote")
    parser.add_argument("--verifier-key", type=Path, required=True, help="the log's verifier key, kept apart")
    parser.add_argument("--checkpoint", type=Path, help="a signed checkpoint to check the export against")
    parser.add_argument("--position", type=int, help="print and check the inclusion proof of this position")
    parser.add_argument("--proof", type=Path, help="an inclusion proof (JSON) from /transparency/inclusion to check")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    try:
        verifier = Verifier.from_text(arguments.verifier_key.read_text(encoding="utf-8").strip())
        kept = arguments.checkpoint.read_text(encoding="utf-8") if arguments.checkpoint else None
        proof = json.loads(arguments.proof.read_text(encoding="utf-8")) if arguments.proof else None
        verify_export(arguments.export, verifier, kept, arguments.position, proof)
    except VerificationFailed as error:
        sys.stderr.write(f"FAILED  {error}\n")
        return 1
    except (UnusableInput, NoteError, OSError, json.JSONDecodeError) as error:
        sys.stderr.write(f"cannot verify: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
