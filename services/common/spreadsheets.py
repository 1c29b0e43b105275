"""Spreadsheet safety (OWASP's CSV-injection guidance), for every file either
service writes for a spreadsheet to open.

A spreadsheet reads a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return as a formula (or a DDE call). A text that starts with one is
written with a leading apostrophe in CSV, and with Excel's quote prefix (the
stored form of a typed leading apostrophe) in XLSX, where the cell keeps the
text itself. Numbers are never guarded: -3 is a number, not a formula.

The CSV guard is undone exactly by `text_from_csv`: a text that already
starts with an apostrophe before a trigger ("'=x") gets a second one, so that
every text comes back as it was written, while an apostrophe before anything
else ("'tis") is left alone both ways."""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
APOSTROPHE = "'"

# XlsxWriter's options for a workbook that never holds a formula: a text is
# written as a text, never turned into a formula, a link or a number.
XLSX_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


_TRIGGERS = frozenset(FORMULA_TRIGGERS)
# The first characters of the texts `needs_text_guard` may say yes to: a quick
# test before it, for a writer of millions of cells.
MAY_NEED_GUARD = _TRIGGERS | {APOSTROPHE}


def needs_text_guard(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula, or it is a
    guarded text that must be guarded again to come back as it is."""
    first = text[:1]
    if first == APOSTROPHE:
        return text.lstrip(APOSTROPHE)[:1] in _TRIGGERS
    return first in _TRIGGERS


def spreadsheet_text(text: str) -> str:
    """A text as a CSV cell a spreadsheet shows as text (a leading apostrophe
    when it needs one)."""
    return APOSTROPHE + text if needs_text_guard(text) else text


def text_from_csv(cell: str) -> str:
    """The text a CSV cell written by `spreadsheet_text` holds."""
    if cell.startswith(APOSTROPHE) and needs_text_guard(cell[1:]):
        return cell[1:]
    return cell
