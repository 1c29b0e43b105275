"""Request and response schemas of the reporting API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.editions import EditionKind
from services.reporting.domain.verification import VerificationStatus


class EditionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EditionKind = Field(description="mid-term, final-assessment, final, or custom (any as_of)")
    as_of: date | None = Field(
        None, description="The valid date reported on: required for custom; fixed by the roadmap for the others"
    )
    known_at: int | None = Field(
        None, ge=0, le=2**62, description="The log position the figures are read at (default: the head)"
    )
    supersedes: UUID | None = Field(None, description="The edition (of the same kind) this one revises")


class PreviousPublic(BaseModel):
    id: str
    as_of: date
    position: int


class CheckpointPublic(BaseModel):
    size: int = Field(description="The tree size: the edition's position (the events at positions 1..size)")
    root_hash: str = Field(description="The tree's root hash, base64")
    note: str = Field(description="The C2SP signed note, checked with measurement's /transparency/verifier-key")


class EditionPublic(BaseModel):
    id: str
    kind: EditionKind
    title: str
    as_of: date
    position: int = Field(description="The log position every figure was read at")
    checkpoint: CheckpointPublic | None = Field(
        description="The log's signed checkpoint at `position`, as measurement served it when the edition was "
        "made (None for editions made before editions pinned one)"
    )
    framework: str = Field(description="The framework version, e.g. GSC-POA-2017-21 v1")
    template_version: str
    generator_version: str
    previous: PreviousPublic | None = Field(description="The edition of the same kind that restatements compare with")
    supersedes: str | None
    superseded_by: list[str]
    status: str = Field(description="draft or approved")
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sha256: dict[str, str] = Field(description="SHA-256 of each rendering (json, html, csv, xlsx), as made")


class EditionList(BaseModel):
    items: list[EditionPublic]


class FormatCheck(BaseModel):
    format: str
    stored: str | None
    regenerated: str | None = Field(description="None: not made again (see the verification's status)")
    match: bool | None = Field(description="None: not made again")


class VersionPair(BaseModel):
    pinned: str
    current: str


class Tree(BaseModel):
    size: int
    root_hash: str


class CheckpointCheck(BaseModel):
    pinned: Tree | None = Field(description="The tree the edition pinned (None: made before editions pinned one)")
    served: Tree | None = Field(description="The tree measurement serves now at the edition's position")
    match: bool = Field(description="False: the log the edition was read from has been rewritten")


class Verification(BaseModel):
    edition: str
    status: VerificationStatus = Field(
        description="match: every rendering made again has its stored SHA-256; mismatch: one differs "
        "(first_difference); content_match: the edition was rendered with another template than this "
        "service's, so only its content (the JSON rendering) was made again, and it matches; cannot_verify: "
        "made by a generator whose rules this service does not keep (detail names it), nothing was made again"
    )
    match: bool | None = Field(
        description="True for match, False for mismatch, None when not every rendering could be made again"
    )
    detail: str = Field(description="The answer in a sentence, naming the generator and template when they differ")
    formats: list[FormatCheck]
    first_difference: str | None = Field(
        description="The first section of the content that differs, e.g. assumptions/CA2/benchmarks/X/cells"
    )
    checkpoint: CheckpointCheck
    generator_version: VersionPair
    template_version: VersionPair


class EditionDiff(BaseModel):
    before: str
    after: str
    assumptions: list[dict[str, Any]] = Field(
        description="Per critical assumption, each benchmark that differs: its changed figures and cells, "
        "each with before and after"
    )


class MeasurementHealth(BaseModel):
    status: Literal["ok", "unreachable"] = Field(
        description="Whether the measurement service answered its health check"
    )
    position: int | None = Field(description="Measurement's log head when it answered")


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="`degraded`: this service and its store answer, measurement does not (stored editions can be "
        "read, no new one made)"
    )
    editions: int = Field(description="Editions stored")
    measurement: MeasurementHealth


class ServiceVersion(BaseModel):
    service: str
    version: str = Field(description="The installed package's version")
    api_version: str = Field(description="The version of this API (openapi/reporting.json's info.version)")
