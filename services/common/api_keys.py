"""API keys: issued and revoked by an operator (`stocktake keys`), presented
as `Authorization: Bearer stk_<id>_<secret>`.

Only a SHA-256 digest of each key is stored, and the key itself is shown
once, when it is issued. A key carries 256 random bits, so a fast digest is
enough (a slow password hash guards guessable secrets, which these are not).
The id before the secret finds the row in one indexed lookup, and lets an
operator name a key in lists and revocations without the secret.

A key found valid is trusted for `REVOCATION_BOUND_SECONDS` without asking
the store again (every request presents one): a key revoked by another
process (`stocktake keys revoke`, another server) is refused within that
bound, one revoked through this `ApiKeys` at once."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cachetools import TTLCache
from sqlalchemy import func, insert, select, update

from services.common.access import Principal, Role
from services.common.database import Database, as_utc
from services.common.errors import AuthenticationError, ConflictError, ErrorCollector, NotFoundError
from services.common.tables import api_keys

PREFIX = "stk"
_TOKEN = re.compile(rf"{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})")
_PRINCIPAL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}")
REVOCATION_BOUND_SECONDS = 5.0


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    principal: Principal
    label: str | None
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_reason: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    info: KeyInfo
    token: str  # shown once; never stored


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeys:
    def __init__(self, database: Database, country_name: Callable[[str], str | None]) -> None:
        self.database = database
        self.country_name = country_name
        self.clock: Callable[[], float] = time.monotonic
        # Valid keys by their digest (with their id, to forget them when revoked here), for the bound.
        self._valid: TTLCache[str, tuple[str, Principal]] = TTLCache(
            maxsize=10_000, ttl=REVOCATION_BOUND_SECONDS, timer=lambda: self.clock()
        )
        self._valid_lock = threading.Lock()

    def issue(
        self, principal: str, role: Role, countries: Iterable[str], label: str | None, issued_by: str
    ) -> IssuedKey:
        """A new key for `principal` (a name that outlives any one key)."""
        countries = sorted({c.strip().upper() for c in countries})
        self._check_new_key(principal, role, countries, label)
        key_id = secrets.token_hex(6)
        token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        now = datetime.now(UTC)
        with self.database.transaction() as connection:
            if self.database.is_postgresql:  # SQLite's write transactions are serial already
                connection.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"api-key:{principal}"))))
            holders = (
                connection.execute(
                    select(api_keys.c.role).where(api_keys.c.principal == principal, api_keys.c.revoked_at.is_(None))
                )
                .scalars()
                .all()
            )
            if any(held != role for held in holders):
                raise ConflictError(
                    f"{principal} already holds a {holders[0]} key: one principal has one role. Revoke its keys "
                    "first, or issue this key to another principal."
                )
            connection.execute(
                insert(api_keys).values(
                    key_id=key_id,
                    secret_sha256=_digest(token),
                    principal=principal,
                    role=role.value,
                    countries=countries,
                    label=label,
                    issued_at=now,
                    issued_by=issued_by,
                )
            )
        info = KeyInfo(
            key_id, Principal(principal, role, frozenset(countries)), label, now, issued_by, None, None, None
        )
        return IssuedKey(info, token)

    def _check_new_key(self, principal: str, role: Role, countries: list[str], label: str | None) -> None:
        errors = ErrorCollector()
        if not _PRINCIPAL_NAME.fullmatch(principal):
            errors.add(
                ("principal",),
                f"{principal!r} is not a principal name: use 1-100 letters, digits and . _ : @ -, "
                "starting with a letter or digit (e.g. office-bgd).",
            )
        if role == Role.COUNTRY_OFFICE and not countries:
            errors.add(
                ("countries",), "A country-office key needs at least one country (ISO 3166-1 alpha-3, e.g. BGD)."
            )
        if role != Role.COUNTRY_OFFICE and countries:
            article = "an" if role.value[0] in "aeiou" else "a"
            errors.add(
                ("countries",),
                f"Only country-office keys are scoped to countries; {article} {role} key reads every country.",
            )
        for country in countries:
            if self.country_name(country) is None:
                errors.add(
                    ("countries",), f"{country!r} is not an ISO 3166-1 alpha-3 country code (e.g. BGD, VNM, ETH)."
                )
        if label is not None and len(label) > 200:
            errors.add(("label",), "A label holds at most 200 characters.")
        errors.raise_if_any("The key cannot be issued; see errors.")

    def revoke(self, key_id: str, revoked_by: str, reason: str) -> KeyInfo:
        now = datetime.now(UTC)
        with self.database.transaction() as connection:
            row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one_or_none()
            if row is None:
                raise NotFoundError(f"There is no key {key_id!r}; `stocktake keys list` shows them.")
            revoked = connection.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_by=revoked_by, revocation_reason=reason[:500])
            )
            if revoked.rowcount == 0:
                row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one()
                raise ConflictError(f"Key {key_id} was revoked already, at {as_utc(row.revoked_at).isoformat()}.")
            row = connection.execute(select(api_keys).where(api_keys.c.key_id == key_id)).one()
        with self._valid_lock:
            for digest in [digest for digest, (valid_id, _) in self._valid.items() if valid_id == key_id]:
                del self._valid[digest]
        return _info(row)

    def keys(self, include_revoked: bool = False, principal: str | None = None) -> list[KeyInfo]:
        query = select(api_keys).order_by(api_keys.c.issued_at, api_keys.c.key_id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        if principal is not None:
            query = query.where(api_keys.c.principal == principal)
        return [_info(row) for row in self.database.read_once(query)]

    def known(self, token: str) -> Principal | None:
        """The principal of `token` if it was found valid within the last
        REVOCATION_BOUND_SECONDS (no lookup); None otherwise."""
        match = _TOKEN.fullmatch(token.strip())
        if match is None:
            return None
        with self._valid_lock:
            valid = self._valid.get(_digest(match.group(0)))
        return None if valid is None else valid[1]

    def authenticate(self, token: str) -> Principal:
        match = _TOKEN.fullmatch(token.strip())
        if match is None:
            raise AuthenticationError(
                "That is not a Stocktake API key: "
                "send `Authorization: Bearer stk_...` with the whole key you were given."
            )
        digest = _digest(match.group(0))
        with self._valid_lock:
            valid = self._valid.get(digest)
        if valid is not None:
            return valid[1]
        rows = self.database.read_once(select(api_keys).where(api_keys.c.key_id == match.group(1)))
        if not rows or not hmac.compare_digest(rows[0].secret_sha256, digest):
            raise AuthenticationError("This API key is not known: check you sent the whole key, or ask for a new one.")
        if rows[0].revoked_at is not None:
            raise AuthenticationError(
                f"This API key (id {rows[0].key_id}) was revoked on {as_utc(rows[0].revoked_at):%Y-%m-%d}; "
                "ask for a new one."
            )
        principal = _info(rows[0]).principal
        with self._valid_lock:
            self._valid[digest] = (rows[0].key_id, principal)
        return principal


def _info(row: object) -> KeyInfo:
    r = row._mapping  # type: ignore[attr-defined]
    return KeyInfo(
        key_id=r["key_id"],
        principal=Principal(r["principal"], Role(r["role"]), frozenset(r["countries"])),
        label=r["label"],
        issued_at=as_utc(r["issued_at"]),
        issued_by=r["issued_by"],
        revoked_at=None if r["revoked_at"] is None else as_utc(r["revoked_at"]),
        revoked_by=r["revoked_by"],
        revocation_reason=r["revocation_reason"],
    )
