"""Event data as JSON-ready values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_PRIMITIVES = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """Event data as JSON: dates as ISO strings, tuples as lists."""
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, dict):
        return {k if type(k) is str else str(k): v if type(v) in _PRIMITIVES else jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _PRIMITIVES else jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value
