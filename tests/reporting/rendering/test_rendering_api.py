"""The renderers' public interface: one `render` per format, the same bytes
for the same content, whatever the clock, the process or the hash seed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from services.reporting.domain.content import canonical_json
from services.reporting.rendering import FILE_EXTENSIONS, MEDIA_TYPES, TEMPLATE_VERSION, Format, render
from tests.reporting.rendering.report_samples import (
    assumption,
    benchmark,
    empty_benchmark,
    hostile_report,
    qualitative_benchmark,
    report,
)

ROOT = Path(__file__).resolve().parents[3]
CONTENTS = {
    "mid-term": report(),
    "hostile texts": hostile_report(),
    "no benchmarks at all": report([assumption("CA1", []), assumption("CA2", [])]),
    "only a benchmark without data": report([assumption("CA10", [empty_benchmark()])]),
    "only a qualitative benchmark": report([assumption("CA5", [qualitative_benchmark()])]),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_format_has_a_media_type_and_a_file_extension():
    assert set(MEDIA_TYPES) == set(Format) == set(FILE_EXTENSIONS)
    assert {FILE_EXTENSIONS[fmt] for fmt in Format} == {".json", ".html", ".csv", ".xlsx"}
    assert isinstance(TEMPLATE_VERSION, str) and TEMPLATE_VERSION


def test_a_format_may_be_named_by_its_string():
    assert render(report(), Format("csv")) == render(report(), Format.CSV)


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("name", list(CONTENTS))
def test_the_same_content_renders_to_the_same_bytes(name, fmt):
    first = render(CONTENTS[name], fmt)
    assert first
    assert sha256(render(CONTENTS[name], fmt)) == sha256(first)


@pytest.mark.parametrize("fmt", list(Format))
def test_an_equal_content_built_separately_renders_to_the_same_bytes(fmt):
    # Equal, not identical: a content read back from its JSON is a new tree.
    content = report()
    assert render(json.loads(canonical_json(content)), fmt) == render(content, fmt)


@pytest.mark.parametrize("fmt", list(Format))
def test_a_different_content_renders_to_different_bytes(fmt):
    changed = report([assumption("CA2", [benchmark("ILL-CA2-INSPECTION", combined=14.5)])])
    original = report([assumption("CA2", [benchmark("ILL-CA2-INSPECTION")])])
    assert render(changed, fmt) != render(original, fmt)


def test_xlsx_bytes_do_not_depend_on_the_wall_clock():
    first = render(report(), Format.XLSX)
    time.sleep(1.1)
    second = render(report(), Format.XLSX)
    assert sha256(first) == sha256(second)
    with zipfile.ZipFile(BytesIO(first)) as package:
        assert {entry.date_time for entry in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = package.read("docProps/core.xml").decode()
    # The creation date is the edition's valid date, from its pins.
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2018-03-31T00:00:00Z</dcterms:created>' in core


RENDER_IN_A_NEW_PROCESS = """
import hashlib
from tests.reporting.rendering.report_samples import hostile_report, report
from services.reporting.rendering import Format, render
for content in (report(), hostile_report()):
    for fmt in Format:
        print(fmt, hashlib.sha256(render(content, fmt)).hexdigest())
"""


def test_two_processes_with_different_hash_seeds_render_the_same_bytes():
    answers = []
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", RENDER_IN_A_NEW_PROCESS],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        answers.append(done.stdout)
    assert answers[0] == answers[1]
    assert len(answers[0].splitlines()) == 2 * len(Format)
