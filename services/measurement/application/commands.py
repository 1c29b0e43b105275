"""The write side of measurement: the commands of country offices and the
programme management team. Each records events through the event log
application (`event_log.py`) and answers with the record as it now stands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from sqlalchemy import Connection

from services.common.access import Principal
from services.common.database import Database
from services.common.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidCommandError,
    NotFoundError,
    PreconditionRequiredError,
    StaleVersionError,
)
from services.measurement.adapters.references import ReferenceCache
from services.measurement.application.event_log import EventLogApplication, ReferenceChangedError, Saved
from services.measurement.application.queries import catalogue
from services.measurement.domain.benchmarks import Baseline, Benchmark, Level, Target
from services.measurement.domain.framework import PROGRAMME, Framework, FrameworkDocument
from services.measurement.domain.observations import Disaggregation, Evidence, Observation
from services.measurement.domain.scope import Criteria, IloRegion, ProgrammeScope
from services.measurement.domain.scope_periods import PROGRAMME_START
from services.measurement.domain.values import Combination, Dimension, Measure, Value
from services.measurement.projections import Projected
from services.measurement.projections.handlers import recorded_observation_row

CountryLookup = Callable[[str], str | None]
# Keeping a recording's answer in the transaction that saves it (see record_observation): given the
# answer before the save, with all but what only the save assigns under the log's lock (the log
# position and recorded time), returns what writes it there once the save has assigned them.
KeepAnswer = Callable[[dict[str, Any]], Callable[[Connection, int, datetime], None]]
# What an answer drafted before its save holds until then in place of its position and recorded time.
DRAFT_POSITION = 0
DRAFT_RECORDED_AT = datetime(1970, 1, 1, tzinfo=UTC)
# A recording is checked again when its benchmark changed meanwhile; a third
# change in a row is answered as a conflict to retry.
RECORDING_ATTEMPTS = 3


class Measurement(EventLogApplication):
    def __init__(self, database: Database, country_name: CountryLookup) -> None:
        super().__init__(database)
        self.country_name = country_name
        self.references = ReferenceCache(database, lambda aggregate_id: self.find(aggregate_id, Aggregate))

    # -- framework --------------------------------------------------------

    def load_framework(self, document: dict[str, Any], digest: str, principal: str) -> dict[str, Any]:
        """Records a framework revision; loading the same revision again is a no-op."""
        parsed = FrameworkDocument(document)
        framework_id = Framework.create_id(parsed.code)
        framework = self.find(framework_id, Framework) or Framework(code=parsed.code, principal=principal)
        if framework.has_revision(parsed.version, digest):
            return {"code": parsed.code, "version": parsed.version, "loaded": False}
        framework.load_revision(parsed.version, digest, document, principal)
        self.save(framework)
        return {"code": parsed.code, "version": parsed.version, "loaded": True}

    def current_framework(self) -> FrameworkDocument:
        framework = self.get(
            Framework.create_id(PROGRAMME),
            Framework,
            f"The programme framework {PROGRAMME} is not loaded yet: run `stocktake load-framework`.",
        )
        assert framework.document is not None
        return framework.document

    # -- benchmarks -------------------------------------------------------

    def define_benchmark(
        self,
        *,
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
    ) -> dict[str, Any]:
        framework = self.current_framework()
        if catalogue.benchmark_exists(self.database, code):
            raise ConflictError(f"A benchmark with code {code!r} exists already; choose another code.")
        benchmark = Benchmark.define(
            framework=framework,
            code=code,
            assumption=assumption,
            title=title,
            description=description,
            measure=measure,
            ascending=ascending,
            unit_label=unit_label,
            levels=levels,
            baseline=baseline,
            targets=targets,
            combination=combination,
            threshold=threshold,
            disaggregations=disaggregations,
            deliverables=deliverables,
            pb_indicators=pb_indicators,
            principal=principal,
            level=level,
        )
        try:
            self.save(benchmark)
        except ConflictError:
            raise ConflictError(f"A benchmark with code {code!r} exists already; choose another code.") from None
        return self._benchmark_answer(code)

    def _benchmark_answer(self, code: str) -> dict[str, Any]:
        """The benchmark as read models show it, projected in the transaction that saved it."""
        answer = catalogue.benchmark(self.database, code)
        if answer is None:
            raise RuntimeError(f"Benchmark {code!r} was saved but is missing from the read models.")
        return answer

    def _benchmark(self, code: str) -> Benchmark:
        found = self.find(Benchmark.create_id(code), Benchmark)
        if found is None:
            raise NotFoundError(catalogue.no_such_benchmark(self.database, code))
        return found

    def revise_baseline(self, code: str, baseline: Baseline, reason: str, principal: str) -> dict[str, Any]:
        benchmark = self._benchmark(code)
        benchmark.revise_baseline(baseline, reason, principal)
        self.save(benchmark)
        return self._benchmark_answer(code)

    def revise_targets(self, code: str, targets: Sequence[Target], reason: str, principal: str) -> dict[str, Any]:
        benchmark = self._benchmark(code)
        benchmark.revise_targets(targets, reason, principal)
        self.save(benchmark)
        return self._benchmark_answer(code)

    def retire_benchmark(self, code: str, reason: str, principal: str) -> dict[str, Any]:
        benchmark = self._benchmark(code)
        benchmark.retire(reason, principal)
        self.save(benchmark)
        return self._benchmark_answer(code)

    # -- scope ------------------------------------------------------------

    def _scope(self, principal: str) -> ProgrammeScope:
        """The programme's scope; its stream opens with the first decision."""
        scope_id = ProgrammeScope.create_id(PROGRAMME)
        return self.find(scope_id, ProgrammeScope) or ProgrammeScope(programme=PROGRAMME, principal=principal)

    def select_sector(
        self, code: str, name: str, rationale: str, principal: str, valid_from: date = PROGRAMME_START
    ) -> dict[str, Any]:
        scope = self._scope(principal)
        scope.select_sector(code, name, rationale, principal, valid_from)
        self.save(scope)
        return catalogue.scope(self)

    def select_country(
        self, iso3: str, region: IloRegion, criteria: Criteria, principal: str, valid_from: date = PROGRAMME_START
    ) -> dict[str, Any]:
        name = self.country_name(iso3)
        if name is None:
            raise InvalidCommandError.at(
                ("iso3",), f"{iso3!r} is not an ISO 3166-1 alpha-3 country code (e.g. BGD, VNM, ETH)."
            )
        scope = self._scope(principal)
        scope.select_country(iso3, name, region, criteria, principal, valid_from)
        self.save(scope)
        return catalogue.scope(self)

    def _selected_scope(self) -> ProgrammeScope:
        return self.get(ProgrammeScope.create_id(PROGRAMME), ProgrammeScope, "Nothing is selected yet.")

    def deselect_sector(self, code: str, valid_from: date, reason: str, principal: str) -> dict[str, Any]:
        """Ends the sector's period in scope: from `valid_from` on it is out of scope."""
        scope = self._selected_scope()
        scope.deselect_sector(code, valid_from, reason, principal)
        self.save(scope)
        return catalogue.scope(self)

    def deselect_country(self, iso3: str, valid_from: date, reason: str, principal: str) -> dict[str, Any]:
        """Ends the country's period in scope: from `valid_from` on it is out of scope."""
        scope = self._selected_scope()
        scope.deselect_country(iso3, valid_from, reason, principal)
        self.save(scope)
        return catalogue.scope(self)

    def nominate_focal_point(self, region: IloRegion, name: str, email: str, principal: str) -> dict[str, Any]:
        scope = self._scope(principal)
        scope.nominate_focal_point(region, name, email, principal)
        self.save(scope)
        return catalogue.scope(self)

    # -- observations -----------------------------------------------------

    def record_observation(
        self,
        *,
        benchmark: str,
        country: str | None,
        sector: str | None,
        period: str,
        value: Any,
        disaggregations: Sequence[Disaggregation],
        evidence: Sequence[Evidence],
        comment: str | None,
        actor: Principal,
        observation_id: UUID | None = None,
        keep_answer: KeepAnswer | None = None,
    ) -> dict[str, Any]:
        """Records the observation; `keep_answer`, if given, is handed the answer
        before the save, and what it returns is called in the transaction that
        saves it with the position and time the save assigned (to keep the answer
        there too: only that is done while the log's lock is held)."""
        self._check_may_record(actor, benchmark, country)
        for attempt in range(RECORDING_ATTEMPTS):
            try:
                return self._record_observation(
                    benchmark=benchmark,
                    country=country,
                    sector=sector,
                    period=period,
                    value=value,
                    disaggregations=disaggregations,
                    evidence=evidence,
                    comment=comment,
                    actor=actor,
                    observation_id=observation_id,
                    keep_answer=keep_answer,
                    trust_copies=attempt == 0,
                )
            except ReferenceChangedError:
                # The benchmark or the scope changed (a revision, a retirement,
                # a deselection; or the copy read was stale) between the check
                # and the save: check again against what it is now.
                if attempt == RECORDING_ATTEMPTS - 1:
                    raise
            except DomainError:
                # Refused by the copies trusted on the first attempt: refused
                # only if what they stand for now refuses it too.
                if attempt > 0:
                    raise
        raise AssertionError("unreachable")

    def _check_may_record(self, actor: Principal, code: str, country: str | None) -> None:
        """Whether `actor` may record for `country` (None: international). A
        country office and the programme management team each record one
        level: when the observation names a country where its benchmark's
        level wants none (or none where it wants one), that is what to fix
        (422), rather than who sent it (the benchmark is read only then)."""
        if country is not None and self.country_name(country) is None:
            return  # the scope check says what is wrong with it
        try:
            actor.check_may_report_for(country)
        except ForbiddenError:
            benchmark_id = Benchmark.create_id(code)
            known = self.references.get(benchmark_id).get(benchmark_id)
            if isinstance(known, Benchmark):
                known.check_country_level(country)
            raise

    def _record_observation(
        self,
        *,
        benchmark: str,
        country: str | None,
        sector: str | None,
        period: str,
        value: Any,
        disaggregations: Sequence[Disaggregation],
        evidence: Sequence[Evidence],
        comment: str | None,
        actor: Principal,
        observation_id: UUID | None,
        keep_answer: KeepAnswer | None,
        trust_copies: bool,
    ) -> dict[str, Any]:
        keep: Callable[[Connection, int, datetime], None] | None = None

        def along(connection: Connection, saved: Saved) -> None:
            if keep is not None:
                (recording,) = saved.recordings
                keep(connection, recording.notification.id, saved.recorded_at)

        try:
            # The copies of the benchmark and scope last read are trusted: the save checks under the log's
            # lock that neither has moved on since, and a retry (ReferenceChangedError) reads them again.
            checked_benchmark, scope, unchanged = self._references(benchmark, trust_copies=trust_copies)
            observation = Observation.record(
                observation_id=observation_id or uuid4(),
                benchmark=checked_benchmark,
                scope=scope,
                country=country,
                sector=sector,
                period=period,
                value=value,
                disaggregations=disaggregations,
                evidence=evidence,
                comment=comment,
                principal=actor.name,
            )
            if keep_answer is not None:
                (recorded,) = observation.pending_events
                assert isinstance(recorded, Observation.Recorded)
                keep = keep_answer(self._answer(recorded, DRAFT_POSITION, DRAFT_RECORDED_AT))
            self.save(observation, unchanged=unchanged, along=along)
        except ReferenceChangedError:
            raise
        except ConflictError:
            # An explicit id names one observation: if it was recorded before
            # (a retry whose first attempt's answer was lost), that is the
            # answer, even if its benchmark was retired since. The store is
            # only asked once something refused the write: a first attempt
            # costs no extra read.
            found = catalogue.observation(self.database, observation_id) if observation_id else None
            if found is not None:
                return found
            raise
        return self._recorded_answer(self.last_saved())

    @classmethod
    def _recorded_answer(cls, saved: Saved) -> dict[str, Any]:
        """The observation a save recorded, as its answer (built from the saved event, not read back)."""
        (projected,) = saved.projected()
        assert isinstance(projected.event, Observation.Recorded)
        return cls._answer(projected.event, projected.position, projected.recorded_at)

    @staticmethod
    def _answer(event: Observation.Recorded, position: int, recorded_at: datetime) -> dict[str, Any]:
        row = recorded_observation_row(event, Projected(event, position, recorded_at))
        return {**catalogue.observation_out(row), "position": position}

    def references_for_observation(self, code: str) -> tuple[Benchmark, ProgrammeScope]:
        """The benchmark and scope an observation is checked against, as they stand now."""
        benchmark, scope, _ = self._references(code, trust_copies=False)
        return benchmark, scope

    def _references(self, code: str, trust_copies: bool) -> tuple[Benchmark, ProgrammeScope, dict[UUID, int]]:
        """The benchmark and scope an observation is checked against, and the
        version of each stream they were read at (what a save must find
        unchanged under the log's lock); `trust_copies`: see ReferenceCache."""
        benchmark_id, scope_id = Benchmark.create_id(code), ProgrammeScope.create_id(PROGRAMME)
        found = self.references.get(benchmark_id, scope_id, trust_copies=trust_copies)
        benchmark, scope = found.get(benchmark_id), found.get(scope_id)
        if not isinstance(benchmark, Benchmark):
            raise InvalidCommandError.at(("benchmark",), catalogue.no_such_benchmark(self.database, code))
        read_at = {benchmark.id: benchmark.version}
        if isinstance(scope, ProgrammeScope):
            read_at[scope.id] = scope.version
        else:
            # Nothing selected yet: an international observation needs no country.
            scope = ProgrammeScope(programme=PROGRAMME, principal="")
        return benchmark, scope, read_at

    def _observation(self, observation_id: UUID) -> Observation:
        return self.get(observation_id, Observation, f"There is no observation {observation_id}.")

    def _observation_at(self, observation_id: UUID, based_on: Sequence[int] | None, actor: Principal) -> Observation:
        """The observation, if `actor` may change it and the change is based on
        its current version (`based_on`: the versions of its If-Match; empty for `*`)."""
        observation = self._observation(observation_id)
        actor.check_may_change(observation.country, observation.recorded_by)
        # Nothing can change a retracted observation: say so, whatever the If-Match.
        observation.check_not_retracted()
        if based_on is None:
            raise PreconditionRequiredError(
                f'Send If-Match with the observation\'s ETag (now "{observation.version}") so that a change '
                "based on an older version is refused rather than applied over one you have not seen."
            )
        if based_on and observation.version not in based_on:
            raise StaleVersionError(
                f"Observation {observation_id} is at version {observation.version}, not "
                f'{", ".join(map(str, based_on))}: read it again, then retry with If-Match: "{observation.version}".'
            )
        return observation

    def _save_based_on(self, observation: Observation) -> dict[str, Any]:
        """Saves the change; answers the observation as it now stands, at the
        change's own log position (later events may be in the read models)."""
        try:
            self.save(observation)
        except ConflictError:
            raise StaleVersionError(
                f"Observation {observation.id} changed while this change was being saved: read it again and retry."
            ) from None
        (projected,) = self.last_saved().projected()
        return {**catalogue.observation_or_404(self.database, observation.id), "position": projected.position}

    def correct_observation(
        self,
        observation_id: UUID,
        *,
        value: Any,
        disaggregations: Sequence[Disaggregation] | None,
        reason: str,
        actor: Principal,
        based_on: Sequence[int] | None,
    ) -> dict[str, Any]:
        observation = self._observation_at(observation_id, based_on, actor)
        observation.correct(
            benchmark=self.references_for_observation(observation.benchmark)[0],
            value=value,
            disaggregations=disaggregations,
            reason=reason,
            principal=actor.name,
        )
        return self._save_based_on(observation)

    def retract_observation(
        self, observation_id: UUID, *, reason: str, actor: Principal, based_on: Sequence[int] | None
    ) -> dict[str, Any]:
        observation = self._observation_at(observation_id, based_on, actor)
        observation.retract(reason, actor.name)
        return self._save_based_on(observation)
