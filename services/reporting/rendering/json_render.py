"""The JSON rendering: the content's canonical JSON, as the content model defines it."""

from __future__ import annotations

from services.reporting.domain.content import ReportContent, canonical_json


def render_json(content: ReportContent) -> bytes:
    """Keys sorted, no insignificant whitespace, UTF-8 (not ASCII-escaped), a final newline."""
    return canonical_json(content)
