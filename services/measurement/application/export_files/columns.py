"""The columns of a CSV or XLSX export: exactly those the import reads
(entrypoints/http/import_rows.py), so an export can be imported as it is.

benchmark, country, sector, period, value, one `<dimension>:<category>`
column per disaggregated value any exported observation holds, comment,
evidence_title and evidence_url. The import takes one evidence link per
row: an observation's first link is exported (GET /observations lists them
all)."""

from __future__ import annotations

from services.measurement.application.queries.exports import ExportRow, ObservationExport

Cell = float | int | str | None

LEADING = ("benchmark", "country", "sector", "period", "value")
TRAILING = ("comment", "evidence_title", "evidence_url")


def header(export: ObservationExport) -> list[str]:
    return [*LEADING, *(f"{dimension}:{category}" for dimension, category in export.categories), *TRAILING]


def cells(export: ObservationExport, row: ExportRow) -> list[Cell]:
    """A row's cells, in the order of `header`: numbers as numbers, texts as texts, None when empty."""
    title, url = row.evidence[0] if row.evidence else (None, None)
    if not export.categories:
        return [row.benchmark, row.country, row.sector, row.period, row.value, row.comment, title, url]
    disaggregated = {(item.dimension, item.category): item.value for item in row.disaggregations}
    return [
        row.benchmark,
        row.country,
        row.sector,
        row.period,
        row.value,
        *(disaggregated.get(pair) for pair in export.categories),
        row.comment,
        title,
        url,
    ]
