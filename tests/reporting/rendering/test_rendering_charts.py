"""The SVG chart as a pure function (the web pages reuse it)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from services.reporting.rendering.charts import HEIGHT, WIDTH, Chart, Target, format_number, render_chart


def chart(**overrides) -> Chart:
    fields = {
        "key": "ILL-CA2-INSPECTION",
        "title": "Share of workplaces inspected",
        "unit": "%",
        "actual": [(date(2017, 6, 30), 12.5), (date(2018, 3, 31), 14.25)],
        "expected": [(date(2017, 1, 1), 12.0), (date(2019, 12, 31), 18.0), (date(2021, 12, 31), 25.0)],
        "targets": [Target(date(2019, 12, 31), 18.0, "mid-term"), Target(date(2021, 12, 31), 25.0, None)],
        "higher_is_better": True,
        "as_of": date(2018, 3, 31),
    }
    return Chart(**{**fields, **overrides})


def coordinate_texts(svg: str) -> list[str]:
    texts = re.findall(r' (?:x1|x2|y1|y2|cx|cy|x|y)="([^"]*)"', svg)
    for points in re.findall(r'points="([^"]*)"', svg):
        texts += re.split(r"[ ,]", points)
    return texts


def coordinates(svg: str) -> list[float]:
    return [float(text) for text in coordinate_texts(svg)]


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (0, 2, "0"),
        (12.0, 2, "12"),
        (12.5, 2, "12.5"),
        (0.125, 2, "0.12"),
        (-0.001, 2, "0"),
        (1e-7, 2, "0"),
        (123456789.0, 2, "123456789"),
        (0.05, 1, "0.1"),
        (2.5e-5, 6, "0.000025"),
    ],
)
def test_numbers_are_formatted_by_one_rule_without_exponents(value, decimals, text):
    assert format_number(value, decimals) == text


def test_the_same_chart_gives_the_same_markup():
    assert render_chart(chart()) == render_chart(chart())


def test_the_chart_is_an_accessible_image_with_axis_labels():
    svg = render_chart(chart())
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert 'role="img"' in svg
    assert 'aria-labelledby="chart-ILL-CA2-INSPECTION-title chart-ILL-CA2-INSPECTION-desc"' in svg
    assert '<title id="chart-ILL-CA2-INSPECTION-title">Share of workplaces inspected</title>' in svg
    assert "Valid date" in svg and "% (higher is better)" in svg
    assert ">2018</text>" in svg and "as of 2018-03-31" in svg
    assert svg.count('class="target"') == 2 and "Target 18 by 2019-12-31 (mid-term)" in svg


def test_lower_is_better_is_said_on_the_axis_and_in_the_description():
    svg = render_chart(chart(higher_is_better=False))
    assert "% (lower is better)" in svg and "Lower is better." in svg


def test_texts_are_escaped_and_ids_are_derived_from_the_key():
    svg = render_chart(chart(key='CA 1/"x"', title="<script>alert(1)</script> & co", unit="<b>"))
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in svg
    assert "<b>" not in svg
    assert 'id="chart-CA_1__x_-title"' in svg


def test_every_coordinate_is_inside_the_picture_with_one_decimal():
    svg = render_chart(chart())
    assert all(0 <= value <= max(WIDTH, HEIGHT) for value in coordinates(svg))
    assert all(re.fullmatch(r"-?[0-9]+(\.[0-9])?", text) for text in coordinate_texts(svg))


def test_a_chart_without_data_shows_the_trajectory_and_says_there_is_no_figure():
    svg = render_chart(chart(actual=[]))
    assert 'class="expected"' in svg and 'class="actual"' not in svg
    assert "There is no combined figure yet." in svg


def test_nothing_to_draw_gives_no_markup():
    assert render_chart(chart(actual=[], expected=[], targets=[])) == ""


@pytest.mark.parametrize(
    "values",
    [[0.0], [5.0, 5.0], [0.001, 0.002], [-3.0, 2.0], [1e9], [0.0, 5e-324]],
)
def test_flat_tiny_negative_and_huge_ranges_draw_distinct_ticks(values):
    points = [(date(2018, 1, day + 1), value) for day, value in enumerate(values)]
    svg = render_chart(chart(actual=points, expected=[], targets=[], as_of=None))
    ticks = re.findall(r'text-anchor="end" dominant-baseline="middle">([^<]*)<', svg)
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks)
    assert all(0 <= value <= max(WIDTH, HEIGHT) for value in coordinates(svg))
