from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel


class LoggedEventPublic(BaseModel):
    position: int
    recorded_at: datetime
    stream_id: UUID
    stream_version: int
    type: str
    data: dict[str, Any]


class StreamHistory(BaseModel):
    events: list[LoggedEventPublic]
    position: int


class LogPage(BaseModel):
    events: list[LoggedEventPublic]
    head: int
    next_after: int
