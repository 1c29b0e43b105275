"""The content of a stocktaking report edition: what every rendering (JSON,
HTML, CSV, XLSX) shows, and nothing else. The renderers in
`services/reporting/rendering/` take a `ReportContent` and return bytes.

The content is a tree of plain JSON values (str, int, float, bool, None,
lists, dicts) built only from the edition's pins and what measurement answers
at those pins, so building it twice gives an equal tree. Its canonical JSON
(`canonical_json`) is the JSON rendering's bytes: keys sorted, no
whitespace, UTF-8. Lists are ordered as documented below, never by
dictionary or database order. Numbers are rounded once, when the content is
built: figures of a `unit` measure (and counts) are ints, every other figure
is rounded to `FIGURE_DECIMALS` decimals and `progress` to
`PROGRESS_DECIMALS`, so a renderer never has to round and two stores
(SQLite, PostgreSQL) give the same digits. Dates are ISO 8601 strings
(`2019-10-31`). A renderer formats, it does not compute: every figure it
shows is in the content.

ReportContent (the root)
    schema: "stocktake.report/1", the version of this model.
    edition: EditionPins, what the edition is pinned to.
    programme: Programme, the framework's title and theory of change.
    colour_rule: ColourRule, the documented rule behind every `colour`.
    assumptions: Assumption per critical assumption of the framework, in the
        framework's order (CA1 ... CA10), each listed even without benchmarks.
    restatements: Restatement per cell whose value at the previous edition's
        valid date changed since the previous edition of the same kind was
        made; ordered by (benchmark, country). Empty for the first edition of
        a kind.
    workplan: Workplan, or None in editions made before generator
        stocktake-reporting/4 (a renderer shows nothing for None).

EditionPins
    kind: "mid-term" | "final-assessment" | "final" | "custom".
    title: a human title, e.g. "Mid-term stocktaking report (as of 2019-10-31)".
    as_of: the valid date of every state in the report.
    position: the log position every figure was read at (`known_at`).
    checkpoint: Checkpoint or None: the log's signed checkpoint of the tree
        of `position` events, which every figure was read from (None only in
        editions made before generator stocktake-reporting/3).
    framework: "<framework code> v<version>", e.g. "GSC-POA-2017-21 v1".
    template_version: the version of the report's layout (renderers may print it).
    generator_version: the version of the code that built the content.
    previous: PreviousEdition or None: the edition of the same kind that
        restatements and trends compare with.
    The edition's id, creator and approval are NOT in the content: two
    editions with the same pins have the same content and the same bytes.

PreviousEdition
    id: its edition id (a UUID string); as_of; position.

Checkpoint
    size: the tree size (= the edition's position: the events at positions
        1..size); root_hash: the tree's root, base64, as in the note;
    note: the C2SP signed note as measurement served it
        (`GET /transparency/checkpoint?size=<size>`): an auditor checks it
        with the log's verifier key and proves with it that an event is in
        the log the report was read at (`stocktake-verify --checkpoint`).

Programme
    code, title: the framework's code and title.
    period: {"start", "end"} ISO dates of the programme.
    theory_of_change: {"intervention", "current_situation", "future_situation"}:
        Appendix II's boxes, which frame all ten assumptions (str or None when
        the framework file has no such box).

ColourRule
    thresholds: {"on_track_tolerance", "at_risk_tolerance"} as fractions of
        |target in force - baseline| (measurement's status rule, as it
        answered them).
    legend: list of {"colour", "statuses", "meaning"} in the order
        green, amber, red, grey; `meaning` is a sentence a renderer prints.
    The rule: green = achieved or on track (at most on_track_tolerance of the
    span behind the expected figure); amber = at risk (at most
    at_risk_tolerance behind); red = off track (further behind); grey = no
    data or not assessed. "Behind" honours the benchmark's direction: below
    the expected figure for an ascending benchmark, above it for a
    descending (lower is better) one.

Assumption
    code: "CA1" ... "CA10"; text: its wording in Appendix II.
    benchmarks: Benchmark per non-retired benchmark of the assumption as known
        at the edition's position, ordered by code.
    summary: {"benchmarks": n, "by_colour": {"green", "amber", "red", "grey"}: counts}.

Benchmark
    code, title; measure: "unit" | "percentage" | "ordinal" | "nominal" |
    "qualitative"; unit: the unit label or None; ascending: bool (False =
    lower is better); combination: "sum" | "mean" | "count_meeting_threshold"
    | "latest".
    baseline: {"date", "value"}.
    targets: list of {"date", "value", "label"} in date order.
    target_in_force: {"date", "value", "label"} or None.
    combined: the figure combined across countries at as_of, or None (no data);
        a number, or a level (str) for ordinal/nominal/qualitative measures.
    expected: the figure on the straight-line trajectory at as_of, or None.
    progress: fraction of the way from baseline to the target in force, or None.
    status: "achieved" | "on_track" | "at_risk" | "off_track" | "no_data" |
        "not_assessed" (measurement's status).
    colour: "green" | "amber" | "red" | "grey" (ColourRule).
    position: the log position the figures were read at (= edition position).
    cells: Cell per country with a value in force, ordered by country.
    coverage: {"countries_selected": n, "countries_reporting": n,
        "countries_missing": [iso3, ...] sorted, "freshest": date or None}.
    trend: Trend since the previous edition.
    series: list of {"date", "combined", "expected", "status"}: the state at
        each quarter end from the programme's start to as_of, all as known at
        the edition's position, in date order (for the charts).

Cell
    country: ISO 3166-1 alpha-3; sector: the sector of the observation or None
        (measurement combines a country's sectors: None today);
    value: the value in force at as_of (number or level);
    valid_date: the valid date of that value; known_at: the log position of
        the event that gave the value (the observation's recording, or the
        correction in force): that event's payload holds the value, and its
        stream id is the observation's id, so `stocktake-verify --position
        <known_at>` proves the figure is in the edition's checkpoint.
    A country office's report holds only its own countries' cells (the
    combined figures are the programme's).

Workplan (measurement's `GET /workplan/deliverables` and `/milestones`
at the edition's as_of and position)
    position: the log position it was read at (= edition position).
    deliverables: Deliverable per workplan deliverable (Appendix I), in
        measurement's order (by code).
    milestones: Milestone per roadmap milestone (paras 8-12), in
        measurement's order.
    summary: {"deliverables": {"deliverables", "by_status", "late",
        "late_start"}, "milestones": {"milestones", "by_status"}}: counts.

Deliverable
    code, area, title; planned_start, planned_end: the first day of its
    first planned quarter, the last day of its last; status: "not_started"
    | "started" | "delivered" | "dropped" at as_of; started_on,
    delivered_on, dropped_on: dates or None; evidence: the link given with
    its delivery, or None; reason: why it was dropped, or None; late: its
    last planned quarter passed without its delivery (nor its dropping);
    late_start: its first planned quarter passed with nothing recorded.

Milestone
    code, paragraph (of the roadmap), text; due: the end of its period, or
    None (the roadmap gives it no date); status: "upcoming" | "due" |
    "overdue" | "open" | "met" | "missed"; met_on, missed_on: dates or None;
    note: the note of the outcome in force, or None; late: met after its
    due date.

Trend
    previous_as_of, previous_position: of the previous edition, or None.
    previous_combined: the combined figure as that edition stated it, or None.
    change: combined - previous_combined when both are numbers, else None.
    direction: "better" | "worse" | "unchanged" | None (honouring ascending).

Restatement
    benchmark, country, sector: the cell (sector None for the observations
        naming none); as_of: the previous edition's valid date.
    before: {"value", "valid_date", "known_at"} as known at the previous
        edition's position, or None (no value then).
    after: the same as known at this edition's position, or None.
    reason: "new_observation" | "correction" | "retraction" | "scope_change".
        new_observation: a value for a valid date later than the one in force
        before (or where there was none), or another observation for the same
        valid date, was learned late; correction: the observation in force
        before has a new value (measurement's `first_recorded` names the
        observation: a correction keeps it); retraction: the value in force
        before is gone (an earlier value, or none, is in force again);
        scope_change: the benchmark's definition or the country's selection
        changed between the two positions.
"""

from __future__ import annotations

import json
from typing import Literal, TypedDict

SCHEMA = "stocktake.report/1"
FIGURE_DECIMALS = 4
PROGRESS_DECIMALS = 4

EditionKind = Literal["mid-term", "final-assessment", "final", "custom"]
Colour = Literal["green", "amber", "red", "grey"]
RestatementReason = Literal["new_observation", "correction", "retraction", "scope_change"]
Figure = int | float | str | None


class PreviousEdition(TypedDict):
    id: str
    as_of: str
    position: int


class Checkpoint(TypedDict):
    size: int
    root_hash: str
    note: str


class EditionPins(TypedDict):
    kind: EditionKind
    title: str
    as_of: str
    position: int
    checkpoint: Checkpoint | None
    framework: str
    template_version: str
    generator_version: str
    previous: PreviousEdition | None


class TheoryOfChange(TypedDict):
    intervention: str | None
    current_situation: str | None
    future_situation: str | None


class Period(TypedDict):
    start: str
    end: str


class Programme(TypedDict):
    code: str
    title: str
    period: Period
    theory_of_change: TheoryOfChange


class Thresholds(TypedDict):
    on_track_tolerance: float
    at_risk_tolerance: float


class LegendEntry(TypedDict):
    colour: Colour
    statuses: list[str]
    meaning: str


class ColourRule(TypedDict):
    thresholds: Thresholds
    legend: list[LegendEntry]


class Baseline(TypedDict):
    date: str
    value: Figure


class Target(TypedDict):
    date: str
    value: Figure
    label: str | None


class Cell(TypedDict):
    country: str
    sector: str | None
    value: Figure
    valid_date: str
    known_at: int


class Coverage(TypedDict):
    countries_selected: int
    countries_reporting: int
    countries_missing: list[str]
    freshest: str | None


class Trend(TypedDict):
    previous_as_of: str | None
    previous_position: int | None
    previous_combined: Figure
    change: int | float | None
    direction: Literal["better", "worse", "unchanged"] | None


class SeriesPoint(TypedDict):
    date: str
    combined: Figure
    expected: Figure
    status: str


class Benchmark(TypedDict):
    code: str
    title: str
    measure: str
    unit: str | None
    ascending: bool
    combination: str
    baseline: Baseline
    targets: list[Target]
    target_in_force: Target | None
    combined: Figure
    expected: Figure
    progress: float | None
    status: str
    colour: Colour
    position: int
    cells: list[Cell]
    coverage: Coverage
    trend: Trend
    series: list[SeriesPoint]


class ColourCounts(TypedDict):
    green: int
    amber: int
    red: int
    grey: int


class AssumptionSummary(TypedDict):
    benchmarks: int
    by_colour: ColourCounts


class Assumption(TypedDict):
    code: str
    text: str
    benchmarks: list[Benchmark]
    summary: AssumptionSummary


class CellValue(TypedDict):
    value: Figure
    valid_date: str
    known_at: int


class Restatement(TypedDict):
    benchmark: str
    country: str
    sector: str | None
    as_of: str
    before: CellValue | None
    after: CellValue | None
    reason: RestatementReason


class Deliverable(TypedDict):
    code: str
    area: str
    title: str
    planned_start: str
    planned_end: str
    status: str
    started_on: str | None
    delivered_on: str | None
    evidence: str | None
    dropped_on: str | None
    reason: str | None
    late: bool
    late_start: bool


class Milestone(TypedDict):
    code: str
    paragraph: int
    text: str
    due: str | None
    status: str
    met_on: str | None
    missed_on: str | None
    note: str | None
    late: bool


class DeliverySummary(TypedDict):
    deliverables: int
    by_status: dict[str, int]
    late: int
    late_start: int


class MilestoneSummary(TypedDict):
    milestones: int
    by_status: dict[str, int]


class WorkplanSummary(TypedDict):
    deliverables: DeliverySummary
    milestones: MilestoneSummary


class Workplan(TypedDict):
    position: int
    deliverables: list[Deliverable]
    milestones: list[Milestone]
    summary: WorkplanSummary


class ReportContent(TypedDict):
    schema: str
    edition: EditionPins
    programme: Programme
    colour_rule: ColourRule
    assumptions: list[Assumption]
    restatements: list[Restatement]
    workplan: Workplan | None


def figure(value: object) -> Figure:
    """A figure as the content holds it: ints (and levels, which are text)
    as they are, other numbers rounded to FIGURE_DECIMALS (never -0.0)."""
    if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float):
        return round(value, FIGURE_DECIMALS) + 0.0
    raise TypeError(f"Not a figure: {value!r}")


def fraction(value: float | None) -> float | None:
    """A progress fraction rounded to PROGRESS_DECIMALS."""
    return None if value is None else round(float(value), PROGRESS_DECIMALS) + 0.0


def canonical_json(content: ReportContent) -> bytes:
    """The JSON rendering: keys sorted, no insignificant whitespace, UTF-8,
    a final newline. Equal contents give equal bytes."""
    return (
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
        + b"\n"
    )
