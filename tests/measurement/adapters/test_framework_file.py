"""Checks the transcription of GB.329/INS/3/2 in framework_data/gb329-ins-3-2.v1.yaml.

The time frames of the deliverables are re-derived here, independently of the data
file, by decoding the raw "X" rows of the converted source document (seed file).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DATA_FILE = Path(__file__).parents[3] / "services/measurement/framework_data/gb329-ins-3-2.v1.yaml"
# The source document, kept in the repository (fixtures/gb329/ORIGIN.md says whence).
SEED_FILE = Path(__file__).parents[1] / "fixtures/gb329/GB.329-INS-3-2.txt"

QUARTERS = [f"{year}-Q{q}" for year in range(2017, 2022) for q in range(1, 5)]
QUARTER_RE = re.compile(r"^20(17|18|19|20|21)-Q[1-4]$")

EXPECTED_AREAS = {
    "AA1": ["2.1", "4.1", "6.5", "8.1", "9.1", "9.2"],
    "AA2": ["1.6", "2.5", "6.6", "8.2"],
    "AA3": ["1.1", "1.2", "1.3", "1.4", "1.5", "3.1"],
    "AA4": ["2.2", "2.3", "2.4", "3.2", "3.3", "4.2", "4.3", "4.4", "5.3", "6.1", "6.4", "7.1"],
    "AA5": ["5.1", "5.2"],
}
EXPECTED_AREA_OF = {code: area for area, codes in EXPECTED_AREAS.items() for code in codes}
# Appendix I table order.
EXPECTED_ORDER = [c for area in ("AA1", "AA2", "AA3", "AA4", "AA5") for c in EXPECTED_AREAS[area]]

# Deliverables whose text is split across a page break of Appendix I so that the
# row of X marks is printed BEFORE the "(code)" marker that closes the text. For
# these, the X row is the last X-only line preceding the marker:
#   4.1 - text breaks after "(3) explore how to implement"; X row, page header,
#         then "interventions based on geography or by sector (4.1)".
#   9.1 - text breaks after "what their impact is on"; activities 1-3, X row, page
#         header, then "decent work and fundamental rights (9.1)" and activity 4.
#   1.1 - text breaks after "...principles and rights at work including"; activity 1,
#         X row, page header, then "the enabling rights ... (1.1)" and activities 2-4.
#   7.1 - text breaks after "...indicators for investment promotion"; activities,
#         X row, page header, then "agencies, guidance on ... EPZs (7.1)".
# For every other deliverable the X row is the first X-only line after the marker.
X_ROW_BEFORE_MARKER = {"4.1", "9.1", "1.1", "7.1"}


@pytest.fixture(scope="module")
def data() -> dict:
    with DATA_FILE.open(encoding="utf-8") as fh:
        document: dict = yaml.safe_load(fh)
    return document


@pytest.fixture(scope="module")
def seed_lines() -> list[str]:
    return SEED_FILE.read_text(encoding="utf-8").split("\n")


def _is_x_row(line: str) -> bool:
    return "X" in line and set(line) <= {"X", " "}


def _decode_x_row(line: str) -> list[str]:
    """'X ' (X plus one space) is a marked cell, a lone ' ' an empty cell."""
    marked: list[bool] = []
    pos = 0
    while pos < len(line):
        if line[pos] == "X":
            assert line[pos + 1 : pos + 2] in ("", " "), f"malformed X row {line!r}"
            marked.append(True)
            pos += 2
        else:
            marked.append(False)
            pos += 1
    assert len(marked) <= 20, f"X row decodes to {len(marked)} > 20 cells: {line!r}"
    marked += [False] * (20 - len(marked))  # trailing blanks may have been stripped
    return [q for q, on in zip(QUARTERS, marked, strict=True) if on]


def _expected_quarters_from_seed(lines: list[str]) -> dict[str, list[str]]:
    marker_re = re.compile(r"\((\d+\.\d+)\)\s*$")
    markers: dict[str, int] = {}
    for idx, line in enumerate(lines):
        m = marker_re.search(line)
        if m and m.group(1) in EXPECTED_AREA_OF:
            assert m.group(1) not in markers, f"duplicate marker ({m.group(1)})"
            markers[m.group(1)] = idx
    assert set(markers) == set(EXPECTED_AREA_OF), "missing deliverable markers in seed"

    x_rows = [idx for idx, line in enumerate(lines) if _is_x_row(line)]
    assert len(x_rows) == 30, f"expected 30 X rows in Appendix I, found {len(x_rows)}"

    chosen: dict[str, int] = {}
    for code, marker in markers.items():
        if code in X_ROW_BEFORE_MARKER:
            chosen[code] = max(i for i in x_rows if i < marker)
        else:
            chosen[code] = min(i for i in x_rows if i > marker)
    assert len(set(chosen.values())) == 30, "two deliverables mapped to the same X row"
    return {code: _decode_x_row(lines[idx]) for code, idx in chosen.items()}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- top level -------------------------------------------------------------------


def test_top_level_keys_and_framework(data):
    assert list(data) == [
        "schema",
        "framework",
        "theory_of_change",
        "areas_of_action",
        "critical_assumptions",
        "expected_changes",
        "deliverables",
        "pb_alignment",
        "cross_cutting_policy_drivers_note",
        "sdgs",
        "milestones",
    ]
    assert data["schema"] == "stocktake.framework/1"
    fw = data["framework"]
    assert fw["code"] == "GSC-POA-2017-21"
    assert fw["version"] == 1
    assert fw["source"]["document"] == "GB.329/INS/3/2"
    assert fw["period"] == {"start": "2017-01-01", "end": "2021-12-31"}
    toc = data["theory_of_change"]
    assert toc["intervention"].startswith("The ILO programme of action on global supply chains")
    assert toc["future_situation"].startswith("Decent work deficits are reduced in GSCs")


def test_five_areas_of_action(data):
    areas = data["areas_of_action"]
    assert [a["code"] for a in areas] == ["AA1", "AA2", "AA3", "AA4", "AA5"]
    assert [a["number"] for a in areas] == [1, 2, 3, 4, 5]
    assert areas[0]["title"] == "Knowledge generation and dissemination"
    assert areas[1]["title"] == "Capacity building"
    assert areas[3]["title"] == "Policy advice and technical assistance"
    assert areas[4]["title"] == "Partnerships and policy coherence"


def test_critical_assumptions(data):
    cas = data["critical_assumptions"]
    assert [c["code"] for c in cas] == [f"CA{i}" for i in range(1, 11)]
    assert cas[0]["text"] == (
        "Governments take action to deal with national challenges holding back "
        "ratification of international labour standards and their application."
    )
    assert cas[9]["text"] == (
        "National capacity to generate key datasets on GSCs and ILO coordinates "
        "statistical data on GSCs in cooperation with authoritative forums."
    )


def test_expected_changes(data):
    ecs = data["expected_changes"]
    assert [c["code"] for c in ecs] == [f"EC{i}" for i in range(1, 13)]
    assert all(isinstance(c["text"], str) and c["text"] for c in ecs)


# --- deliverables ------------------------------------------------------------------


def test_deliverable_codes_order_and_areas(data):
    dels = data["deliverables"]
    codes = [d["code"] for d in dels]
    assert len(codes) == 30
    assert set(codes) == set(EXPECTED_AREA_OF)
    assert codes == EXPECTED_ORDER
    for d in dels:
        assert d["area"] == EXPECTED_AREA_OF[d["code"]], d["code"]


def test_deliverable_texts(data):
    for d in data["deliverables"]:
        assert d["title"] and not re.search(r"\(\d+\.\d+\)\s*$", d["title"]), d["code"]
        assert len(d["key_activities"]) >= 1, d["code"]
        for act in d["key_activities"]:
            assert act and act == _norm(act), (d["code"], act)
            assert not re.match(r"^\d+\.\s", act), (d["code"], act)


def test_active_quarters_well_formed(data):
    for d in data["deliverables"]:
        qs = d["active_quarters"]
        assert qs, d["code"]
        assert all(isinstance(q, str) and QUARTER_RE.match(q) for q in qs), d["code"]
        assert qs == sorted(set(qs)), d["code"]


def test_active_quarters_match_seed_x_rows(data, seed_lines):
    expected = _expected_quarters_from_seed(seed_lines)
    actual = {d["code"]: d["active_quarters"] for d in data["deliverables"]}
    assert set(actual) == set(expected)
    mismatches = {c: (actual[c], expected[c]) for c in expected if actual[c] != expected[c]}
    assert not mismatches, mismatches


def test_texts_are_drawn_from_seed(data, seed_lines):
    """Every word of every transcribed text occurs, in order, in the source.

    Words are compared as a subsequence of the source's word stream (line-break
    hyphenation joined), which tolerates the table's page splits but catches typos
    and invented words.
    """
    raw = "\n".join(seed_lines)
    words = re.sub(r"-[ \t]*\n\s*", "-", raw).split()

    def in_order(text: str) -> bool:
        it = iter(words)
        return all(any(w == tok for w in it) for tok in text.split())

    texts = [data["theory_of_change"]["intervention"], data["theory_of_change"]["future_situation"]]
    texts += [c["text"] for c in data["critical_assumptions"]]
    texts += [c["text"] for c in data["expected_changes"]]
    texts += [m["text"] for m in data["milestones"]]
    texts.append(data["cross_cutting_policy_drivers_note"])
    for d in data["deliverables"]:
        texts.append(d["title"])
        texts.extend(d["key_activities"])
    missing = [t for t in texts if not in_order(t)]
    assert not missing, missing


# --- alignments ----------------------------------------------------------------------


def test_pb_alignment(data):
    pb = data["pb_alignment"]
    assert len(pb) == 22
    outcomes = [str(i) for i in range(1, 11)] + ["A"]
    assert {(p["biennium"], p["outcome"]) for p in pb} == {(b, o) for b in ("2016-17", "2018-19") for o in outcomes}
    for p in pb:
        named = re.findall(r"\b(?:\d+\.\d+|A\d)\b", p["text"])
        listed = p["direct_indicators"] + p["indirect_indicators"]
        if "all three" in p["text"].lower():
            prefix = "A" if p["outcome"] == "A" else p["outcome"] + "."
            assert sorted(listed) == [f"{prefix}{i}" for i in (1, 2, 3)], p
        else:
            assert sorted(listed) == sorted(named), p
        assert p["condition"] in (None, "depending on link to GSCs"), p
        assert (p["condition"] is not None) == ("depending on link to GSCs" in p["text"]), p
    by_key = {(p["biennium"], p["outcome"]): p for p in pb}
    assert by_key[("2016-17", "3")]["indirect_indicators"] == ["3.2"]
    assert by_key[("2016-17", "A")]["direct_indicators"] == ["A2", "A3"]
    assert by_key[("2018-19", "4")]["direct_indicators"] == ["4.3"]
    assert by_key[("2018-19", "4")]["indirect_indicators"] == []


def test_sdgs(data):
    assert {s["goal"] for s in data["sdgs"]} == {8, 9, 10, 12, 17}
    assert len(data["sdgs"]) == 5


def test_milestones(data):
    ms = data["milestones"]
    assert [m["code"] for m in ms] == [f"M{i}" for i in range(1, len(ms) + 1)]

    def has(pred) -> bool:
        return any(pred(m) for m in ms)

    def period(m):
        return (m["period"] or {}).get("start"), (m["period"] or {}).get("end")

    assert has(
        lambda m: "selection" in m["text"] and "April 2017" in m["text"] and period(m) == ("2017-04-01", "2017-04-30")
    )
    assert has(
        lambda m: m["paragraph"] == 9 and "mid-term report" in m["text"] and period(m) == ("2019-11-01", "2019-11-30")
    )
    assert has(
        lambda m: m["paragraph"] == 12 and "mid-term report" in m["text"] and period(m) == ("2019-10-01", "2019-10-31")
    )
    assert has(lambda m: "Final consolidated assessment" in m["text"] and period(m) == ("2021-10-01", "2021-12-31"))
    assert has(
        lambda m: (
            "final report" in m["text"] and "October 2022" in m["text"] and period(m) == ("2022-10-01", "2022-10-31")
        )
    )
    for m in ms:
        assert m["period"] is None or m["period"]["start"] <= m["period"]["end"], m
