"""Bulk import of observations (a country office's spreadsheet or batch).

Per row: every valid row is recorded, every invalid row is reported with its
index, field and reason, and the valid rows of one batch are saved in one
transaction (all of them, or none if the store fails). With `all_or_nothing`,
one rejected row stops the whole batch. With `dry_run`, nothing is saved and
the summary says what would happen.

A retried batch never duplicates anything. A row is identified by who sends
it and what it measures: (principal, benchmark, country, sector, period).
Its observation's id follows from that, so a row already imported is found
("already present") and two concurrent imports of it cannot both succeed. A
row for a period whose earlier observation was retracted is recorded anew;
a row with another value for an imported period is rejected (send a
correction instead). A row whose value (and disaggregated values) is that
of the observation standing in its cell for its period, whoever recorded it
and however, is already present too: an export (GET /exports/observations.csv)
imported again records nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple
from uuid import UUID, uuid5

from services.common.access import Principal
from services.common.errors import (
    ConflictError,
    DomainError,
    FieldProblem,
    ForbiddenError,
    InvalidCommandError,
)
from services.measurement.application.commands import Measurement
from services.measurement.application.event_codec import recorded_encoder
from services.measurement.application.queries import catalogue
from services.measurement.application.queries.standing import CellDate, standing_observations
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.framework import STOCKTAKE_NAMESPACE
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import ProgrammeScope
from services.measurement.domain.values import Period, read_text_value

MAX_ROWS = 5000
IMPORTED_OBSERVATIONS = uuid5(STOCKTAKE_NAMESPACE, "observations-by-import-row")


class Outcome(StrEnum):
    IMPORTED = "imported"
    ALREADY_PRESENT = "already_present"
    REJECTED = "rejected"
    SKIPPED = "skipped"  # valid, but not saved: another row was rejected in an all-or-nothing batch


class ImportRow(NamedTuple):
    """One row as read from the request: its fields, or what was wrong with
    them. `text_values` when values are texts to read by the benchmark's
    measure (a CSV cell). Immutable, and made for every row of a batch: a
    named tuple, made in a third of a frozen dataclass's time."""

    fields: dict[str, Any] | None
    problems: Sequence[FieldProblem] = ()
    text_values: bool = False
    decimal_comma: bool = False  # text values write 18,5 for 18.5


@dataclass
class RowResult:
    index: int
    outcome: Outcome
    id: UUID | None = None
    position: int | None = None
    problems: list[FieldProblem] = field(default_factory=list)


@dataclass
class _Candidate:
    index: int
    key: tuple[str, ...] | None
    fields: dict[str, Any]
    benchmark: Benchmark
    scope: ProgrammeScope


def row_identity(principal: str, key: tuple[str, ...], generation: int) -> UUID:
    return uuid5(IMPORTED_OBSERVATIONS, "\n".join((principal, *key, str(generation))))


class ObservationImport:
    def __init__(self, measurement: Measurement, actor: Principal) -> None:
        self.measurement = measurement
        self.actor = actor
        self._references: dict[str, tuple[Benchmark, ProgrammeScope] | InvalidCommandError] = {}
        self._periods: dict[str, Period | None] = {}
        self._refusals: dict[str | None, DomainError | None] = {}

    def run(self, rows: Sequence[ImportRow], dry_run: bool, all_or_nothing: bool) -> dict[str, Any]:
        try:
            results = self._attempt(rows, dry_run, all_or_nothing)
        except ConflictError:
            # Another import of the same rows committed first: they are present now.
            results = self._attempt(rows, dry_run, all_or_nothing)
        return self._summary(results, dry_run, all_or_nothing)

    def _attempt(self, rows: Sequence[ImportRow], dry_run: bool, all_or_nothing: bool) -> list[RowResult]:
        results: dict[int, RowResult] = {}
        candidates: list[_Candidate] = []
        for index, row in enumerate(rows):
            prepared = self._prepare(index, row)
            if isinstance(prepared, RowResult):
                results[index] = prepared
            else:
                candidates.append(prepared)
        imported = self._judge(candidates, results)
        ordered = [results[index] for index in range(len(rows))]
        if all_or_nothing and any(result.outcome == Outcome.REJECTED for result in ordered):
            for result, _ in imported:
                result.outcome, result.id = Outcome.SKIPPED, None
        elif imported and not dry_run:
            self._save(imported)
        return ordered

    def _judge(
        self, candidates: list[_Candidate], results: dict[int, RowResult]
    ) -> list[tuple[RowResult, Observation.Recorded]]:
        """Puts each candidate's outcome in `results`; returns the imported
        ones, each with the observation to save."""
        identities = self._identities([c.key for c in candidates if c.key is not None])
        standing = self._standing([c for c in candidates if c.key is not None and identities[c.key][1] is None])
        imported: list[tuple[RowResult, Observation.Recorded]] = []
        first_of_key: dict[tuple[str, ...], tuple[int, Observation.Recorded]] = {}
        for candidate in candidates:
            identity = identities.get(candidate.key) if candidate.key is not None else None
            observation_id = (
                identity[0] if identity else row_identity(self.actor.name, ("unkeyed", str(candidate.index)), 0)
            )
            try:
                observation = self._record(observation_id, candidate)
            except DomainError as error:
                results[candidate.index] = RowResult(candidate.index, Outcome.REJECTED, problems=_problems(error))
                continue
            assert candidate.key is not None and identity is not None
            earlier = first_of_key.get(candidate.key)
            if earlier is not None:
                results[candidate.index] = _against_earlier_row(candidate.index, observation, *earlier)
            elif identity[1] is not None:
                results[candidate.index] = _against_present(candidate.index, observation, identity[1])
            elif standing and _stands(observation, standing.get(_cell_date(observation))):
                results[candidate.index] = RowResult(
                    candidate.index, Outcome.ALREADY_PRESENT, standing[_cell_date(observation)]["id"]
                )
            else:
                first_of_key[candidate.key] = (candidate.index, observation)
                result = RowResult(candidate.index, Outcome.IMPORTED, observation.originator_id)
                results[candidate.index] = result
                imported.append((result, observation))
        return imported

    def _standing(self, candidates: list[_Candidate]) -> dict[CellDate, dict[str, Any]]:
        """The observations standing in the cells and valid dates of rows this principal never imported."""
        cells: list[CellDate] = []
        for candidate in candidates:
            fields = candidate.fields
            period = self._period(fields["period"])
            if period is None:
                continue  # the row is refused when it is recorded
            valid_date = period.valid_date
            # The read models hold "" for an international observation's country, as for no sector.
            cells.append((fields["benchmark"], fields["country"] or "", fields.get("sector") or "", valid_date))
        return standing_observations(self.measurement.database, cells) if cells else {}

    def _save(self, imported: list[tuple[RowResult, Observation.Recorded]]) -> None:
        """Saves the imported rows' observations in one transaction and gives
        each row its log position."""
        # The benchmarks the rows were checked against must not change (a
        # retirement...) before the save commits: else nothing is recorded (409).
        checked_against = {
            found[0].id: found[0].version
            for found in self._references.values()
            if not isinstance(found, InvalidCommandError)
        }
        events = [observation for _, observation in imported]
        stored = recorded_encoder(self.measurement.mapper).stored(events)
        recordings = self.measurement.save_events(events, checked_against, stored)
        positions = {recording.domain_event.originator_id: recording.notification.id for recording in recordings}
        for result, observation in imported:
            result.position = positions[observation.originator_id]

    def _prepare(self, index: int, row: ImportRow) -> _Candidate | RowResult:
        if row.fields is None or row.problems:
            return RowResult(index, Outcome.REJECTED, problems=list(row.problems))
        fields = dict(row.fields) if row.text_values else row.fields  # only text values are changed here
        refused = self._refusal(fields["country"])
        if refused is not None:
            return RowResult(index, Outcome.REJECTED, problems=_problems(refused))
        try:
            benchmark, scope = self._references_for(fields["benchmark"])
            if row.text_values:
                comma = row.decimal_comma
                fields["value"] = read_text_value(benchmark.measure, fields["value"], decimal_comma=comma)
                fields["disaggregations"] = [
                    {
                        **item,
                        "value": read_text_value(
                            benchmark.measure, item["value"], ("disaggregations", i, "value"), decimal_comma=comma
                        ),
                    }
                    for i, item in enumerate(fields["disaggregations"])
                ]
        except DomainError as error:
            return RowResult(index, Outcome.REJECTED, problems=_problems(error))
        return _Candidate(index, self._row_key(fields), fields, benchmark, scope)

    def _refusal(self, country: str | None) -> DomainError | None:
        """Why the actor may not record for `country` (None: international), if it may not: asked once
        per country, as a batch's rows share a few."""
        if country not in self._refusals:
            try:
                if country is None or self.measurement.country_name(country) is not None:
                    self.actor.check_may_report_for(country)
                self._refusals[country] = None
            except DomainError as error:
                self._refusals[country] = error
        return self._refusals[country]

    def _period(self, text: str) -> Period | None:
        """The period `text` names, or None if it names none (the row is refused when it is recorded):
        parsed once per label, as a batch's rows share few."""
        if text not in self._periods:
            try:
                self._periods[text] = Period.parse(text)
            except InvalidCommandError:
                self._periods[text] = None
        return self._periods[text]

    def _row_key(self, fields: dict[str, Any]) -> tuple[str, ...] | None:
        period = self._period(fields["period"])
        if period is None:
            return None  # the row is refused when it is recorded
        return (fields["benchmark"], fields["country"] or "", fields.get("sector") or "", period.label)

    def _references_for(self, code: str) -> tuple[Benchmark, ProgrammeScope]:
        if code not in self._references:
            try:
                self._references[code] = self.measurement.references_for_observation(code)
            except InvalidCommandError as error:
                self._references[code] = error
        found = self._references[code]
        if isinstance(found, InvalidCommandError):
            # The same error for every row naming the code: raised afresh, else each raise would add its
            # frames to the one traceback (a 5,000-row batch: 10,000 frames held).
            raise found.with_traceback(None)
        return found

    def _identities(self, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], tuple[UUID, dict[str, Any] | None]]:
        """For each row key, the id its observation has (or will have), and
        the observation in force under that id, if any. A retracted one moves
        the key to its next generation."""
        resolved: dict[tuple[str, ...], tuple[UUID, dict[str, Any] | None]] = {}
        pending = dict.fromkeys(dict.fromkeys(keys), 0)
        while pending:
            ids = {key: row_identity(self.actor.name, key, generation) for key, generation in pending.items()}
            found = catalogue.observation_states(self.measurement.database, list(ids.values()))
            still = {}
            for key, observation_id in ids.items():
                state = found.get(observation_id)
                if state is not None and state["status"] == "retracted":
                    still[key] = pending[key] + 1
                else:
                    resolved[key] = (observation_id, state)
            pending = still
        return resolved

    def _record(self, observation_id: UUID, candidate: _Candidate) -> Observation.Recorded:
        fields = candidate.fields
        return Observation.recorded(
            observation_id=observation_id,
            benchmark=candidate.benchmark,
            scope=candidate.scope,
            country=fields["country"],
            sector=fields.get("sector"),
            period=fields["period"],
            value=fields["value"],
            disaggregations=fields.get("disaggregations") or [],
            evidence=fields.get("evidence") or [],
            comment=fields.get("comment"),
            principal=self.actor.name,
        )

    def _summary(self, results: list[RowResult], dry_run: bool, all_or_nothing: bool) -> dict[str, Any]:
        counts = {outcome.value: 0 for outcome in Outcome}
        for result in results:
            counts[result.outcome.value] += 1
        if not counts["rejected"]:
            status = "OK"
        elif counts["imported"] or counts["already_present"]:
            status = "WARNING"
        else:
            status = "ERROR"
        return {
            "status": status,
            "dry_run": dry_run,
            "all_or_nothing": all_or_nothing,
            "counts": {"received": len(results), **counts},
            "rows": results,
            "position": catalogue.head_position(self.measurement.database),
        }


def _content(observation: Observation.Recorded) -> dict[str, Any]:
    return {"value": observation.value, "disaggregations": _unordered(observation.disaggregations)}


def _unordered(disaggregations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Disaggregated values in one order: a row whose columns were swapped is the same row."""
    return sorted(disaggregations, key=lambda item: (item["dimension"], item["category"]))


def _cell_date(observation: Observation.Recorded) -> CellDate:
    return (observation.benchmark, observation.country or "", observation.sector or "", observation.period_end)


def _stands(observation: Observation.Recorded, standing: dict[str, Any] | None) -> bool:
    """Whether the observation a row would record is the one standing in its cell for its period."""
    return (
        standing is not None
        and standing["period"] == observation.period
        and _content(observation)
        == {"value": standing["value"], "disaggregations": _unordered(standing["disaggregations"])}
    )


def _against_present(index: int, observation: Observation.Recorded, present: dict[str, Any]) -> RowResult:
    """A row for a period this principal has imported before: present if the
    same, refused if not (a change is a correction, with its reason)."""
    if _content(observation) == {"value": present["value"], "disaggregations": _unordered(present["disaggregations"])}:
        return RowResult(index, Outcome.ALREADY_PRESENT, observation.originator_id)
    observation_id = observation.originator_id
    detail = (
        f"{observation.benchmark} for {observation.country or 'the international level'} {observation.period} was "
        f"already imported with value "
        f"{present['value']!r} (observation {observation_id}); to change it, POST a correction to "
        f"/observations/{observation_id}/corrections."
    )
    return RowResult(index, Outcome.REJECTED, observation_id, problems=[FieldProblem(("value",), detail)])


def _against_earlier_row(
    index: int, observation: Observation.Recorded, earlier_index: int, earlier: Observation.Recorded
) -> RowResult:
    if _content(observation) == _content(earlier):
        return RowResult(index, Outcome.ALREADY_PRESENT, observation.originator_id)
    detail = (
        f"Row {earlier_index} of this batch has the same benchmark, country, sector and period with value "
        f"{earlier.value!r}: send one value per period."
    )
    return RowResult(index, Outcome.REJECTED, problems=[FieldProblem(("period",), detail)])


def _problems(error: DomainError) -> list[FieldProblem]:
    """The error's field problems, or one naming the field a rule without them is about."""
    if error.problems:
        return list(error.problems)
    path: tuple[str, ...] = ("country",) if isinstance(error, ForbiddenError) else ("benchmark",)
    return [FieldProblem(path, error.detail)]
