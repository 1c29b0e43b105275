"""The guard that keeps a text from being read as a formula (OWASP's
CSV-injection guidance), and its exact undoing by an import."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.spreadsheets import FORMULA_TRIGGERS, needs_text_guard, spreadsheet_text, text_from_csv

texts = st.text(alphabet=st.sampled_from([*FORMULA_TRIGGERS, "'", "a", "1", " ", '"', ","]), max_size=6) | st.text()


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_a_text_starting_with_a_trigger_gets_an_apostrophe(trigger: str) -> None:
    assert spreadsheet_text(f"{trigger}cmd|' /C calc'!A0") == f"'{trigger}cmd|' /C calc'!A0"


@pytest.mark.parametrize("text", ["BGD", "2019-Q2", "12.5", "a=b", " =x", "'tis", ""])
def test_other_texts_are_written_as_they_are(text: str) -> None:
    assert spreadsheet_text(text) == text
    assert text_from_csv(text) == text


def test_a_text_that_looks_guarded_is_guarded_again_so_it_comes_back_as_it_was() -> None:
    assert spreadsheet_text("'=x") == "''=x"
    assert text_from_csv("''=x") == "'=x"
    assert text_from_csv("'=x") == "=x"


@given(texts)
def test_every_text_comes_back_from_its_guarded_form(text: str) -> None:
    assert text_from_csv(spreadsheet_text(text)) == text


@given(texts)
def test_no_guarded_text_starts_with_a_trigger(text: str) -> None:
    guarded = spreadsheet_text(text)
    assert not guarded.startswith(FORMULA_TRIGGERS)
    assert needs_text_guard(text) == (guarded != text)
