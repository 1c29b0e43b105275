"""The programme's window is the one every framework file gives: from the
programme's start to its final report to the Governing Body."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from services.common.errors import InvalidCommandError
from services.measurement.domain.framework import PROGRAMME_WINDOW, FrameworkDocument, ProgrammeWindow
from services.measurement.domain.values import Period

FRAMEWORK_FILES = sorted((Path(__file__).parents[3] / "services/measurement/framework_data").glob("*.yaml"))


@pytest.mark.parametrize("path", FRAMEWORK_FILES, ids=lambda path: path.name)
def test_the_window_is_the_framework_files(path: Path) -> None:
    document = FrameworkDocument(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert ProgrammeWindow.of(document) == PROGRAMME_WINDOW == ProgrammeWindow(date(2017, 1, 1), date(2022, 10, 31))


def test_a_period_holds_only_within_the_window_and_once_begun() -> None:
    today = date(2020, 5, 15)
    for label in ("2017-01-01", "2017", "2020-Q2", "2020-05", "2020-05-15"):
        PROGRAMME_WINDOW.check_holds(Period.parse(label), today, ("period",))
    for label, says in (("2016-12-31", "outside"), ("2020-05-16", "after today"), ("2021", "after today")):
        with pytest.raises(InvalidCommandError, match=says):
            PROGRAMME_WINDOW.check_holds(Period.parse(label), today, ("period",))
