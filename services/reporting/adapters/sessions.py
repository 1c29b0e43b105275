"""The pages' sessions as the server knows them (adapters/tables.py,
`reporting_sessions`): a session is live from sign-in until it expires or is
ended by sign-out, whatever copies of its cookie exist. Only the SHA-256 of
a session's id is stored, so reading this table gives no one a session."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from services.common.database import Database
from services.reporting.adapters.tables import reporting_sessions


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionRecords:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, session_id: str, principal: str, expires_at: datetime) -> None:
        """Records a new session, and forgets the expired ones (sign-ins are
        rare enough to carry that cleaning)."""
        now = datetime.now(UTC)
        with self.database.transaction() as connection:
            connection.execute(delete(reporting_sessions).where(reporting_sessions.c.expires_at < now))
            connection.execute(
                insert(reporting_sessions).values(
                    id_sha256=_digest(session_id), principal=principal, created_at=now, expires_at=expires_at
                )
            )

    def is_live(self, session_id: str) -> bool:
        """True if the session was opened here, has not expired and was not ended."""
        rows = self.database.read_once(
            select(reporting_sessions.c.id_sha256).where(
                reporting_sessions.c.id_sha256 == _digest(session_id),
                reporting_sessions.c.expires_at > datetime.now(UTC),
                reporting_sessions.c.ended_at.is_(None),
            )
        )
        return bool(rows)

    def end(self, session_id: str) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                update(reporting_sessions)
                .where(reporting_sessions.c.id_sha256 == _digest(session_id), reporting_sessions.c.ended_at.is_(None))
                .values(ended_at=datetime.now(UTC))
            )
