"""Stored editions: their pins, lifecycle, content and renderings' digests
(adapters/tables.py; what they share with exports: adapters/stored_documents.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, func, select, update

from services.common.database import Database, as_utc
from services.reporting.adapters.stored_documents import StoredDocuments
from services.reporting.adapters.tables import reporting_editions, reporting_renderings
from services.reporting.domain.editions import CheckpointPin, Edition, EditionKind, EditionStatus, PreviousPin


def _checkpoint(row: RowMapping) -> CheckpointPin | None:
    if row["checkpoint_note"] is None:
        return None
    return CheckpointPin(int(row["checkpoint_size"]), row["checkpoint_root_hash"], row["checkpoint_note"])


def _edition(row: RowMapping) -> Edition:
    previous = None
    if row["previous_id"] is not None:
        previous = PreviousPin(row["previous_id"], row["previous_as_of"], int(row["previous_position"]))
    return Edition(
        id=row["id"],
        kind=EditionKind(row["kind"]),
        title=row["title"],
        as_of=row["as_of"],
        position=int(row["position"]),
        framework=row["framework"],
        template_version=row["template_version"],
        generator_version=row["generator_version"],
        previous=previous,
        supersedes=row["supersedes"],
        status=EditionStatus(row["status"]),
        created_by=row["created_by"],
        created_at=as_utc(row["created_at"]),
        approved_by=row["approved_by"],
        approved_at=None if row["approved_at"] is None else as_utc(row["approved_at"]),
        checkpoint=_checkpoint(row),
    )


def _row(edition: Edition) -> dict[str, Any]:
    previous, checkpoint = edition.previous, edition.checkpoint
    return {
        "id": edition.id,
        "kind": edition.kind.value,
        "title": edition.title,
        "as_of": edition.as_of,
        "position": edition.position,
        "framework": edition.framework,
        "template_version": edition.template_version,
        "generator_version": edition.generator_version,
        "previous_id": None if previous is None else previous.id,
        "previous_as_of": None if previous is None else previous.as_of,
        "previous_position": None if previous is None else previous.position,
        "supersedes": edition.supersedes,
        "status": edition.status.value,
        "created_by": edition.created_by,
        "created_at": edition.created_at,
        "approved_by": edition.approved_by,
        "approved_at": edition.approved_at,
        "checkpoint_size": None if checkpoint is None else checkpoint.size,
        "checkpoint_root_hash": None if checkpoint is None else checkpoint.root_hash,
        "checkpoint_note": None if checkpoint is None else checkpoint.note,
    }


class Editions(StoredDocuments[Edition]):
    def __init__(self, database: Database) -> None:
        super().__init__(database, reporting_editions, reporting_renderings, "edition_id", _edition, _row)

    def count(self) -> int:
        """How many editions are stored (a query of the store: it answers, or the store is unavailable)."""
        return int(self.database.read_once(select(func.count()).select_from(reporting_editions))[0][0])

    def superseded_by(self, edition_id: str) -> list[str]:
        query = select(reporting_editions.c.id).where(reporting_editions.c.supersedes == edition_id)
        with self.database.snapshot() as connection:
            return sorted(connection.execute(query).scalars())

    def previous_of(self, kind: EditionKind, position: int) -> Edition | None:
        """The edition of `kind` made at the latest position before `position`
        (the first made, among several there): the one an edition made at
        `position` compares with. Editions at the same position share it."""
        query = (
            select(*self._columns)
            .where(reporting_editions.c.kind == kind.value, reporting_editions.c.position < position)
            .order_by(reporting_editions.c.position.desc(), reporting_editions.c.created_at, reporting_editions.c.id)
            .limit(1)
        )
        with self.database.snapshot() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _edition(row)

    def approve(self, edition: Edition) -> bool:
        """Records the approval of a draft; False if it was approved meanwhile."""
        with self.database.transaction() as connection:
            done = connection.execute(
                update(reporting_editions)
                .where(reporting_editions.c.id == edition.id, reporting_editions.c.status == EditionStatus.DRAFT.value)
                .values(status=edition.status.value, approved_by=edition.approved_by, approved_at=edition.approved_at)
            )
        return done.rowcount == 1

    def delete_draft(self, edition_id: str) -> bool:
        """Deletes a draft and its digests; False if it is approved (or gone)."""
        with self.database.transaction() as connection:
            done = connection.execute(
                delete(reporting_editions).where(
                    reporting_editions.c.id == edition_id, reporting_editions.c.status == EditionStatus.DRAFT.value
                )
            )
            if done.rowcount == 1:
                connection.execute(delete(reporting_renderings).where(reporting_renderings.c.edition_id == edition_id))
        return done.rowcount == 1
