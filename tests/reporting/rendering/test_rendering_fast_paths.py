"""The renderers' fast paths write what the plain ones wrote, byte for byte
(an edition made before them must still verify): the HTML cells table built
in Python against the template loop it replaced, the CSV written a
benchmark's shared fields at a time against every row written whole, and
XLSX cells written by `_Sheet` against XlsxWriter's own worksheets."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings

from services.reporting.domain.content import Benchmark, ReportContent
from services.reporting.rendering import csv_render, html, xlsx
from services.reporting.rendering.csv_render import HEADER, csv_field
from tests.reporting.rendering.report_samples import hostile_report, report
from tests.reporting.rendering.test_rendering_properties import contents

# The loop the template held before `cell_rows`, in the template's environment.
TEMPLATE_LOOP = (
    "{% for benchmark in benchmarks %}\n<tbody>\n{% for cell in benchmark.cells %}\n"
    '<tr><td>{{ cell.country }}</td><td>{{ cell.sector or "all sectors" }}</td>'
    '<td class="number">{{ with_unit(cell.value, value_unit(benchmark)) }}</td><td>{{ cell.valid_date }}</td>'
    '<td class="number">{{ cell.known_at }}</td></tr>\n{% endfor %}\n</tbody>\n{% endfor %}\n'
)
FAST_LOOP = """{% for benchmark in benchmarks %}
<tbody>
{{ cell_rows(benchmark) }}</tbody>
{% endfor %}
"""


def _benchmarks(content: ReportContent) -> list[Benchmark]:
    return [benchmark for assumption in content["assumptions"] for benchmark in assumption["benchmarks"]]


def _csv_rows_whole(content: ReportContent) -> bytes:
    """The CSV as it was written before: every row whole, by one writer."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    pins = content["edition"]
    checkpoint = pins["checkpoint"]
    for assumption in content["assumptions"]:
        for benchmark in assumption["benchmarks"]:
            for cell in benchmark["cells"]:
                fields = (
                    pins["kind"],
                    pins["as_of"],
                    pins["position"],
                    None if checkpoint is None else checkpoint["root_hash"],
                    pins["framework"],
                    pins["template_version"],
                    assumption["code"],
                    benchmark["code"],
                    benchmark["measure"],
                    benchmark["unit"],
                    cell["country"],
                    cell["sector"],
                    cell["value"],
                    cell["valid_date"],
                    cell["known_at"],
                    benchmark["combined"],
                    benchmark["expected"],
                    benchmark["status"],
                )
                writer.writerow([csv_field(field) for field in fields])
    return buffer.getvalue().encode("utf-8")


def check_fast_paths(content: ReportContent) -> None:
    environment = html._environment()
    benchmarks = _benchmarks(content)
    plain = environment.from_string(TEMPLATE_LOOP).render(benchmarks=benchmarks)
    assert environment.from_string(FAST_LOOP).render(benchmarks=benchmarks) == plain
    assert csv_render.render_csv(content) == _csv_rows_whole(content)
    assert xlsx.render_xlsx(content) == xlsx.render_xlsx(content, fast_cells=False)


@pytest.mark.parametrize("make", [report, hostile_report], ids=["sample", "hostile"])
def test_the_fast_paths_write_the_plain_bytes(make) -> None:
    content = make()
    assert any(benchmark["cells"] for benchmark in _benchmarks(content))
    check_fast_paths(content)


def test_a_text_with_quotes_commas_line_breaks_and_markup_in_every_cell_field() -> None:
    content = report()
    for benchmark in _benchmarks(content):
        for cell in benchmark["cells"]:
            cell["country"] = 'A,"B"\r\n<b>&'
            cell["sector"] = "=1+2\n"
            cell["valid_date"] = '2019-10-31 \'"x"'
    check_fast_paths(content)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents())
def test_any_content_gives_the_plain_bytes(content) -> None:
    check_fast_paths(content)


def test_the_fast_xlsx_cells_are_in_use_with_this_xlsxwriter() -> None:
    # Else the fast path would be tested against itself and never run.
    import xlsxwriter  # type: ignore[import-untyped]

    assert xlsxwriter.__version__ in xlsx.FAST_CELLS_VERSIONS
