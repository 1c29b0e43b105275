"""Stored exports: their pins, content and renderings' digests
(adapters/tables.py: reporting_exports, reporting_export_renderings), kept
as editions are (adapters/stored_documents.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from services.common.database import Database, as_utc
from services.reporting.adapters.stored_documents import StoredDocuments
from services.reporting.adapters.tables import reporting_export_renderings, reporting_exports
from services.reporting.domain.editions import CheckpointPin
from services.reporting.domain.exports import Export, ExportKind


def _export(row: RowMapping) -> Export:
    return Export(
        id=row["id"],
        kind=ExportKind(row["kind"]),
        title=row["title"],
        biennium=row["biennium"],
        as_of=row["as_of"],
        position=int(row["position"]),
        framework=row["framework"],
        template_version=row["template_version"],
        generator_version=row["generator_version"],
        checkpoint=CheckpointPin(int(row["checkpoint_size"]), row["checkpoint_root_hash"], row["checkpoint_note"]),
        created_by=row["created_by"],
        created_at=as_utc(row["created_at"]),
    )


def _row(export: Export) -> dict[str, Any]:
    return {
        "id": export.id,
        "kind": export.kind.value,
        "title": export.title,
        "biennium": export.biennium,
        "as_of": export.as_of,
        "position": export.position,
        "framework": export.framework,
        "template_version": export.template_version,
        "generator_version": export.generator_version,
        "checkpoint_size": export.checkpoint.size,
        "checkpoint_root_hash": export.checkpoint.root_hash,
        "checkpoint_note": export.checkpoint.note,
        "created_by": export.created_by,
        "created_at": export.created_at,
    }


class Exports(StoredDocuments[Export]):
    def __init__(self, database: Database) -> None:
        super().__init__(database, reporting_exports, reporting_export_renderings, "export_id", _export, _row)
