from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from services.measurement.entrypoints.http.schemas.transparency import LogCheckpointRef


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
    checkpoint: LogCheckpointRef = Field(
        description="The signed checkpoint that covers this page (its size is the page's position): "
        "prove any event of it with /transparency/inclusion?position=P&size=<size>."
    )


class LogHead(BaseModel):
    position: int = Field(description="The last position of the log (0 when it is empty)")
    recorded_at: datetime | None = Field(description="When that event was recorded (null when the log is empty)")
