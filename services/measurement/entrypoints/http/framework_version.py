"""Every answer read against the programme framework names the version of it
in force at the answer's log position: in its `framework_version` field and
in the `Stocktake-Framework-Version` header, beside `Stocktake-Log-Position`.
An answer pinned to a position before a revision was loaded names the
version of then, so a report made at version 1 still says so."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from services.common.http.deps import answer_at
from services.measurement.application.event_log import EventLogApplication
from services.measurement.application.export_files.pins import FRAMEWORK_VERSION_HEADER
from services.measurement.application.queries import catalogue

__all__ = ["FRAMEWORK_VERSION_HEADER", "answer_with_framework"]


def answer_with_framework(
    response: Response, measurement: EventLogApplication, answer: dict[str, Any]
) -> dict[str, Any]:
    """`answer` with the framework version at its position, and both headers
    (an answer that already holds its version keeps it)."""
    if "framework_version" not in answer:
        answer = {**answer, "framework_version": catalogue.framework_version(measurement, answer["position"])}
    answer_at(response, answer["position"])
    if answer["framework_version"] is not None:
        response.headers[FRAMEWORK_VERSION_HEADER] = str(answer["framework_version"])
    return answer
