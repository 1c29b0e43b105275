"""Checks version 2 of the framework file, gb329-ins-3-2.v2.yaml: version 1's
transcription with the corrections of issue 11, each naming the paragraph
(or box) of GB.329/INS/3/2 it follows, and nothing else changed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.measurement.adapters.framework_file import DEFAULT_FRAMEWORK_FILE, read_framework_file
from tests.measurement.adapters.test_framework_file import SEED_FILE

DATA = Path(__file__).parents[3] / "services/measurement/framework_data"
CORRECTED = ("schema", "framework", "theory_of_change", "priorities", "pb_alignment", "milestones")


def load(name: str) -> dict[str, Any]:
    with (DATA / name).open(encoding="utf-8") as file:
        document: dict[str, Any] = yaml.safe_load(file)
    return document


@pytest.fixture(scope="module")
def v1() -> dict[str, Any]:
    return load("gb329-ins-3-2.v1.yaml")


@pytest.fixture(scope="module")
def v2() -> dict[str, Any]:
    return load("gb329-ins-3-2.v2.yaml")


def test_version_2_is_the_default_and_reads_as_a_framework_document() -> None:
    assert DEFAULT_FRAMEWORK_FILE == "gb329-ins-3-2.v2.yaml"
    document, digest = read_framework_file()
    assert document["framework"]["version"] == 2
    assert digest != read_framework_file(DATA / "gb329-ins-3-2.v1.yaml")[1]


def test_only_the_corrected_sections_differ_from_version_1(v1: dict[str, Any], v2: dict[str, Any]) -> None:
    assert {key for key in v1.keys() | v2.keys() if v1.get(key) != v2.get(key)} == set(CORRECTED)
    assert {k: v for k, v in v2["framework"].items() if k != "version"} == {
        k: v for k, v in v1["framework"].items() if k != "version"
    }
    assert (v1["framework"]["version"], v2["framework"]["version"]) == (1, 2)


def test_the_theory_of_change_has_both_situation_boxes_with_their_source(v2: dict[str, Any]) -> None:
    theory = v2["theory_of_change"]
    assert theory["current_situation"].startswith("Global supply chains (GSCs) are complex, diverse and fragmented.")
    assert theory["current_situation"].endswith(
        "The expansion of GSCs across borders has exacerbated these governance gaps."
    )
    assert theory["future_situation"].startswith("Decent work deficits are reduced in GSCs")
    for box in ("intervention", "current_situation", "future_situation"):
        assert "Appendix II" in theory["notes"][box], box
    assert "para. 5" in theory["notes"]["current_situation"]


def test_para_7_puts_areas_of_action_1_and_2_first_in_2017_18(v2: dict[str, Any]) -> None:
    (priority,) = v2["priorities"]
    assert priority["paragraph"] == 7 and priority["areas"] == ["AA1", "AA2"]
    assert priority["period"] == {"start": "2017-01-01", "end": "2018-12-31"}
    assert "Para. 7" in priority["note"]


def test_every_pb_row_says_whether_it_is_derived_and_derived_rows_say_from_what(v2: dict[str, Any]) -> None:
    for row in v2["pb_alignment"]:
        assert isinstance(row["derived"], bool), row
        if "all three" in row["text"].lower():
            assert row["derived"], row
        if row["derived"]:
            assert "Para. 14" in row["note"] and row["text"] in row["note"], row
    by_key = {(row["biennium"], row["outcome"]): row for row in v2["pb_alignment"]}
    assert by_key[("2016-17", "3")]["derived"] is False and "note" not in by_key[("2016-17", "3")]


def test_the_2018_19_indirect_indicators_of_outcomes_4_and_5_are_listed(v1: dict[str, Any], v2: dict[str, Any]) -> None:
    by_key = {(row["biennium"], row["outcome"]): row for row in v2["pb_alignment"]}
    four, five = by_key[("2018-19", "4")], by_key[("2018-19", "5")]
    assert (four["direct_indicators"], four["indirect_indicators"]) == (["4.3"], ["4.1", "4.2", "4.4"])
    assert (five["direct_indicators"], five["indirect_indicators"]) == (["5.2"], ["5.1", "5.3"])
    assert four["derived"] and five["derived"]
    assert five["condition"] == "depending on link to GSCs"
    # Nothing else of the alignment moved.
    unchanged = [{k: v for k, v in row.items() if k not in ("derived", "note")} for row in v2["pb_alignment"]]
    changed = [row for row, old in zip(unchanged, v1["pb_alignment"], strict=True) if row != old]
    assert [(row["biennium"], row["outcome"]) for row in changed] == [("2018-19", "4"), ("2018-19", "5")]


def test_one_mid_term_milestone_notes_the_roadmap_s_own_discrepancy(v2: dict[str, Any]) -> None:
    mid_terms = [m for m in v2["milestones"] if "mid-term report" in m["text"]]
    assert len(mid_terms) == 1
    (mid_term,) = mid_terms
    assert mid_term["code"] == "M8" and mid_term["paragraph"] == 9
    assert "November 2019" in mid_term["text"]
    (para_12,) = mid_term["also_in"]
    assert para_12["paragraph"] == 12 and "October 2019" in para_12["text"]
    assert para_12["period"] == {"start": "2019-10-01", "end": "2019-10-31"}
    assert mid_term["period"] == {"start": "2019-10-01", "end": "2019-11-30"}
    assert "November 2019" in mid_term["note"] and "October 2019" in mid_term["note"]
    assert mid_term["replaces"] == ["M12"]


def test_no_milestone_is_listed_twice(v1: dict[str, Any], v2: dict[str, Any]) -> None:
    codes = [m["code"] for m in v2["milestones"]]
    assert codes == [f"M{n}" for n in range(1, 12)]
    final_reports = [m for m in v2["milestones"] if "final report" in m["text"].lower()]
    assert [m["code"] for m in final_reports] == ["M10"]
    assert final_reports[0]["replaces"] == ["M13"]
    # Every milestone of version 1 is one of version 2, by its code or one it replaces.
    kept = set(codes) | {old for m in v2["milestones"] for old in m.get("replaces", [])}
    assert {m["code"] for m in v1["milestones"]} == kept


def test_undated_roadmap_steps_are_due_by_the_end_of_their_roadmap_period(v2: dict[str, Any]) -> None:
    by_code = {m["code"]: m for m in v2["milestones"]}
    for code in ("M2", "M3", "M4", "M5", "M6"):
        assert by_code[code]["period"] == {"start": "2017-01-01", "end": "2018-12-31"}, code
        assert by_code[code]["derived"] and "2017–18" in by_code[code]["note"], code
    assert by_code["M7"]["period"] == {"start": "2019-01-01", "end": "2021-12-31"}
    assert by_code["M7"]["derived"]
    assert by_code["M11"]["period"] is None
    for milestone in v2["milestones"]:
        period = milestone["period"]
        assert period is None or period["start"] <= period["end"], milestone
        assert milestone.get("derived", False) == ("derived" in milestone), milestone


def test_the_new_texts_are_drawn_from_the_seed(v2: dict[str, Any]) -> None:
    raw = SEED_FILE.read_text(encoding="utf-8")
    words = re.sub(r"-[ \t]*\n\s*", "-", raw).split()

    def in_order(text: str) -> bool:
        it = iter(words)
        return all(any(word == token for word in it) for token in text.split())

    texts = [v2["theory_of_change"][box] for box in ("intervention", "current_situation", "future_situation")]
    texts += [priority["text"] for priority in v2["priorities"]]
    texts += [m["text"] for m in v2["milestones"]]
    texts += [mention["text"] for m in v2["milestones"] for mention in m.get("also_in", [])]
    texts += [row["text"] for row in v2["pb_alignment"]]
    assert [text for text in texts if not in_order(text)] == []
