"""The pages' session: the signed-in person's API key, kept in a cookie
that is encrypted and signed (Fernet: AES-CBC with an HMAC-SHA256 over it and
its issue time), so the browser can neither read the key nor forge or
prolong a session. The cookie is HttpOnly (no script reads it),
SameSite=Strict (no other site's page sends it), Secure when the page was
served over HTTPS, and expires after `session_hours`: the server refuses an
older cookie whatever the browser kept.

The server keeps a record of each session (adapters/sessions.py): sign-out
ends it there, so a copy of the cookie is refused afterwards too, and an
expired or ended session is refused at its next request. The key is checked
with measurement on every request (`GET /me`), so a key revoked there ends
its sessions at their next request."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request, Response

from services.reporting.adapters.sessions import SessionRecords

SESSION_COOKIE = "stocktake_session"
SIGN_IN_COOKIE = "stocktake_sign_in"  # the sign-in form's CSRF nonce, before there is a session


@dataclass(frozen=True)
class Session:
    id: str  # known to the server by its SHA-256 only
    token: str  # the API key
    csrf: str  # the token every changing form of this session carries


def load_or_create_key(path: Path) -> bytes:
    """The session key kept at `path` (mode 0600), created on first use, so
    that sessions outlive a restart and every process of one deployment
    shares them."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(key + b"\n")
    return key


class Sessions:
    def __init__(self, key_path: Path, hours: float, records: SessionRecords) -> None:
        self.key_path = key_path
        self.max_age = int(hours * 3600)
        self.records = records

    @cached_property
    def _fernet(self) -> Fernet:
        # Read (or made) when a page first needs it: a service whose pages nobody opens writes no key file.
        return Fernet(load_or_create_key(self.key_path))

    def open(self, token: str, principal: str) -> tuple[Session, str]:
        """A new session for `token` (the key of `principal`), recorded, and its cookie value."""
        session = Session(secrets.token_urlsafe(32), token, secrets.token_urlsafe(32))
        self.records.add(session.id, principal, datetime.now(UTC) + timedelta(seconds=self.max_age))
        data = {"s": session.id, "k": session.token, "c": session.csrf}
        return session, self._fernet.encrypt(json.dumps(data).encode()).decode()

    def read(self, value: str | None) -> Session | None:
        """The session of a cookie, or None if it is missing, forged, expired or ended."""
        if not value:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode(), ttl=self.max_age))
            session = Session(str(data["s"]), str(data["k"]), str(data["c"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
        return session if self.records.is_live(session.id) else None

    def close(self, session: Session) -> None:
        """Ends the session on the server: every copy of its cookie is refused from now on."""
        self.records.end(session.id)

    def set_cookie(self, request: Request, response: Response, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            max_age=self.max_age,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def end(response: Response) -> None:
    """Tells the browser to forget the session (sign-out, or a refused key)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
