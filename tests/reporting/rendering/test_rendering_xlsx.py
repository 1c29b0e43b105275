"""The XLSX rendering, read back with openpyxl."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from io import BytesIO

import openpyxl
import pytest

from services.reporting.rendering import Format, render
from services.reporting.rendering.xlsx import NUMBER_FORMATS, sheet_names
from tests.reporting.rendering.report_samples import (
    HOSTILE_TEXTS,
    assumption,
    cell,
    hostile_report,
    report,
    workplan,
)


def workbook(content):
    return openpyxl.load_workbook(BytesIO(render(content, Format.XLSX)))


def stored_text(value: str) -> str:
    """The text Excel shows: OOXML stores a control character as _xHHHH_
    (XlsxWriter writes it so), which openpyxl does not decode when reading."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda match: chr(int(match[1], 16)), value)


def every_cell(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_a_summary_sheet_a_sheet_per_assumption_restatements_and_the_edition():
    book = workbook(report())
    assert book.sheetnames == ["Summary", "CA2", "CA3", "CA4", "CA5", "CA10", "Restatements", "Edition"]


def test_header_rows_are_frozen_and_columns_have_widths():
    book = workbook(report())
    assert book["Summary"].freeze_panes == "A2"
    assert book["CA2"].freeze_panes == "A3"  # the assumption's text, then the header
    assert book["Restatements"].freeze_panes == "A2"
    assert book["Summary"].column_dimensions["C"].width > book["Summary"].column_dimensions["A"].width


def test_summary_has_a_row_per_benchmark_with_numbers_as_numbers():
    sheet = workbook(report())["Summary"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [row["Benchmark"].value for row in rows] == [
        "ILL-CA2-INSPECTION",
        "ILL-CA2-VIOLATIONS",
        "ILL-CA3-DIALOGUE",
        "ILL-CA5-COHERENCE",
        "ILL-CA10-DATASETS",
    ]
    inspection, violations, dialogue, qualitative, empty = rows
    assert inspection["Combined"].value == 14.25 and inspection["Combined"].data_type == "n"
    assert inspection["Combined"].number_format == NUMBER_FORMATS["percentage"]
    assert inspection["Progress"].value == 0.375 and inspection["Progress"].number_format == NUMBER_FORMATS["ratio"]
    assert inspection["Read at position"].value == 240
    assert inspection["Status"].value == "On track" and inspection["Colour"].value == "green"
    assert inspection["Baseline date"].value == datetime(2017, 1, 1)
    assert violations["Direction"].value == "lower is better"
    assert dialogue["Combined"].value == 1 and dialogue["Combined"].number_format == NUMBER_FORMATS["count"]
    assert dialogue["Unit"].value == "countries"
    assert qualitative["Combined"].data_type == "s"
    assert empty["Combined"].value is None and empty["Status"].value == "No data"


def test_an_assumption_sheet_has_its_text_and_a_row_per_cell():
    content = report()
    sheet = workbook(content)["CA2"]
    assert sheet["A1"].value == "CA2" and sheet["B1"].value == content["assumptions"][0]["text"]
    header = [cell.value for cell in sheet[2]]
    rows = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=3)]
    cells = [cell for bench in content["assumptions"][0]["benchmarks"] for cell in bench["cells"]]
    assert len(rows) == len(cells)
    assert [(row["Country"], row["Value"], row["Known at position"]) for row in rows] == [
        (cell["country"], cell["value"], cell["known_at"]) for cell in cells
    ]
    assert rows[0]["Valid date"] == datetime(2018, 3, 31)


def test_a_cell_row_holds_only_the_cells_own_fields_and_its_value_shows_its_unit():
    content = copy.deepcopy(report())
    datasets = content["assumptions"][4]["benchmarks"][0]  # measure "unit", in datasets
    datasets["cells"] = [cell("BGD", 3), cell("VNM", 2.5, sector="textiles")]
    datasets["unit"] = 'sets "open"'
    sheet = workbook(content)["CA10"]
    assert [cell.value for cell in sheet[2]] == [
        "Benchmark",
        "Country",
        "Sector",
        "Value",
        "Valid date",
        "Known at position",
    ]
    whole, decimal = sheet[3], sheet[4]
    assert [c.value for c in decimal] == ["ILL-CA10-DATASETS", "VNM", "textiles", 2.5, datetime(2018, 3, 31), 120]
    # The unit is a literal of the number format, as a percentage's % sign is: the value stays a number.
    assert whole[3].value == 3 and whole[3].number_format == NUMBER_FORMATS["count"] + '" sets "\\""open"\\"""'
    assert (
        decimal[3].data_type == "n" and decimal[3].number_format == NUMBER_FORMATS["decimal"] + '" sets "\\""open"\\"""'
    )
    percentages = workbook(content)["CA2"]
    assert percentages["D3"].number_format == NUMBER_FORMATS["percentage"]


def test_the_workplan_has_a_sheet_of_deliverables_and_one_of_milestones():
    content = report()
    content["workplan"] = workplan()
    book = workbook(content)
    assert book.sheetnames == [
        "Summary",
        *("CA2", "CA3", "CA4", "CA5", "CA10"),
        *("Restatements", "Deliverables", "Milestones", "Edition"),
    ]
    deliverables = list(book["Deliverables"].iter_rows(values_only=True))
    header = deliverables[0]
    rows = [dict(zip(header, row, strict=True)) for row in deliverables[1:]]
    assert [(row["Deliverable"], row["Status"], row["Late"]) for row in rows] == [
        ("2.1", "delivered", "no"),
        ("9.2", "dropped", "no"),
    ]
    assert rows[0]["Delivered on"] == datetime(2018, 11, 30) and rows[1]["Reason"] == "=merged into 9.1"
    assert book["Deliverables"]["K3"].quotePrefix and book["Deliverables"]["K3"].data_type == "s"
    milestones = list(book["Milestones"].iter_rows(values_only=True))
    assert milestones[1][:5] == ("M5", 9, "Mid-term report to the Governing Body", None, "open")
    assert milestones[2][5] == datetime(2019, 10, 15) and milestones[2][7] == "GB.337 <report>"


def test_the_restatements_sheet_names_each_cell_with_its_sector():
    sheet = workbook(report())["Restatements"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert [(row["Country"], row["Sector"], row["Reason"]) for row in rows] == [
        ("BGD", None, "correction"),
        ("ETH", "textiles", "new observation"),
    ]
    assert rows[0]["Value before"] == 12.5 and rows[0]["Value after"] == 13.0
    assert rows[1]["Value before"] is None and rows[1]["Known at after"] == 57
    assert rows[1]["As of"] == datetime(2017, 12, 31)


def test_an_assumption_without_benchmarks_has_its_sheet_with_only_the_header():
    sheet = workbook(report())["CA4"]
    assert sheet.max_row == 2


def test_no_cell_is_a_formula_and_hostile_texts_are_kept_as_text():
    book = workbook(hostile_report())
    cells = list(every_cell(book))
    assert all(cell.data_type != "f" for cell in cells)
    texts = {stored_text(cell.value): cell for cell in cells if isinstance(cell.value, str)}
    for text in (*HOSTILE_TEXTS, "=1+1 title", "@sector", "=cmd|' /C calc'!A0", "-2+3"):
        assert text in texts, text
        assert texts[text].data_type == "s"
        # Excel's stored form of a typed leading apostrophe: shown, and kept, as text.
        assert texts[text].quotePrefix
    assert not texts["BGD"].quotePrefix


def test_the_document_properties_come_from_the_pins():
    properties = workbook(report()).properties
    assert properties.created == datetime(2018, 3, 31)
    assert properties.title == "Mid-term stocktaking report (as of 2018-03-31)"


@pytest.mark.parametrize(
    ("codes", "names"),
    [
        (["CA1", "CA2"], ["CA1", "CA2"]),
        (["Summary", "a/b", "x" * 40, ""], ["Assumption 1", "a b", "x" * 31, "Assumption 4"]),
        (["CA1", "ca1"], ["CA1", "Assumption 2"]),
    ],
)
def test_sheet_names_are_valid_and_unique(codes, names):
    assert sheet_names([assumption(code, []) for code in codes]) == names
