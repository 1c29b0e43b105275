"""What editions and exports have in common in the store: a row of pins
per document with its content (JSON text), and a row per rendering with its
SHA-256 and size, written together in one transaction; read by id, by kind,
and the digests by format (adapters/editions.py, adapters/exports.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, RowMapping, Table, insert, select

from services.common.database import Database

Document = TypeVar("Document")


class StoredDocuments(Generic[Document]):
    """`table` holds the documents (`id`, `kind`, `created_at`, `content`, and
    their pins); `renderings` one row per format, keyed by `owner` (the
    column naming the document); `read` and `write` turn a row of pins into
    the domain's document and back."""

    def __init__(
        self,
        database: Database,
        table: Table,
        renderings: Table,
        owner: str,
        read: Callable[[RowMapping], Document],
        write: Callable[[Document], dict[str, Any]],
    ) -> None:
        self.database = database
        self._table, self._renderings, self._owner = table, renderings, renderings.c[owner]
        self._read, self._write = read, write
        self._columns: list[Column[Any]] = [column for column in table.c if column.name != "content"]

    def add(self, document: Document, content: bytes, digests: Mapping[str, tuple[str, int]]) -> None:
        """Stores a document with its content and each rendering's (SHA-256, size), in one transaction."""
        row = self._write(document)
        with self.database.transaction() as connection:
            connection.execute(insert(self._table).values(**row, content=content.decode("utf-8")))
            if digests:
                connection.execute(
                    insert(self._renderings),
                    [
                        {self._owner.name: row["id"], "format": fmt, "sha256": sha, "size": size}
                        for fmt, (sha, size) in sorted(digests.items())
                    ],
                )

    def get(self, document_id: str) -> Document | None:
        with self.database.snapshot() as connection:
            row = connection.execute(select(*self._columns).where(self._table.c.id == document_id)).mappings().first()
        return None if row is None else self._read(row)

    def content(self, document_id: str) -> bytes | None:
        with self.database.snapshot() as connection:
            found = connection.execute(
                select(self._table.c.content).where(self._table.c.id == document_id)
            ).scalar_one_or_none()
        return None if found is None else str(found).encode("utf-8")

    def digests(self, document_id: str) -> dict[str, str]:
        query = select(self._renderings.c.format, self._renderings.c.sha256).where(self._owner == document_id)
        with self.database.snapshot() as connection:
            return {str(fmt): str(sha) for fmt, sha in connection.execute(query).tuples()}

    def all(self, kind: Enum | None = None) -> list[Document]:
        """Every document (of `kind`), in the order they were made."""
        query = select(*self._columns).order_by(self._table.c.created_at, self._table.c.id)
        if kind is not None:
            query = query.where(self._table.c.kind == kind.value)
        with self.database.snapshot() as connection:
            return [self._read(row) for row in connection.execute(query).mappings()]
