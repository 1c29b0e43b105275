"""CSRF: every form that changes something carries its session's token
(a hidden `csrf_token` field), compared in constant time; a POST without it,
or with another session's, is refused (403) before anything is done. The
session cookie is SameSite=Strict as well, so this is the second lock."""

from __future__ import annotations

import hmac

from services.common.errors import ForbiddenError

FIELD = "csrf_token"


def check(expected: str | None, sent: str | None) -> None:
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise ForbiddenError(
            "This form was refused: its security token (csrf_token) is missing or belongs to another "
            "session. Reload the page and send the form again; nothing was done."
        )
