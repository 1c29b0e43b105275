"""The pins of an export that the caller gives (domain/exports.py), on
their own: any biennium text is a biennium's last day or a problem naming
`biennium`, never another failure."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import InvalidCommandError
from services.reporting.domain.exports import (
    ExportFormat,
    ExportKind,
    biennium_end,
    check_biennium,
    check_format,
    check_request,
)


def test_a_biennium_ends_on_the_last_day_of_its_second_year() -> None:
    assert biennium_end("2016-17") == date(2017, 12, 31)
    assert biennium_end("2098-99") == date(2099, 12, 31)
    assert biennium_end("2099-00") == date(2100, 12, 31)


@pytest.mark.parametrize("text", ["2018-20", "2018/19", "18-19", "9999-00", "2018-19 ", "2018-19\n", "", "٢٠١٨-١٩"])
def test_what_is_not_a_biennium_is_a_problem_naming_it(text: str) -> None:
    with pytest.raises(InvalidCommandError) as raised:
        biennium_end(text)
    assert raised.value.problems[0].path == ("biennium",)


@given(st.text(max_size=16))
def test_any_text_is_a_biennium_s_end_or_a_problem(text: str) -> None:
    try:
        assert biennium_end(text).month == 12
    except InvalidCommandError as error:
        assert error.problems[0].path == ("biennium",)


def test_a_biennium_the_framework_does_not_align_with_is_refused_naming_those_it_does() -> None:
    check_biennium("2018-19", ["2016-17", "2018-19"])
    with pytest.raises(InvalidCommandError, match="2016-17, 2018-19; there is no alignment for 2020-21"):
        check_biennium("2020-21", ["2016-17", "2018-19"])


def test_each_kind_takes_its_own_pins_and_formats() -> None:
    check_request(ExportKind.PI_CONTRIBUTION, "2018-19")
    check_request(ExportKind.IATI_ACTIVITY, None)
    for kind, biennium in ((ExportKind.PI_CONTRIBUTION, None), (ExportKind.IATI_ACTIVITY, "2018-19")):
        with pytest.raises(InvalidCommandError):
            check_request(kind, biennium)
    check_format(ExportKind.IATI_ACTIVITY, ExportFormat.XML)
    with pytest.raises(InvalidCommandError, match="json, csv, xlsx; there is no xml rendering"):
        check_format(ExportKind.PI_CONTRIBUTION, ExportFormat.XML)
