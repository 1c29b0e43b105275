"""The service's front door: its index, health and version."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from services.measurement.entrypoints.http.schemas.common import LogPosition


class ServiceIndex(BaseModel):
    service: str
    links: dict[str, str] = Field(
        description="docs, redoc, openapi, health, version and, when the service knows it, pages (the reporting "
        "service's pages for people)"
    )


class Health(BaseModel):
    status: Literal["ok"]
    position: LogPosition


class ServiceVersion(BaseModel):
    service: str
    version: str = Field(description="The installed stocktake package's version")
    api_version: str = Field(description="The version of the OpenAPI document's API")
