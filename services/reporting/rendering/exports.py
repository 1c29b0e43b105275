"""The renderings of a pinned export's content, by kind and format: its
canonical JSON, the contribution's CSV and XLSX, the IATI activity's XML
(validated against the IATI 2.03 schema before it is returned). Each is a
pure function of the content: the same content gives the same bytes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

from services.reporting.domain.content import ReportContent, canonical_json
from services.reporting.domain.exports import FORMATS, ExportFormat, ExportKind
from services.reporting.rendering.contribution import render_contribution_csv, render_contribution_xlsx
from services.reporting.rendering.iati import render_iati

Content = Mapping[str, Any]

MEDIA_TYPES: Mapping[ExportFormat, str] = MappingProxyType(
    {
        ExportFormat.JSON: "application/json",
        ExportFormat.CSV: "text/csv; charset=utf-8; header=present",
        ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ExportFormat.XML: "application/xml",
    }
)


def _json(content: Content) -> bytes:
    return canonical_json(cast(ReportContent, content))


_RENDERERS: Mapping[tuple[ExportKind, ExportFormat], Callable[[Content], bytes]] = MappingProxyType(
    {
        (ExportKind.PI_CONTRIBUTION, ExportFormat.JSON): _json,
        (ExportKind.PI_CONTRIBUTION, ExportFormat.CSV): render_contribution_csv,
        (ExportKind.PI_CONTRIBUTION, ExportFormat.XLSX): render_contribution_xlsx,
        (ExportKind.IATI_ACTIVITY, ExportFormat.JSON): _json,
        (ExportKind.IATI_ACTIVITY, ExportFormat.XML): render_iati,
    }
)


def render_export(kind: ExportKind, content: Content, fmt: ExportFormat) -> bytes:
    """The export's content in `fmt` (one of FORMATS[kind])."""
    return _RENDERERS[(kind, fmt)](content)


def render_all(kind: ExportKind, content: Content) -> dict[str, bytes]:
    return {fmt.value: render_export(kind, content, fmt) for fmt in FORMATS[kind]}
