"""The JSON rendering is the content's canonical JSON."""

from __future__ import annotations

import json

from services.reporting.rendering import Format, render
from tests.reporting.rendering.report_samples import report


def test_json_parses_back_to_the_content():
    content = report()
    assert json.loads(render(content, Format.JSON)) == content


def test_json_is_canonical_sorted_compact_utf8_with_a_final_newline():
    data = render(report(), Format.JSON)
    assert data.endswith(b"}\n")
    assert data.count(b"\n") == 1
    assert "2017–21".encode() in data  # an en dash as UTF-8, not \u2013
    assert b"\\u2013" not in data
    reparsed = json.loads(data)
    assert data == json.dumps(reparsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
