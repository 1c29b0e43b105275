"""The CSV rendering: one row per cell, RFC 4180, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from services.reporting.rendering import Format, render
from services.reporting.rendering.csv_render import HEADER, csv_field
from tests.reporting.rendering.report_samples import HOSTILE_TEXTS, assumption, benchmark, hostile_report, report


def read_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def all_cells(content):
    return [
        (item["code"], bench, cell)
        for item in content["assumptions"]
        for bench in item["benchmarks"]
        for cell in bench["cells"]
    ]


def test_one_row_per_cell_with_its_values_and_the_editions_pins():
    content = report()
    rows = read_rows(render(content, Format.CSV))
    cells = all_cells(content)
    assert len(rows) == len(cells) > 0
    for row, (code, bench, cell) in zip(rows, cells, strict=True):
        assert (row["edition_kind"], row["edition_as_of"], row["edition_position"]) == ("mid-term", "2018-03-31", "240")
        assert row["framework"] == "GSC-POA-2017-21 v1"
        assert (row["assumption"], row["benchmark"], row["country"]) == (code, bench["code"], cell["country"])
        assert row["sector"] == (cell["sector"] or "")
        assert row["value"] == str(cell["value"])
        assert (row["valid_date"], row["known_at"]) == (cell["valid_date"], str(cell["known_at"]))
        assert row["combined"] == ("" if bench["combined"] is None else str(bench["combined"]))
        assert row["status"] == bench["status"]


def test_the_header_names_every_column_and_lines_end_in_crlf():
    data = render(report(), Format.CSV)
    lines = data.split(b"\r\n")
    assert lines[0].decode() == ",".join(HEADER)
    assert lines[-1] == b""  # the last record ends in CRLF too
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_a_benchmark_without_cells_has_no_row_and_an_edition_without_cells_has_only_the_header():
    rows = read_rows(render(report([assumption("CA1", []), assumption("CA2", [benchmark("B", cells=[])])]), Format.CSV))
    assert rows == []


def test_texts_starting_with_a_formula_trigger_are_prefixed_so_a_spreadsheet_shows_text():
    rows = read_rows(render(hostile_report(), Format.CSV))
    countries = [row["country"] for row in rows if row["benchmark"] == "ILL-CA2-INSPECTION"]
    assert countries == ["'" + text for text in HOSTILE_TEXTS]
    assert {row["sector"] for row in rows if row["benchmark"] == "ILL-CA2-INSPECTION"} == {"'@sector"}
    qualitative = next(row for row in rows if row["benchmark"] == "ILL-CA5-COHERENCE")
    assert qualitative["value"] == "'=cmd|' /C calc'!A0"
    assert qualitative["combined"] == "'-2+3"


@pytest.mark.parametrize(
    ("value", "field"),
    [(None, ""), (0, "0"), (-3, "-3"), (-3.5, "-3.5"), (12.25, "12.25"), (0.1, "0.1"), ("BGD", "BGD"), ("-3", "'-3")],
)
def test_numbers_stay_numbers_and_only_texts_are_guarded(value, field):
    assert csv_field(value) == field


def test_quotes_commas_and_line_breaks_in_texts_survive_the_round_trip():
    text = 'He said "yes", then\r\nleft'
    content = report([assumption("CA1", [benchmark("B", cells=[{**benchmark("B")["cells"][0], "sector": text}])])])
    assert read_rows(render(content, Format.CSV))[0]["sector"] == text
