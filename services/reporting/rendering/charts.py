"""A benchmark's chart as an inline SVG: the combined figure over time (solid
line, round markers) against the expected trajectory (dashed line) and the
targets (diamonds, labelled). A pure function of its arguments, so the report
page and the web pages draw the same picture, and the bytes are the same on
every run: coordinates carry one decimal, numbers on the axis are formatted by
one rule, and the only ids are derived from the caller's key."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from services.reporting.domain.content import Benchmark
from services.reporting.rendering.labels import figure_unit, is_number, more_is_better

WIDTH = 640
HEIGHT = 300
MARGIN_LEFT = 64
MARGIN_RIGHT = 24
MARGIN_TOP = 28
MARGIN_BOTTOM = 48
PLOT_WIDTH = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
PLOT_HEIGHT = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
Y_TICKS = 5
MIN_SPAN = 1e-6  # below this the figures are one level (the content has four decimals)

# Okabe-Ito colours, told apart by people with any common colour-vision
# deficiency; line style and marker shape tell the series apart as well.
ACTUAL_COLOUR = "#0072B2"
EXPECTED_COLOUR = "#555555"
TARGET_COLOUR = "#D55E00"
AS_OF_COLOUR = "#999999"

DatedFigure = tuple[date, float]


@dataclass(frozen=True)
class Target:
    date: date
    value: float
    label: str | None


@dataclass(frozen=True)
class Chart:
    """What one chart shows. `key` makes the element ids unique on a page
    (a benchmark code); `unit` labels the vertical axis."""

    key: str
    title: str
    unit: str
    actual: Sequence[DatedFigure]
    expected: Sequence[DatedFigure]
    targets: Sequence[Target]
    higher_is_better: bool
    as_of: date | None = None


def format_number(value: float, decimals: int = 2) -> str:
    """A figure as people read it: whole numbers without a decimal point,
    others with at most `decimals` decimals (no trailing zeros), never an
    exponent."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def _safe_id(key: str) -> str:
    return "chart-" + re.sub(r"[^A-Za-z0-9_-]", "_", key)


def _nice_step(span: float) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about Y_TICKS ticks."""
    raw = span / Y_TICKS
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10.0 * magnitude


def _value_range(values: Sequence[float]) -> tuple[float, float, float]:
    """(low, high, step) of the vertical axis: nice bounds around every value,
    starting at zero when no value is negative (counts and percentages)."""
    low = min(0.0, *values)
    high = max(values)
    if high - low < MIN_SPAN:
        # A flat (or all-zero) series still gets an axis one unit tall.
        high = low + 1.0
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


class _Scale:
    def __init__(self, chart: Chart) -> None:
        dates = [d for d, _ in chart.actual] + [d for d, _ in chart.expected] + [t.date for t in chart.targets]
        if chart.as_of is not None:
            dates.append(chart.as_of)
        self.first = min(dates).toordinal()
        self.days = max(max(dates).toordinal() - self.first, 1)
        values = [v for _, v in chart.actual] + [v for _, v in chart.expected] + [t.value for t in chart.targets]
        self.low, self.high, self.step = _value_range(values)

    def x(self, day: date) -> float:
        return MARGIN_LEFT + PLOT_WIDTH * (day.toordinal() - self.first) / self.days

    def y(self, value: float) -> float:
        return MARGIN_TOP + PLOT_HEIGHT * (self.high - value) / (self.high - self.low)

    def tick_decimals(self) -> int:
        """Enough decimals to tell the ticks apart (none for a step of 1 or more)."""
        return max(0, -math.floor(math.log10(self.step)))

    def y_ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [self.low + index * self.step for index in range(count + 1)]

    def year_ticks(self) -> list[date]:
        first = date.fromordinal(self.first)
        last = date.fromordinal(self.first + self.days)
        starts = [date(year, 1, 1) for year in range(first.year, last.year + 1)]
        return [start for start in starts if first <= start <= last] or [first]


def _axes(chart: Chart, scale: _Scale) -> list[str]:
    bottom = MARGIN_TOP + PLOT_HEIGHT
    parts = [
        f'<g class="axes" stroke="#333333" stroke-width="1">'
        f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom}"/>'
        f'<line x1="{MARGIN_LEFT}" y1="{bottom}" x2="{MARGIN_LEFT + PLOT_WIDTH}" y2="{bottom}"/></g>',
        '<g class="ticks" font-size="11" fill="#333333">',
    ]
    for value in scale.y_ticks():
        y = _coordinate(scale.y(value))
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y}" x2="{MARGIN_LEFT + PLOT_WIDTH}" y2="{y}" stroke="#E5E5E5"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(format_number(value, scale.tick_decimals()))}</text>"
        )
    for day in scale.year_ticks():
        x = _coordinate(scale.x(day))
        parts.append(
            f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}" stroke="#333333"/>'
            f'<text x="{x}" y="{bottom + 16}" text-anchor="middle">{day.year}</text>'
        )
    parts.append("</g>")
    direction = "higher is better" if chart.higher_is_better else "lower is better"
    parts.append(
        f'<text class="axis-label" x="{MARGIN_LEFT + PLOT_WIDTH / 2:.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle" font-size="12">Valid date</text>'
        f'<text class="axis-label" x="14" y="{MARGIN_TOP + PLOT_HEIGHT / 2:.1f}" text-anchor="middle" '
        f'font-size="12" transform="rotate(-90 14 {MARGIN_TOP + PLOT_HEIGHT / 2:.1f})">'
        f"{escape(chart.unit)} ({direction})</text>"
    )
    return parts


def _polyline(points: Sequence[DatedFigure], scale: _Scale, attributes: str) -> str:
    coordinates = " ".join(f"{_coordinate(scale.x(d))},{_coordinate(scale.y(v))}" for d, v in points)
    return f'<polyline points="{coordinates}" fill="none" {attributes}/>'


def _series(chart: Chart, scale: _Scale) -> list[str]:
    parts: list[str] = []
    if chart.as_of is not None:
        x = scale.x(chart.as_of)
        # The label sits inside the plot, beside the line on the side with more room,
        # so that it never runs into the legend above the plot or off the picture.
        left_half = x < MARGIN_LEFT + PLOT_WIDTH / 2
        label_x, anchor = (x + 4, "start") if left_half else (x - 4, "end")
        parts.append(
            f'<line class="as-of" x1="{_coordinate(x)}" y1="{MARGIN_TOP}" x2="{_coordinate(x)}" '
            f'y2="{MARGIN_TOP + PLOT_HEIGHT}" stroke="{AS_OF_COLOUR}" stroke-dasharray="2 3"/>'
            f'<text x="{_coordinate(label_x)}" y="{MARGIN_TOP + 12}" text-anchor="{anchor}" font-size="11">'
            f"as of {chart.as_of.isoformat()}</text>"
        )
    if chart.expected:
        parts.append(
            _polyline(chart.expected, scale, f'class="expected" stroke="{EXPECTED_COLOUR}" stroke-dasharray="6 4"')
        )
    if chart.actual:
        parts.append(_polyline(chart.actual, scale, f'class="actual" stroke="{ACTUAL_COLOUR}" stroke-width="2"'))
        parts.extend(
            f'<circle cx="{_coordinate(scale.x(d))}" cy="{_coordinate(scale.y(v))}" r="3" fill="{ACTUAL_COLOUR}">'
            f"<title>{d.isoformat()}: {escape(format_number(v))}</title></circle>"
            for d, v in chart.actual
        )
    for target in chart.targets:
        target_x, target_y = scale.x(target.date), scale.y(target.value)
        label = f"Target {format_number(target.value)} by {target.date.isoformat()}"
        if target.label:
            label += f" ({target.label})"
        parts.append(
            f'<path class="target" d="M{_coordinate(target_x)} {_coordinate(target_y - 6)} l6 6 l-6 6 l-6 -6 z" '
            f'fill="{TARGET_COLOUR}"><title>{escape(label)}</title></path>'
        )
    return parts


def _legend() -> str:
    y = MARGIN_TOP - 14
    x = MARGIN_LEFT + PLOT_WIDTH - 250
    return (
        f'<g class="legend" font-size="11">'
        f'<line x1="{x}" y1="{y}" x2="{x + 16}" y2="{y}" stroke="{ACTUAL_COLOUR}" stroke-width="2"/>'
        f'<text x="{x + 20}" y="{y + 4}">combined</text>'
        f'<line x1="{x + 84}" y1="{y}" x2="{x + 100}" y2="{y}" stroke="{EXPECTED_COLOUR}" stroke-dasharray="6 4"/>'
        f'<text x="{x + 104}" y="{y + 4}">expected</text>'
        f'<path d="M{x + 172} {y - 5} l5 5 l-5 5 l-5 -5 z" fill="{TARGET_COLOUR}"/>'
        f'<text x="{x + 180}" y="{y + 4}">target</text></g>'
    )


def describe(chart: Chart) -> str:
    """The chart in words, for people who cannot see it (the SVG's <desc>)."""
    direction = "Higher is better." if chart.higher_is_better else "Lower is better."
    if chart.actual:
        last_day, last_value = chart.actual[-1]
        actual = (
            f"The combined figure has {len(chart.actual)} point(s), the latest {format_number(last_value)} "
            f"{chart.unit} for {last_day.isoformat()}."
        )
    else:
        actual = "There is no combined figure yet."
    targets = "; ".join(f"{format_number(t.value)} {chart.unit} by {t.date.isoformat()}" for t in chart.targets)
    return f"{direction} {actual} Targets: {targets or 'none'}."


def render_chart(chart: Chart) -> str:
    """The chart's SVG markup, or "" when there is nothing to draw."""
    if not (chart.actual or chart.expected or chart.targets):
        return ""
    scale = _Scale(chart)
    element_id = _safe_id(chart.key)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{element_id}-title {element_id}-desc" font-family="sans-serif">',
        f'<title id="{element_id}-title">{escape(chart.title)}</title>',
        f'<desc id="{element_id}-desc">{escape(describe(chart))}</desc>',
        *_axes(chart, scale),
        *_series(chart, scale),
        _legend(),
        "</svg>",
    ]
    return "".join(parts)


def _numeric_targets(benchmark: Benchmark) -> list[Target] | None:
    """The targets on a numeric scale, or None when the benchmark has none (a
    level or a text cannot be placed on an axis)."""
    targets: list[Target] = []
    for target in benchmark["targets"]:
        value = target["value"]
        if not is_number(value):
            return None
        targets.append(Target(date.fromisoformat(target["date"]), float(value), target["label"]))
    return targets


def benchmark_chart(benchmark: Benchmark, as_of: str) -> str:
    """The chart of a benchmark in a report's content, or "" when its figures
    are not numbers (qualitative, nominal, or the latest level of an ordinal
    measure): such a benchmark is read from its figures and cells instead."""
    baseline = benchmark["baseline"]["value"]
    targets = _numeric_targets(benchmark)
    if not is_number(baseline) or targets is None:
        return ""
    # The expected figure is, by measurement's rule, the straight line from
    # the baseline through each target: the same line the series' expected
    # figures lie on, drawn to the final target.
    trajectory = [(date.fromisoformat(benchmark["baseline"]["date"]), float(baseline))]
    trajectory += [(target.date, target.value) for target in targets]
    actual = [
        (date.fromisoformat(point["date"]), float(point["combined"]))
        for point in benchmark["series"]
        if is_number(point["combined"])
    ]
    return render_chart(
        Chart(
            key=benchmark["code"],
            title=f"{benchmark['code']}: {benchmark['title']}",
            unit=figure_unit(benchmark) or benchmark["measure"],
            actual=actual,
            expected=trajectory,
            targets=targets,
            higher_is_better=more_is_better(benchmark),
            as_of=date.fromisoformat(as_of),
        )
    )
