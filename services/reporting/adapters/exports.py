"""Stored exports: their pins, content and renderings' digests
(adapters/tables.py: reporting_exports, reporting_export_renderings)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, insert, select

from services.common.database import Database, as_utc
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


_COLUMNS = [column for column in reporting_exports.c if column.name != "content"]


class Exports:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, export: Export, content: bytes, digests: Mapping[str, tuple[str, int]]) -> None:
        """Stores an export with its content and each rendering's (SHA-256, size), in one transaction."""
        with self.database.transaction() as connection:
            connection.execute(insert(reporting_exports).values(**_row(export), content=content.decode("utf-8")))
            connection.execute(
                insert(reporting_export_renderings),
                [
                    {"export_id": export.id, "format": fmt, "sha256": sha, "size": size}
                    for fmt, (sha, size) in sorted(digests.items())
                ],
            )

    def get(self, export_id: str) -> Export | None:
        with self.database.snapshot() as connection:
            row = connection.execute(select(*_COLUMNS).where(reporting_exports.c.id == export_id)).mappings().first()
        return None if row is None else _export(row)

    def content(self, export_id: str) -> bytes | None:
        with self.database.snapshot() as connection:
            found = connection.execute(
                select(reporting_exports.c.content).where(reporting_exports.c.id == export_id)
            ).scalar_one_or_none()
        return None if found is None else str(found).encode("utf-8")

    def digests(self, export_id: str) -> dict[str, str]:
        query = select(reporting_export_renderings.c.format, reporting_export_renderings.c.sha256).where(
            reporting_export_renderings.c.export_id == export_id
        )
        with self.database.snapshot() as connection:
            return {str(fmt): str(sha) for fmt, sha in connection.execute(query).tuples()}

    def all(self, kind: ExportKind | None = None) -> list[Export]:
        query = select(*_COLUMNS).order_by(reporting_exports.c.created_at, reporting_exports.c.id)
        if kind is not None:
            query = query.where(reporting_exports.c.kind == kind.value)
        with self.database.snapshot() as connection:
            return [_export(row) for row in connection.execute(query).mappings()]
