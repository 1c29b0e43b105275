"""Safe retries (the IETF Idempotency-Key draft): the first request with a
key claims it; its successful answer is kept, and a retry with the same key
and the same payload gets that answer again without doing anything.

Keys are scoped to the service and the principal: each service's
composition root names its namespace, so the same key sent once to
measurement and once to reporting is two requests. A record is kept for `RETENTION`; after
that the key is free again, and the record is deleted by the next purge (each
process purges at most every `PURGE_EVERY`, when it next claims a key). A
claim whose request never completed (its process stopped) is abandoned after
`ABANDONED_AFTER` and may be claimed again.

A request whose work is one write transaction need not claim its key first:
`keep` stores its completed record in that transaction, so the answer and
what it records commit together or not at all (a process stopped at any
moment leaves both or neither), and a second request with the key finds
the record there first (`IdempotencyKeyTakenError`) and is then answered as
a retry (`claim`)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from services.common.database import Database, as_utc, defer_insert
from services.common.tables import idempotency_records

RETENTION = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=2)
PURGE_EVERY = timedelta(hours=1)


class IdempotencyKeyReusedError(Exception):
    """The key was used for another payload."""


class IdempotencyInFlightError(Exception):
    """The first request with the key has not finished."""


class IdempotencyKeyTakenError(Exception):
    """`keep` found a record of the key: another request took it first."""


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: do the work, then `complete` or `release`.
    `generation` is when the key was first claimed for this request: a retry
    of it keeps it, a new request with the key after its retention gets a new
    one (so anything derived from the key can be derived anew)."""

    generation: datetime


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


# A namespace is a lowercase word: it never holds "/", which no principal
# name holds either (api_keys._PRINCIPAL_NAME), so "<namespace>/<principal>"
# can never be another service's record or a bare principal's.
_NAMESPACE = re.compile(r"[a-z][a-z0-9-]{0,62}")


class IdempotencyRecords:
    """The records of one service. The records of `namespace` are stored
    under "<namespace>/<principal>" in the principal column (wide enough:
    a principal name is at most 100 characters), so no schema change
    separates the services. The empty namespace stores the bare principal:
    measurement's, whose records were made before services were told apart
    and must still be found by a retry that spans the upgrade (an
    observation's id follows from its key's claim)."""

    def __init__(self, database: Database, namespace: str = "") -> None:
        if namespace and not _NAMESPACE.fullmatch(namespace):
            raise ValueError(f"{namespace!r} is not an idempotency namespace: a lowercase word, such as 'reporting'.")
        self.database = database
        self._prefix = f"{namespace}/" if namespace else ""
        self._next_purge = datetime.min.replace(tzinfo=UTC)
        self._purge_lock = threading.Lock()

    def _scoped(self, principal: str) -> str:
        return self._prefix + principal

    def claim(self, principal: str, key: str, fingerprint: str) -> Claim:
        principal = self._scoped(principal)
        now = datetime.now(UTC)
        self.purge_if_due(now)
        for _ in range(3):
            claim = self._insert(principal, key, fingerprint, now) or self._claim_existing(
                principal, key, fingerprint, now
            )
            if claim is not None:
                return claim
            # The record went (released, or purged) between the two: claim again.
        return InFlight()  # another request keeps taking and freeing the key: the client retries later

    def keep(
        self,
        connection: Connection,
        principal: str,
        key: str,
        fingerprint: str,
        generation: datetime,
        answer: tuple[int, Any, dict[str, str]],
    ) -> None:
        """Stores the completed record of a request that claimed nothing first
        (its `answer`: status, body, headers), in `connection`'s transaction:
        the one that writes what the request did. IdempotencyKeyTakenError if
        the key has a record already (the caller's transaction must not commit)."""
        status, body, headers = answer
        record = {
            "principal": self._scoped(principal),
            "key": key,
            "fingerprint": fingerprint,
            "completed": True,
            "response_status": status,
            "response_body": body,
            "response_headers": headers,
            "created_at": generation,
        }
        if defer_insert(connection, idempotency_records, record):
            return  # written with the rest of a group commit; a taken key fails it, written again one by one
        dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        inserted = connection.execute(
            dialect_insert(idempotency_records)
            .values(**record)
            .on_conflict_do_nothing(index_elements=["principal", "key"])
            .returning(idempotency_records.c.key)
        )
        if inserted.first() is None:
            raise IdempotencyKeyTakenError(f"Idempotency-Key {key!r} has a record already.")

    def has_record(self, principal: str, key: str) -> bool:
        """Whether the key has a record (kept, claimed, or past its retention but not yet purged)."""
        where = (idempotency_records.c.principal == self._scoped(principal), idempotency_records.c.key == key)
        return bool(self.database.read_once(select(idempotency_records.c.key).where(*where)))

    def _insert(self, principal: str, key: str, fingerprint: str, now: datetime) -> Claim | None:
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    insert(idempotency_records).values(
                        principal=principal, key=key, fingerprint=fingerprint, completed=False, created_at=now
                    )
                )
            return Claimed(now)
        except IntegrityError:
            return None

    def _claim_existing(self, principal: str, key: str, fingerprint: str, now: datetime) -> Claim | None:
        where = (idempotency_records.c.principal == principal, idempotency_records.c.key == key)
        with self.database.transaction() as connection:
            row = connection.execute(select(idempotency_records).where(*where)).one_or_none()
            if row is None:
                return None
            age = now - as_utc(row.created_at)
            if age > RETENTION:
                # A new request with an old key: it starts a new generation.
                self._reclaim(connection, where, fingerprint, now)
                return Claimed(now)
            if not row.completed and age > ABANDONED_AFTER and row.fingerprint == fingerprint:
                # The retry of a request whose attempt was cut off (perhaps
                # after its commit) keeps its generation, so it finds what
                # that attempt recorded.
                self._reclaim(connection, where, fingerprint, as_utc(row.created_at))
                return Claimed(as_utc(row.created_at))
        if row.fingerprint != fingerprint:
            return Mismatch()
        if not row.completed:
            return InFlight()
        return Replay(row.response_status, row.response_body, dict(row.response_headers or {}))

    @staticmethod
    def _reclaim(connection: Connection, where: tuple[Any, ...], fingerprint: str, generation: datetime) -> None:
        connection.execute(
            update(idempotency_records)
            .where(*where)
            .values(
                fingerprint=fingerprint,
                completed=False,
                response_status=None,
                response_body=None,
                response_headers=None,
                created_at=generation,
            )
        )

    def purge(self, now: datetime | None = None) -> int:
        """Deletes the records past their retention (their keys are free
        already); returns how many. A batch import's record holds its whole
        summary, so they are not left to pile up."""
        cutoff = (now or datetime.now(UTC)) - RETENTION
        with self.database.transaction() as connection:
            deleted = connection.execute(delete(idempotency_records).where(idempotency_records.c.created_at < cutoff))
        return deleted.rowcount

    def purge_if_due(self, now: datetime) -> None:
        """Purges (`purge`) if this process has not for `PURGE_EVERY`; never waits for another thread's purge."""
        if now < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._next_purge = now + PURGE_EVERY
            self.purge(now)
        finally:
            self._purge_lock.release()

    def complete(self, principal: str, key: str, status: int, body: Any, headers: dict[str, str]) -> None:
        principal = self._scoped(principal)
        with self.database.transaction() as connection:
            connection.execute(
                update(idempotency_records)
                .where(idempotency_records.c.principal == principal, idempotency_records.c.key == key)
                .values(completed=True, response_status=status, response_body=body, response_headers=headers)
            )

    def release(self, principal: str, key: str) -> None:
        """Frees the key of a request that did not succeed, so that a retry is done anew."""
        principal = self._scoped(principal)
        with self.database.transaction() as connection:
            connection.execute(
                delete(idempotency_records).where(
                    idempotency_records.c.principal == principal, idempotency_records.c.key == key
                )
            )
