"""Over small random contents of the model's shape: every format renders
without raising, and renders to the same bytes twice."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.domain.content import canonical_json
from services.reporting.rendering import Format, render
from tests.reporting.rendering.report_samples import assumption, benchmark, cell, report

# Texts as JSON can carry them: any character but a lone surrogate, control
# characters and formula triggers included.
texts = st.text(st.characters(codec="utf-8"), max_size=12)
numbers = st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False).map(lambda value: round(value, 4))
figures = st.none() | numbers | texts
days = st.dates(date(2010, 1, 1), date(2030, 12, 31)).map(date.isoformat)
statuses = st.sampled_from(["achieved", "on_track", "at_risk", "off_track", "no_data", "not_assessed", "new_one"])


@st.composite
def benchmarks(draw):
    measure, combination = draw(
        st.sampled_from(
            [
                ("percentage", "mean"),
                ("unit", "sum"),
                ("ordinal", "count_meeting_threshold"),
                ("ordinal", "latest"),
                ("qualitative", "latest"),
            ]
        )
    )
    scale = texts if combination == "latest" and measure in ("ordinal", "qualitative") else numbers
    targets = [
        {"date": day, "value": draw(scale), "label": draw(st.none() | texts)}
        for day in sorted(draw(st.lists(days, max_size=3, unique=True)))
    ]
    return benchmark(
        draw(st.from_regex(r"[A-Z]{2,4}-[0-9]{1,2}", fullmatch=True)),
        title=draw(texts),
        measure=measure,
        unit=draw(st.none() | texts),
        ascending=draw(st.booleans()),
        combination=combination,
        baseline={"date": draw(days), "value": draw(scale)},
        targets=targets,
        target_in_force=targets[0] if targets else None,
        combined=draw(figures),
        expected=draw(st.none() | numbers),
        progress=draw(st.none() | st.floats(-10, 10, allow_nan=False)),
        status=draw(statuses),
        colour=draw(st.sampled_from(["green", "amber", "red", "grey"])),
        cells=[
            cell(draw(texts), draw(figures), draw(days), draw(st.integers(0, 10**9)), draw(st.none() | texts))
            for _ in range(draw(st.integers(0, 3)))
        ],
        series=[
            {"date": day, "combined": draw(figures), "expected": draw(st.none() | numbers), "status": draw(statuses)}
            for day in sorted(draw(st.lists(days, max_size=4, unique=True)))
        ],
    )


@st.composite
def contents(draw):
    codes = draw(st.lists(st.from_regex(r"CA[0-9]{1,2}", fullmatch=True), max_size=3, unique=True))
    content = report([assumption(code, draw(st.lists(benchmarks(), max_size=2))) for code in codes])
    content["edition"]["as_of"] = draw(days)
    content["edition"]["title"] = draw(texts)
    return content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents())
def test_any_content_renders_in_every_format_and_always_to_the_same_bytes(content):
    for fmt in Format:
        first = render(content, fmt)
        assert first
        assert render(content, fmt) == first
    assert json.loads(render(content, Format.JSON)) == json.loads(canonical_json(content))
