"""The renderings of a report edition's content: JSON (the canonical
content), a self-contained HTML page, CSV (one row per cell) and XLSX. Each
is a pure function of the content: the same content gives the same bytes, on
any machine, at any time, which is what lets an edition be verified by
rendering it again from its pins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType

from services.reporting.domain.content import ReportContent
from services.reporting.rendering.csv_render import render_csv
from services.reporting.rendering.html import render_html
from services.reporting.rendering.json_render import render_json
from services.reporting.rendering.xlsx import render_xlsx

# The layout version an edition pins. Bump it whenever any rendering's bytes
# change for the same content (a template, a column, a number format), so
# that an edition made before the change is known to need the old layout.
# 2: the log's checkpoint in the pins (HTML, the CSV column
# edition_checkpoint_root_hash, the XLSX Edition sheet).
# 3: a restatement's sector (HTML and the XLSX Restatements sheet); the XLSX
# assumption sheets hold each cell's own fields only (benchmark, country,
# sector, value with its unit in its number format, valid date, position):
# the benchmark's title, figures and status are on the Summary sheet; the
# workplan's deliverables and milestones (HTML section, XLSX sheets
# Deliverables and Milestones) when the content has them.
TEMPLATE_VERSION = "3"


class Format(StrEnum):
    JSON = "json"
    HTML = "html"
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES: Mapping[Format, str] = MappingProxyType(
    {
        Format.JSON: "application/json",
        Format.HTML: "text/html; charset=utf-8",
        Format.CSV: "text/csv; charset=utf-8; header=present",
        Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)

FILE_EXTENSIONS: Mapping[Format, str] = MappingProxyType(
    {
        Format.JSON: ".json",
        Format.HTML: ".html",
        Format.CSV: ".csv",
        Format.XLSX: ".xlsx",
    }
)

_RENDERERS: Mapping[Format, Callable[[ReportContent], bytes]] = MappingProxyType(
    {
        Format.JSON: render_json,
        Format.HTML: render_html,
        Format.CSV: render_csv,
        Format.XLSX: render_xlsx,
    }
)


def render(content: ReportContent, fmt: Format) -> bytes:
    """The edition's content in format `fmt`, byte for byte the same every time."""
    return _RENDERERS[Format(fmt)](content)


__all__ = ["FILE_EXTENSIONS", "MEDIA_TYPES", "TEMPLATE_VERSION", "Format", "render"]
