"""Benchmarks: what the programme management team measures a critical
assumption by, with its baseline and dated targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.common.errors import (
    ConflictError,
    ErrorCollector,
    FieldPath,
    InvalidCommandError,
)
from services.measurement.domain.framework import STOCKTAKE_NAMESPACE, FrameworkDocument
from services.measurement.domain.values import (
    COMBINATIONS_BY_MEASURE,
    Combination,
    Dimension,
    Measure,
    Value,
    check_value,
)

Baseline = dict[str, Any]  # {"value": Value, "date": date}


class Level(StrEnum):
    """Where the action a benchmark measures takes place (roadmap para. 10):
    in the programme's countries, or at international level (critical
    assumptions 5 and 7 are about international actors)."""

    NATIONAL = "national"
    INTERNATIONAL = "international"


Target = dict[str, Any]  # {"value": Value, "date": date, "label": str | None}


def combined_measure(measure: Measure, levels: Sequence[str], combination: Combination) -> tuple[Measure, list[str]]:
    """The measure of the combined figure, which baseline and targets are in:
    a count of countries for `count_meeting_threshold`, else the benchmark's."""
    if combination is Combination.COUNT_MEETING_THRESHOLD:
        return Measure.UNIT, []
    return measure, list(levels)


def check_baseline(measure: Measure, levels: Sequence[str], baseline: Baseline, errors: ErrorCollector) -> Baseline:
    value = baseline["value"]
    with errors.collecting():
        value = check_value(measure, levels, value, ("baseline", "value"))
    return {"value": value, "date": baseline["date"]}


def check_targets(
    measure: Measure,
    levels: Sequence[str],
    baseline_date: date,
    targets: Sequence[Target],
    errors: ErrorCollector,
) -> list[Target]:
    if not targets:
        errors.add(("targets",), "Give at least one dated target (for example the final 2021 target).")
    checked: list[Target] = []
    seen: set[date] = set()
    for index, target in enumerate(targets):
        path: FieldPath = ("targets", index)
        value = target["value"]
        with errors.collecting():
            value = check_value(measure, levels, value, (*path, "value"))
        if target["date"] <= baseline_date:
            errors.add((*path, "date"), f"A target's date must come after the baseline date {baseline_date}.")
        if target["date"] in seen:
            errors.add((*path, "date"), f"Two targets share the date {target['date']}: give one target per date.")
        seen.add(target["date"])
        checked.append({"value": value, "date": target["date"], "label": target.get("label")})
    return sorted(checked, key=lambda t: t["date"])


def check_assumption(framework: FrameworkDocument, assumption: str, errors: ErrorCollector) -> None:
    if assumption not in framework.assumption_codes():
        errors.add(
            ("assumption",),
            f"{assumption!r} is not a critical assumption of framework {framework.code} "
            f"(v{framework.version}): use one of {', '.join(framework.assumption_codes())}.",
        )


def check_levels(measure: Measure, levels: Sequence[str], errors: ErrorCollector) -> None:
    if measure.has_levels:
        if len(levels) < 2:
            errors.add(("levels",), f"A '{measure}' benchmark needs at least two levels.")
        elif len(set(levels)) != len(levels):
            errors.add(("levels",), "Levels must be unique.")
    elif levels:
        errors.add(("levels",), f"Only ordinal and nominal benchmarks have levels, not '{measure}' ones.")


def check_combination(
    measure: Measure, levels: Sequence[str], combination: Combination, threshold: Value | None, errors: ErrorCollector
) -> Value | None:
    """Returns the threshold in its canonical type."""
    if combination not in COMBINATIONS_BY_MEASURE[measure]:
        allowed = ", ".join(sorted(COMBINATIONS_BY_MEASURE[measure]))
        errors.add(("combination",), f"'{combination}' cannot combine '{measure}' values: use one of {allowed}.")
    if combination is Combination.COUNT_MEETING_THRESHOLD:
        if threshold is None:
            errors.add(("threshold",), "'count_meeting_threshold' needs the threshold a country's value must meet.")
        else:
            with errors.collecting():
                threshold = check_value(measure, levels, threshold, ("threshold",))
    elif threshold is not None:
        errors.add(("threshold",), "A threshold is only used by the 'count_meeting_threshold' combination.")
    return threshold


def check_level(level: Level, combination: Combination, errors: ErrorCollector) -> None:
    """An international benchmark has one series, with no countries to combine."""
    if level is Level.INTERNATIONAL and combination is not Combination.LATEST:
        errors.add(
            ("combination",),
            "An international benchmark's observations name no country, so there is nothing to combine across "
            f"countries: its state is its latest value. Use combination 'latest', not '{combination}'.",
        )


def check_alignment(
    framework: FrameworkDocument, deliverables: Sequence[str], pb_indicators: Sequence[str], errors: ErrorCollector
) -> None:
    """The deliverables and P&B indicators a definition names must be the framework's."""
    known_deliverables = set(framework.deliverable_codes())
    for index, code in enumerate(deliverables):
        if code not in known_deliverables:
            errors.add(("deliverables", index), f"{code!r} is not a workplan deliverable (1.1 ... 9.2).")
    known_indicators = set(framework.pb_indicator_ids())
    for index, indicator in enumerate(pb_indicators):
        if indicator not in known_indicators:
            errors.add(
                ("pb_indicators", index),
                f"{indicator!r} is not a P&B indicator the programme is aligned with; "
                "write it as BIENNIUM:CODE, e.g. '2018-19:1.4'.",
            )


def check_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidCommandError.at(("reason",), "Give the reason for this change: it is kept with the history.")


class Benchmark(Aggregate):
    """One stream per benchmark code."""

    @staticmethod
    def create_id(code: str) -> UUID:
        return uuid5(STOCKTAKE_NAMESPACE, f"benchmark:{code}")

    # Each event's class name and attributes are stored (topic and state):
    # renaming or moving one needs a registered old topic or an upcaster.
    # @dataclass shows type checkers the constructor that eventsourcing's
    # metaclass gives every event anyway (it skips a second dataclass pass).
    @dataclass(frozen=True)
    class Defined(Aggregate.Created):
        code: str
        assumption: str
        title: str
        description: str
        measure: str
        ascending: bool
        unit_label: str | None
        levels: list[str]
        baseline: Baseline
        targets: list[Target]
        combination: str
        threshold: Value | None
        disaggregations: list[str]
        deliverables: list[str]
        pb_indicators: list[str]
        framework_version: int
        principal: str
        level: str

        # Version 1 had no level: every benchmark was national.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["level"] = Level.NATIONAL.value

    @dataclass(frozen=True)
    class BaselineRevised(Aggregate.Event):
        baseline: Baseline
        reason: str
        principal: str

    @dataclass(frozen=True)
    class TargetsRevised(Aggregate.Event):
        targets: list[Target]
        reason: str
        principal: str

    @dataclass(frozen=True)
    class Retired(Aggregate.Event):
        reason: str
        principal: str

    @classmethod
    def define(
        cls,
        *,
        framework: FrameworkDocument,
        code: str,
        assumption: str,
        title: str,
        description: str,
        measure: Measure,
        ascending: bool,
        unit_label: str | None,
        levels: Sequence[str],
        baseline: Baseline,
        targets: Sequence[Target],
        combination: Combination,
        threshold: Value | None,
        disaggregations: Sequence[Dimension],
        deliverables: Sequence[str],
        pb_indicators: Sequence[str],
        principal: str,
        level: Level = Level.NATIONAL,
    ) -> Benchmark:
        """Checks every rule of a definition, reporting all broken ones at once."""
        errors = ErrorCollector()
        check_assumption(framework, assumption, errors)
        check_levels(measure, levels, errors)
        threshold = check_combination(measure, levels, combination, threshold, errors)
        check_level(level, combination, errors)
        if len(set(disaggregations)) != len(disaggregations):
            errors.add(("disaggregations",), "Each disaggregation dimension may be named once.")
        check_alignment(framework, deliverables, pb_indicators, errors)
        target_measure, target_levels = combined_measure(measure, levels, combination)
        checked_baseline = check_baseline(target_measure, target_levels, baseline, errors)
        checked_targets = check_targets(target_measure, target_levels, baseline["date"], targets, errors)
        errors.raise_if_any("The benchmark definition breaks several rules; see errors.")
        return cls(
            code=code,
            assumption=assumption,
            title=title,
            description=description,
            measure=measure.value,
            ascending=ascending,
            unit_label=unit_label,
            levels=list(levels),
            baseline=checked_baseline,
            targets=checked_targets,
            combination=combination.value,
            threshold=threshold,
            disaggregations=[d.value for d in disaggregations],
            deliverables=list(deliverables),
            pb_indicators=list(pb_indicators),
            framework_version=framework.version,
            principal=principal,
            level=level.value,
        )

    @event(Defined)
    def __init__(
        self,
        code: str,
        assumption: str,
        title: str,
        description: str,
        measure: str,
        ascending: bool,
        unit_label: str | None,
        levels: list[str],
        baseline: Baseline,
        targets: list[Target],
        combination: str,
        threshold: Value | None,
        disaggregations: list[str],
        deliverables: list[str],
        pb_indicators: list[str],
        framework_version: int,
        principal: str,
        level: str,
    ) -> None:
        self.code = code
        self.level = Level(level)
        self.assumption = assumption
        self.title = title
        self.description = description
        self.measure = Measure(measure)
        self.ascending = ascending
        self.unit_label = unit_label
        self.levels = levels
        self.baseline = baseline
        self.targets = targets
        self.combination = Combination(combination)
        self.threshold = threshold
        self.disaggregations = [Dimension(d) for d in disaggregations]
        self.deliverables = deliverables
        self.pb_indicators = pb_indicators
        self.framework_version = framework_version
        self.retired = False

    def revise_baseline(self, baseline: Baseline, reason: str, principal: str) -> None:
        self.check_not_retired()
        errors = ErrorCollector()
        with errors.collecting():
            check_reason(reason)
        checked = check_baseline(*combined_measure(self.measure, self.levels, self.combination), baseline, errors)
        for target in self.targets:
            if target["date"] <= checked["date"]:
                errors.add(
                    ("baseline", "date"),
                    f"The baseline date must come before every target date; the target of {target['date']} does not.",
                )
                break
        errors.raise_if_any("The baseline revision breaks several rules; see errors.")
        self._revise_baseline(baseline=checked, reason=reason, principal=principal)

    @event(BaselineRevised)
    def _revise_baseline(self, baseline: Baseline, reason: str, principal: str) -> None:
        self.baseline = baseline

    def revise_targets(self, targets: Sequence[Target], reason: str, principal: str) -> None:
        self.check_not_retired()
        errors = ErrorCollector()
        with errors.collecting():
            check_reason(reason)
        target_measure, target_levels = combined_measure(self.measure, self.levels, self.combination)
        checked = check_targets(target_measure, target_levels, self.baseline["date"], targets, errors)
        errors.raise_if_any("The target revision breaks several rules; see errors.")
        self._revise_targets(targets=checked, reason=reason, principal=principal)

    @event(TargetsRevised)
    def _revise_targets(self, targets: list[Target], reason: str, principal: str) -> None:
        self.targets = targets

    def retire(self, reason: str, principal: str) -> None:
        self.check_not_retired()
        check_reason(reason)
        self._retire(reason=reason, principal=principal)

    @event(Retired)
    def _retire(self, reason: str, principal: str) -> None:
        self.retired = True

    def check_not_retired(self) -> None:
        if self.retired:
            raise ConflictError(f"Benchmark {self.code} is retired: it takes no revisions and no observations.")

    def check_country_level(self, country: str | None) -> None:
        """An international benchmark's observations name no country; a national one's name one."""
        if self.level is Level.INTERNATIONAL and country is not None:
            raise InvalidCommandError.at(
                ("country",),
                f"Benchmark {self.code} measures international-level action (para. 10): its observations name "
                f"no country. Leave out country ({country}).",
            )
        if self.level is Level.NATIONAL and country is None:
            raise InvalidCommandError.at(
                ("country",), f"Benchmark {self.code} is national: give the country the observation is for."
            )

    def check_accepts(self, dimension: str, path: FieldPath) -> None:
        if dimension not in self.disaggregations:
            accepted = ", ".join(self.disaggregations) or "none"
            raise InvalidCommandError.at(
                path, f"Benchmark {self.code} accepts no {str(dimension)!r} disaggregation (it accepts: {accepted})."
            )
