"""Request and response schemas of the exports API (routes/exports.py)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.reporting.domain.exports import ExportKind
from services.reporting.entrypoints.http.schemas import CheckpointPublic, Tree, VersionPair


class ExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExportKind = Field(
        description="pi-contribution (the P&B contribution of one biennium: JSON, CSV, XLSX) or "
        "iati-activity (the programme's results as IATI 2.03 activity XML, and its content as JSON)"
    )
    biennium: str | None = Field(
        None,
        max_length=16,
        description="pi-contribution only: a biennium the framework aligns the programme with, e.g. 2018-19",
    )
    as_of: date | None = Field(
        None,
        description="The valid date of the figures: default the biennium's end for a pi-contribution; "
        "required for an iati-activity (its last reporting period ends on it)",
    )
    known_at: int | None = Field(
        None, ge=0, le=2**62, description="The log position the figures are read at (default: the head)"
    )


class ExportPublic(BaseModel):
    id: str
    kind: ExportKind
    title: str
    biennium: str | None
    as_of: date
    position: int = Field(description="The log position every figure was read at")
    checkpoint: CheckpointPublic = Field(description="The log's signed checkpoint at `position`")
    framework: str = Field(description="The framework version, e.g. GSC-POA-2017-21 v1")
    template_version: str
    generator_version: str
    formats: list[str] = Field(description="The renderings of this kind of export")
    created_by: str
    created_at: datetime
    sha256: dict[str, str] = Field(description="SHA-256 of each rendering, as made")


class ExportList(BaseModel):
    items: list[ExportPublic]


class ExportFormatCheck(BaseModel):
    format: str
    stored: str | None = Field(description="The SHA-256 stored when the export was made")
    regenerated: str = Field(description="The SHA-256 of the rendering made again from the pins")
    match: bool


class CheckpointMatch(BaseModel):
    pinned: Tree
    served: Tree
    match: bool = Field(description="False: the log the export was read from has been rewritten")


class ExportVerification(BaseModel):
    export: str
    match: bool = Field(description="Every rendering made again from the pins has its stored SHA-256")
    formats: list[ExportFormatCheck]
    checkpoint: CheckpointMatch
    generator_version: VersionPair
    template_version: VersionPair
