"""The transparency log: signed checkpoints of the event log's Merkle tree,
its verifier key, and inclusion and consistency proofs, for auditors (and
checkpoints for whoever pins a report to one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from services.common.access import Permission
from services.common.http.authorization import allowed
from services.common.http.deps import answer_at
from services.measurement.application.transparency import SignedCheckpoint, TransparencyLog, b64
from services.measurement.entrypoints.http.schemas.common import MAX_POSITION
from services.measurement.entrypoints.http.schemas.transparency import (
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
)

checkpoints = APIRouter(tags=["transparency"], dependencies=[allowed(Permission.READ_CHECKPOINTS)])
proofs = APIRouter(tags=["transparency"], dependencies=[allowed(Permission.READ_PROOFS)])

NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"
Size = Annotated[int | None, Query(ge=0, le=MAX_POSITION, description="A tree size (default: the whole log, its head)")]


def _log(request: Request) -> TransparencyLog:
    log: TransparencyLog = request.app.state.transparency
    return log


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@checkpoints.get(
    "/transparency/checkpoint",
    operation_id="readCheckpoint",
    response_model=CheckpointOut,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def read_checkpoint(request: Request, response: Response, size: Size = None) -> Any:
    """The log's signed checkpoint (C2SP signed note) at `size`, else the
    latest: as text/plain, or as JSON when `Accept: application/json`. Verify
    it with the key of `/transparency/verifier-key`."""
    checkpoint = _log(request).checkpoint(size)
    if _wants_json(request):
        answer_at(response, checkpoint.size)
        return checkpoint.as_json()
    return PlainTextResponse(
        checkpoint.note, media_type=NOTE_MEDIA_TYPE, headers={"Stocktake-Log-Position": str(checkpoint.size)}
    )


@checkpoints.get(
    "/transparency/verifier-key",
    operation_id="readVerifierKey",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def read_verifier_key(request: Request) -> PlainTextResponse:
    """The public key of the checkpoints, in note-verifier form
    (`<origin>+<key id>+<base64 key>`): keep it, and check checkpoints with it."""
    return PlainTextResponse(_log(request).verifier_text() + "\n", media_type=NOTE_MEDIA_TYPE)


def _checkpoint_out(checkpoint: SignedCheckpoint) -> dict[str, Any]:
    return checkpoint.as_json()


@proofs.get("/transparency/inclusion", operation_id="proveInclusion", response_model=InclusionProofOut)
def prove_inclusion(
    request: Request,
    response: Response,
    position: Annotated[int, Query(ge=1, le=MAX_POSITION, description="The event's log position")],
    size: Size = None,
) -> dict[str, Any]:
    """The proof that the event at `position` is in the tree of `size` events
    (default: the latest), with that tree's signed checkpoint."""
    found = _log(request).inclusion(position, size)
    answer_at(response, found.checkpoint.size)
    return {
        "position": found.position,
        "leaf_index": found.leaf_index,
        "size": found.checkpoint.size,
        "leaf_hash": b64(found.leaf_hash),
        "proof": [b64(node) for node in found.proof],
        "checkpoint": _checkpoint_out(found.checkpoint),
    }


@proofs.get("/transparency/consistency", operation_id="proveConsistency", response_model=ConsistencyProofOut)
def prove_consistency(
    request: Request,
    response: Response,
    size1: Annotated[int, Query(alias="from", ge=1, le=MAX_POSITION, description="The earlier tree size")],
    size2: Annotated[
        int | None, Query(alias="to", ge=1, le=MAX_POSITION, description="The later tree size (default: latest)")
    ] = None,
) -> dict[str, Any]:
    """The proof that the tree of `from` events is a prefix of the tree of
    `to` events (default: the latest), with the later tree's signed checkpoint."""
    found = _log(request).consistency(size1, size2)
    answer_at(response, found.checkpoint.size)
    return {
        "size1": found.size1,
        "root1": b64(found.root1),
        "size2": found.checkpoint.size,
        "proof": [b64(node) for node in found.proof],
        "checkpoint": _checkpoint_out(found.checkpoint),
    }
