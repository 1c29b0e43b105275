"""The pages' Jinja environment: templates in services/reporting/templates/pages
(autoescaped; the only markup passed through is the charts', which
rendering/charts.py escapes itself)."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from services.reporting.rendering.charts import format_number
from services.reporting.rendering.labels import SWATCHES, status_label


def _figure(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "—"
    if isinstance(value, int | float):
        return format_number(float(value))
    return str(value)


def _percent(value: object) -> str:
    return "—" if not isinstance(value, int | float) else f"{value * 100:.0f}%"


def _query(values: dict[str, Any]) -> str:
    given = {name: value for name, value in values.items() if value not in (None, "")}
    return "?" + urlencode(given) if given else ""


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("services.reporting", "templates/pages"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(figure=_figure, percent=_percent, status=status_label, query=_query)
    env.globals.update(swatches=SWATCHES, trusted=Markup)
    return env


def render_page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
