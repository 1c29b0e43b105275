"""The diff of two editions and the first difference verification names
(domain/diff.py), on their own. No I/O."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.reporting.domain.content import ReportContent
from services.reporting.domain.diff import diff, first_difference
from tests.reporting.rendering.report_samples import assumption, benchmark, cell, report
from tests.reporting.rendering.test_rendering_properties import contents

ANY_CONTENT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _two_editions() -> tuple[ReportContent, ReportContent]:
    before = report(
        [
            assumption("CA1", [benchmark("CA1-A", cells=[cell("BGD", 12), cell("VNM", 14)])]),
            assumption("CA2", [benchmark("CA2-A"), benchmark("CA2-GONE")]),
            assumption("CA3", [benchmark("CA3-A")]),
        ]
    )
    after = copy.deepcopy(before)
    first = after["assumptions"][0]["benchmarks"][0]
    first["cells"] = [cell("BGD", 13, known_at=200), cell("ETH", 9)]
    first["combined"], first["status"], first["colour"] = 11.0, "at_risk", "amber"
    after["assumptions"][1]["benchmarks"] = [after["assumptions"][1]["benchmarks"][0], benchmark("CA2-NEW")]
    del after["assumptions"][2]
    return before, after


def test_the_diff_lists_per_assumption_each_changed_benchmark_with_its_figures_and_cells() -> None:
    before, after = _two_editions()
    found = diff(before, after)
    assert [a["code"] for a in found] == ["CA1", "CA2", "CA3"]  # the second edition's order, then the first's
    [changed] = found[0]["benchmarks"]
    assert changed["code"] == "CA1-A" and changed["change"] == "changed"
    assert set(changed["fields"]) == {"combined", "status", "colour"}
    assert changed["fields"]["status"] == {"before": "on_track", "after": "at_risk"}
    cells = {c["country"]: (c["before"], c["after"]) for c in changed["cells"]}
    assert list(cells) == ["BGD", "ETH", "VNM"]
    assert cells["BGD"][0]["value"] == 12 and cells["BGD"][1] == {
        "value": 13,
        "valid_date": "2018-03-31",
        "known_at": 200,
    }
    assert cells["ETH"][0] is None and cells["VNM"][1] is None
    assert [(b["code"], b["change"]) for b in found[1]["benchmarks"]] == [("CA2-GONE", "removed"), ("CA2-NEW", "added")]
    assert [(b["code"], b["change"]) for b in found[2]["benchmarks"]] == [("CA3-A", "removed")]


def test_the_diff_the_other_way_round_swaps_before_and_after() -> None:
    before, after = _two_editions()
    forth, back = diff(before, after), diff(after, before)
    changed_forth, changed_back = forth[0]["benchmarks"][0], back[0]["benchmarks"][0]
    assert changed_back["fields"]["combined"] == {
        "before": 11.0,
        "after": changed_forth["fields"]["combined"]["before"],
    }


@ANY_CONTENT
@given(contents())
def test_an_edition_compared_with_itself_has_no_difference(content: ReportContent) -> None:
    assert diff(content, copy.deepcopy(content)) == []
    assert first_difference(content, copy.deepcopy(content)) is None


def test_the_first_difference_is_named_by_codes_in_the_content_s_order() -> None:
    before, after = _two_editions()
    assert first_difference(before, after) == "assumptions/CA1/benchmarks/CA1-A/combined"
    made = copy.deepcopy(before)
    made["assumptions"][1]["benchmarks"][1]["cells"][0]["value"] = 99
    assert first_difference(before, made) == "assumptions/CA2/benchmarks/CA2-GONE/cells/0/value"
    made = copy.deepcopy(before)
    made["restatements"] = [*made["restatements"], {**made["restatements"][0], "country": "ZZZ"}]
    assert first_difference(before, made) == "restatements"  # the items both have agree: the list differs
    made["restatements"][0]["reason"] = "scope_change"
    assert first_difference(before, made) == "restatements/ILL-CA2-INSPECTION/reason"


def test_a_key_missing_on_one_side_differs_even_from_a_none() -> None:
    stored: dict[str, Any] = {"edition": {"previous": None}, "workplan": None}
    assert first_difference(stored, {"edition": {}, "workplan": None}) == "edition/previous"
    assert first_difference(stored, {**stored, "extra": None}) == "extra"
    assert first_difference(1, 2) == "(the whole content)"


@ANY_CONTENT
@given(contents(), st.data())
def test_a_changed_figure_is_found_where_it_was_changed(content: ReportContent, data: st.DataObject) -> None:
    places = [
        (a_index, b_index)
        for a_index, item in enumerate(content["assumptions"])
        for b_index, _ in enumerate(item["benchmarks"])
    ]
    if not places:
        return
    a_index, b_index = data.draw(st.sampled_from(places))
    made = copy.deepcopy(content)
    changed = made["assumptions"][a_index]["benchmarks"][b_index]
    changed["position"] += 1
    name = first_difference(content, made)
    assert name is not None and name.endswith("/position") and name.startswith("assumptions/")
    assert diff(content, made) == []  # the position is a pin, not a figure the diff compares


def test_each_sector_of_a_country_is_its_own_cell_in_the_diff() -> None:
    before = report([assumption("CA1", [benchmark("CA1-A", cells=[cell("BGD", 1, sector="garments")])])])
    after = copy.deepcopy(before)
    after["assumptions"][0]["benchmarks"][0]["cells"].append(cell("BGD", 2, sector="agri-food"))
    [changed] = diff(before, after)[0]["benchmarks"]
    assert [(c["country"], c["sector"], c["before"]) for c in changed["cells"]] == [("BGD", "agri-food", None)]
