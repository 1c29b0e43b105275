"""The HTML rendering: one self-contained page (inline CSS and SVG, no
scripts, nothing fetched), from the Jinja template packaged beside this
module. Autoescaping is on: every text of the content is escaped; the only
markup not escaped is the charts', which `charts.py` builds with its texts
escaped."""

from __future__ import annotations

import functools
from importlib import resources

from jinja2 import Environment, FunctionLoader, StrictUndefined
from markupsafe import Markup, escape

from services.reporting.domain.content import Benchmark, Figure, ReportContent
from services.reporting.rendering.charts import benchmark_chart
from services.reporting.rendering.labels import (
    SWATCHES,
    direction_text,
    figure_text,
    figure_unit,
    status_label,
    value_unit,
)

TEMPLATE = "report.html.j2"


def _load_template(name: str) -> str:
    """A template from the installed package (works from a wheel or a zip as from a checkout)."""
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


def with_unit(value: Figure, unit: str) -> str:
    """A figure with its unit, e.g. "12.5 %" or "3 datasets"; "—" without a figure."""
    text = figure_text(value)
    return f"{text} {unit}" if unit and value is not None and not isinstance(value, str) else text


def percent(fraction: float | None) -> str:
    """A fraction (progress) as a percentage with at most one decimal."""
    return "—" if fraction is None else f"{figure_text(fraction * 100, 1)} %"


def cell_rows(benchmark: Benchmark) -> Markup:
    """The rows of a benchmark's cells table, one a line: what a loop in the
    template wrote (each text escaped as autoescaping escapes it), made here
    because a full edition has 6,000 cells and the template's attribute
    lookups and calls cost five times this per row."""
    unit = value_unit(benchmark)
    texts: dict[object, str] = {}  # countries, sectors and dates recur: each escaped once

    def text(value: object) -> str:
        found = texts.get(value)
        if found is None:
            found = texts[value] = str(escape(value))
        return found

    return Markup(
        "".join(
            [
                f"<tr><td>{text(cell['country'])}</td><td>{text(cell['sector'] or 'all sectors')}</td>"
                f'<td class="number">{escape(with_unit(cell["value"], unit))}</td><td>{text(cell["valid_date"])}</td>'
                f'<td class="number">{escape(cell["known_at"])}</td></tr>\n'
                for cell in benchmark["cells"]
            ]
        )
    )


def chart(benchmark: Benchmark, as_of: str) -> Markup:
    # The chart escapes its own texts (charts.py), so its markup is trusted here.
    return Markup(benchmark_chart(benchmark, as_of))


@functools.cache
def _environment() -> Environment:
    """Built on first use, not at import (nothing does I/O at import)."""
    environment = Environment(
        loader=FunctionLoader(_load_template),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(figure=figure_text, status_label=status_label, percent=percent)
    environment.globals.update(
        swatches=SWATCHES,
        chart=chart,
        cell_rows=cell_rows,
        with_unit=with_unit,
        figure_unit=figure_unit,
        value_unit=value_unit,
        direction_text=direction_text,
    )
    return environment


def render_html(content: ReportContent) -> bytes:
    page = _environment().get_template(TEMPLATE).render(content=content)
    return page.encode("utf-8")
