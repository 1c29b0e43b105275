"""What every rendering says the same way: the words for a status and a
colour, the unit a figure is in, and the guard that keeps a text from being
read as a formula by a spreadsheet."""

from __future__ import annotations

from typing import TypeGuard

# The guard against formulas is the one measurement's exports use too.
from services.common.spreadsheets import needs_text_guard as needs_text_guard
from services.common.spreadsheets import spreadsheet_text as spreadsheet_text
from services.reporting.domain.content import Benchmark, Figure

STATUS_LABELS = {
    "achieved": "Achieved",
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
    "not_assessed": "Not assessed",
}

# The swatch colours of the colour rule; each is always shown beside its name.
SWATCHES = {
    "green": "#1A9850",
    "amber": "#F0A202",
    "red": "#D73027",
    "grey": "#9E9E9E",
}

COUNTRIES_UNIT = "countries"


def status_label(status: str) -> str:
    """The status in words (a status this version does not know is shown as sent)."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def is_number(value: object) -> TypeGuard[int | float]:
    """True for a JSON number (bool is an int to Python, never a figure here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def counts_countries(benchmark: Benchmark) -> bool:
    """Whether the combined figure, baseline and targets count countries (those
    of a count_meeting_threshold benchmark do), rather than being in the
    benchmark's own measure as its cells are."""
    return benchmark["combination"] == "count_meeting_threshold"


def more_is_better(benchmark: Benchmark) -> bool:
    """The direction of the combined figure: more countries meeting a threshold
    is always better (the benchmark's direction is already in "meets")."""
    return benchmark["ascending"] or counts_countries(benchmark)


def direction_text(benchmark: Benchmark) -> str:
    return "higher is better" if more_is_better(benchmark) else "lower is better"


def value_unit(benchmark: Benchmark) -> str:
    """The unit of a cell's value."""
    if benchmark["unit"]:
        return benchmark["unit"]
    return "%" if benchmark["measure"] == "percentage" else ""


def figure_unit(benchmark: Benchmark) -> str:
    """The unit of the combined figure, baseline, targets and expected figure."""
    return COUNTRIES_UNIT if counts_countries(benchmark) else value_unit(benchmark)


def figure_text(value: Figure, decimals: int = 4) -> str:
    """A figure for people, as the content states it: numbers with at most
    `decimals` decimals and no exponent, levels and texts as they are."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
