"""Answers of the transparency endpoints: checkpoints and Merkle proofs."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CheckpointOut(BaseModel):
    origin: str = Field(description="The log's origin line (also the name of its signing key).")
    size: int = Field(description="The tree size: the checkpoint covers log positions 1 to size.")
    root_hash: str = Field(description="Base64 of the RFC 9162 root hash of the tree of `size` events.")
    note: str = Field(description="The checkpoint as a C2SP signed note, to keep and to verify.")


class InclusionProofOut(BaseModel):
    position: int = Field(description="The event's log position.")
    leaf_index: int = Field(description="Its leaf's index in the tree: position - 1.")
    size: int = Field(description="The size of the tree the proof is for.")
    leaf_hash: str = Field(description="Base64 of SHA-256(0x00 || leaf), the leaf as the export has it.")
    proof: list[str] = Field(description="Base64 hashes, lowest first (RFC 9162 §2.1.3).")
    checkpoint: CheckpointOut


class ConsistencyProofOut(BaseModel):
    size1: int = Field(description="The earlier tree size.")
    root1: str = Field(description="Base64 root hash of the earlier tree, as stored now.")
    size2: int = Field(description="The later tree size.")
    proof: list[str] = Field(description="Base64 hashes (RFC 9162 §2.1.4).")
    checkpoint: CheckpointOut = Field(description="The signed checkpoint of the later size.")


class LogCheckpointRef(BaseModel):
    size: int = Field(description="The size of the checkpoint covering this page: the page's position.")
    href: str = Field(description="Where to fetch that checkpoint.")
