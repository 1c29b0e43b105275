"""Safe retries (the IETF Idempotency-Key draft): the first request with a
key claims it; its successful answer is kept, and a retry with the same key
and the same payload gets that answer again without doing anything.

Keys are scoped to the principal. A record is kept for `RETENTION`; after
that the key is free again. A claim whose request never completed (its
process stopped) is abandoned after `ABANDONED_AFTER` and may be claimed
again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from services.measurement.adapters.database import Database
from services.measurement.adapters.event_store import as_utc
from services.measurement.adapters.tables import idempotency_records

RETENTION = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=2)


class IdempotencyKeyReusedError(Exception):
    """The key was used for another payload."""


class IdempotencyInFlightError(Exception):
    """The first request with the key has not finished."""


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: do the work, then `complete` or `release`."""


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class InFlight:
    """Another request with this key has not finished."""


@dataclass(frozen=True)
class Mismatch:
    """The key was used for another payload."""


Claim = Claimed | Replay | InFlight | Mismatch


class IdempotencyRecords:
    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, principal: str, key: str, fingerprint: str) -> Claim:
        now = datetime.now(UTC)
        where = (idempotency_records.c.principal == principal, idempotency_records.c.key == key)
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    insert(idempotency_records).values(
                        principal=principal, key=key, fingerprint=fingerprint, completed=False, created_at=now
                    )
                )
            return Claimed()
        except IntegrityError:
            pass
        with self.database.transaction() as connection:
            row = connection.execute(select(idempotency_records).where(*where)).one()
            age = now - as_utc(row.created_at)
            if age > RETENTION or (not row.completed and age > ABANDONED_AFTER):
                connection.execute(
                    update(idempotency_records)
                    .where(*where)
                    .values(fingerprint=fingerprint, completed=False, response_status=None,
                            response_body=None, response_headers=None, created_at=now)
                )
                return Claimed()
        if row.fingerprint != fingerprint:
            return Mismatch()
        if not row.completed:
            return InFlight()
        return Replay(row.response_status, row.response_body, dict(row.response_headers or {}))

    def complete(self, principal: str, key: str, status: int, body: Any, headers: dict[str, str]) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                update(idempotency_records)
                .where(idempotency_records.c.principal == principal, idempotency_records.c.key == key)
                .values(completed=True, response_status=status, response_body=body, response_headers=headers)
            )

    def release(self, principal: str, key: str) -> None:
        """Frees the key of a request that did not succeed, so that a retry is done anew."""
        with self.database.transaction() as connection:
            connection.execute(
                delete(idempotency_records).where(
                    idempotency_records.c.principal == principal, idempotency_records.c.key == key
                )
            )
