"""Event data as JSON-ready values."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python


def jsonable(value: Any) -> Any:
    """Event data as JSON: dates as ISO strings, tuples and sets as lists, UUIDs as strings,
    mapping keys as strings (pinned in tests/common/test_json.py)."""
    return to_jsonable_python(value)
