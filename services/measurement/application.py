"""The measurement application: the commands that record events, and the
queries that answer from the read models and the log."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Callable, Sequence
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification, Recording, StoredEvent, Transcoding
from eventsourcing.utils import Environment
from sqlalchemy import Connection

from services.measurement import states, views
from services.measurement.adapters.database import Database
from services.measurement.adapters.group_commit import GroupCommit
from services.measurement.adapters.references import ReferenceCache
from services.measurement.adapters.event_store import RECORDED_AT, EventLogRecorder, Factory
from services.measurement.domain.access import Principal
from services.measurement.imports import ImportRow, ObservationImport
from services.measurement.domain.benchmarks import Baseline, Benchmark, Target
from services.measurement.domain.errors import (
    ConflictError,
    InvalidCommandError,
    NotFoundError,
    PreconditionRequiredError,
    StaleVersionError,
)
from services.measurement.domain.framework import Framework, FrameworkDocument
from services.measurement.domain.observations import Disaggregation, Evidence, Observation
from services.measurement.domain.scope import Criteria, IloRegion, ProgrammeScope
from services.measurement.domain.values import Combination, Dimension, Measure, Value
from services.measurement.adapters.tables import LIVE
from services.measurement.projections import READ_MODELS, Projected, Projector
from services.measurement.projections.handlers import recorded_observation_row
from services.measurement.projections.store import SqlStore
from services.measurement.series import Step, series_dates

PROGRAMME = "GSC-POA-2017-21"

CountryLookup = Callable[[str], str | None]


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class _Save:
    """The events of one `save`, and their stored (serialised) form."""

    events: Sequence[DomainEventProtocol[UUID]]
    stored: Sequence[StoredEvent]


# The log's recorded time of this context's last save, for answers built
# from the saved events without reading them back.
_last_recorded_at: ContextVar[datetime] = ContextVar("last_recorded_at")


class Measurement(Application[UUID]):
    name = "Measurement"

    def __init__(self, database: Database, country_name: CountryLookup) -> None:
        self.database = database
        self.country_name = country_name
        self.projector = Projector()
        self.references = ReferenceCache(database, self._load_reference)
        super().__init__(env={"AGGREGATE_CACHE_MAXSIZE": "1000", "AGGREGATE_CACHE_FASTFORWARD": "y"})
        self.group_commit: GroupCommit[_Save, tuple[list[Recording[UUID]], datetime]] = GroupCommit(
            database, self._write, begin=self.event_log.locked, finish=self._track
        )

    # -- infrastructure -------------------------------------------------

    def construct_factory(self, env: Environment) -> Factory:
        return Factory(env, self.database)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    @property
    def event_log(self) -> EventLogRecorder:
        assert isinstance(self.recorder, EventLogRecorder)
        return self.recorder

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Events are serialised here, in the caller's thread, not while the log is locked.
        save = _Save(processing_event.events, [self.events.mapper.to_stored_event(e) for e in processing_event.events])
        recordings, recorded_at = self.group_commit.submit(save)
        _last_recorded_at.set(recorded_at)
        return recordings

    def save_events(self, events: Sequence[DomainEventProtocol[UUID]]) -> list[Recording[UUID]]:
        """Saves events built without their aggregates (a bulk import's new
        observations: see `Observation.recorded`), as `save` would."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        processing_event.events.extend(events)
        return self._record(processing_event)

    def _write(self, connection: Connection, save: "_Save") -> tuple[list[Recording[UUID]], datetime]:
        """Appends the events to the log and projects them, in `connection`'s transaction."""
        try:
            positions = self.event_log.insert_events(save.stored)
        except IntegrityError as error:
            raise ConflictError(
                "Another change to the same record was saved at the same moment; read it again and retry."
            ) from error
        recordings = [
            Recording(
                event,
                Notification(
                    id=position,
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                ),
            )
            for event, stored, position in zip(save.events, save.stored, positions, strict=True)
        ]
        recorded_at = connection.info[RECORDED_AT]
        self.projector.project(
            SqlStore(connection, LIVE),
            (Projected(r.domain_event, r.notification.id, recorded_at) for r in recordings),
            track=False,
        )
        return recordings, recorded_at

    def _track(self, connection: Connection, saved: list[tuple[list[Recording[UUID]], datetime]]) -> None:
        """Records, once per group of saves, the position the read models reached."""
        positions = [recordings[-1].notification.id for recordings, _ in saved if recordings]
        if positions:
            SqlStore(connection, LIVE).track(READ_MODELS, max(positions))

    def close(self) -> None:
        self.group_commit.close()
        super().close()

    def _load_reference(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate

    def _get(self, aggregate_id: UUID, kind: type[Aggregate], missing: str) -> Any:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(missing) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(missing)
        return aggregate

    # -- framework --------------------------------------------------------

    def load_framework(self, document: dict[str, Any], digest: str, principal: str) -> dict[str, Any]:
        """Records a framework revision; loading the same revision again is a no-op."""
        parsed = FrameworkDocument(document)
        framework_id = Framework.create_id(parsed.code)
        try:
            framework = self._get(framework_id, Framework, "")
        except NotFoundError:
            framework = Framework(code=parsed.code, principal=principal)
        if framework.has_revision(parsed.version, digest):
            return {"code": parsed.code, "version": parsed.version, "loaded": False}
        framework.load_revision(parsed.version, digest, document, principal)
        self.save(framework)
        return {"code": parsed.code, "version": parsed.version, "loaded": True}

    def current_framework(self) -> FrameworkDocument:
        framework = self._get(
            Framework.create_id(PROGRAMME),
            Framework,
            f"The programme framework {PROGRAMME} is not loaded yet: run `stocktake load-framework`.",
        )
        assert framework.document is not None
        return framework.document

    def framework(self, at: int | None = None) -> dict[str, Any]:
        return views.framework(self, PROGRAMME, at)

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
    ) -> dict[str, Any]:
        framework = self.current_framework()
        if views.benchmark_exists(self.database, code):
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
        )
        try:
            self.save(benchmark)
        except ConflictError:
            raise ConflictError(f"A benchmark with code {code!r} exists already; choose another code.") from None
        return self.benchmark(code)

    def _benchmark(self, code: str) -> Benchmark:
        benchmark: Benchmark = self._get(
            Benchmark.create_id(code), Benchmark, f"There is no benchmark with code {code!r}."
        )
        return benchmark

    def revise_baseline(self, code: str, baseline: Baseline, reason: str, principal: str) -> dict[str, Any]:
        benchmark = self._benchmark(code)
        benchmark.revise_baseline(baseline, reason, principal)
        self.save(benchmark)
        return self.benchmark(code)

    def revise_targets(self, code: str, targets: Sequence[Target], reason: str, principal: str) -> dict[str, Any]:
        benchmark = self._benchmark(code)
        benchmark.revise_targets(targets, reason, principal)
        self.save(benchmark)
        return self.benchmark(code)

    def retire_benchmark(self, code: str, reason: str, principal: str) -> dict[str, Any]:
        benchmark = self._benchmark(code)
        benchmark.retire(reason, principal)
        self.save(benchmark)
        return self.benchmark(code)

    def benchmarks(self, assumption: str | None, include_retired: bool) -> dict[str, Any]:
        return views.benchmarks(self.database, assumption, include_retired)

    def benchmark(self, code: str) -> dict[str, Any]:
        found = views.benchmark(self.database, code)
        if found is None:
            raise NotFoundError(f"There is no benchmark with code {code!r}.")
        return found

    # -- scope ------------------------------------------------------------

    def _scope(self, principal: str) -> ProgrammeScope:
        """The programme's scope; its stream opens with the first decision."""
        scope_id = ProgrammeScope.create_id(PROGRAMME)
        try:
            scope: ProgrammeScope = self._get(scope_id, ProgrammeScope, "")
        except NotFoundError:
            scope = ProgrammeScope(programme=PROGRAMME, principal=principal)
        return scope

    def select_sector(self, code: str, name: str, rationale: str, principal: str) -> dict[str, Any]:
        scope = self._scope(principal)
        scope.select_sector(code, name, rationale, principal)
        self.save(scope)
        return self.scope()

    def select_country(
        self, iso3: str, region: IloRegion, criteria: Criteria, principal: str
    ) -> dict[str, Any]:
        name = self.country_name(iso3)
        if name is None:
            raise InvalidCommandError.at(
                ("iso3",), f"{iso3!r} is not an ISO 3166-1 alpha-3 country code (e.g. BGD, VNM, ETH)."
            )
        scope = self._scope(principal)
        scope.select_country(iso3, name, region, criteria, principal)
        self.save(scope)
        return self.scope()

    def nominate_focal_point(self, region: IloRegion, name: str, email: str, principal: str) -> dict[str, Any]:
        scope = self._scope(principal)
        scope.nominate_focal_point(region, name, email, principal)
        self.save(scope)
        return self.scope()

    def scope(self, at: int | None = None) -> dict[str, Any]:
        return views.scope(self, PROGRAMME, at)

    # -- observations -----------------------------------------------------

    def record_observation(
        self,
        *,
        benchmark: str,
        country: str,
        sector: str | None,
        period: str,
        value: Any,
        disaggregations: Sequence[Disaggregation],
        evidence: Sequence[Evidence],
        comment: str | None,
        actor: Principal,
        observation_id: UUID | None = None,
    ) -> dict[str, Any]:
        if self.country_name(country) is not None:  # else the scope check says what is wrong with it
            actor.check_may_report_for(country)
        try:
            checked_benchmark, scope = self.references_for_observation(benchmark)
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
            (recording,) = self.save(observation)
        except ConflictError:
            # An explicit id names one observation: if it was recorded before
            # (a retry whose first attempt's answer was lost), that is the
            # answer, even if its benchmark was retired since. The store is
            # only asked once something refused the write: a first attempt
            # costs no extra read.
            if observation_id is not None and self.has_observation(observation_id):
                return self.observation(observation_id)
            raise
        projected = Projected(recording.domain_event, recording.notification.id, _last_recorded_at.get())
        row = recorded_observation_row(recording.domain_event, projected)  # type: ignore[arg-type]
        return {**views.observation_out(row), "position": projected.position}

    def references_for_observation(self, code: str) -> tuple[Benchmark, ProgrammeScope]:
        """The benchmark and scope an observation is checked against."""
        benchmark_id, scope_id = Benchmark.create_id(code), ProgrammeScope.create_id(PROGRAMME)
        found = self.references.get(benchmark_id, scope_id)
        benchmark, scope = found.get(benchmark_id), found.get(scope_id)
        if not isinstance(benchmark, Benchmark):
            raise InvalidCommandError.at(("benchmark",), f"There is no benchmark with code {code!r}.")
        if not isinstance(scope, ProgrammeScope):
            raise InvalidCommandError.at(("country",), "No programme country is selected yet.")
        return benchmark, scope

    def _observation(self, observation_id: UUID) -> Observation:
        observation: Observation = self._get(
            observation_id, Observation, f"There is no observation {observation_id}."
        )
        return observation

    def _observation_at(self, observation_id: UUID, based_on: Sequence[int] | None, actor: Principal) -> Observation:
        """The observation, if `actor` may change it and the change is based on
        its current version (`based_on`: the versions of its If-Match; empty for `*`)."""
        observation = self._observation(observation_id)
        actor.check_may_change(observation.country, observation.recorded_by)
        if based_on is None:
            raise PreconditionRequiredError(
                f"Send If-Match with the observation's ETag (now \"{observation.version}\") so that a change "
                "based on an older version is refused rather than applied over one you have not seen."
            )
        if based_on and observation.version not in based_on:
            raise StaleVersionError(
                f"Observation {observation_id} is at version {observation.version}, not "
                f"{', '.join(map(str, based_on))}: read it again, then retry with If-Match: \"{observation.version}\"."
            )
        return observation

    def _save_based_on(self, observation: Observation) -> None:
        try:
            self.save(observation)
        except ConflictError:
            raise StaleVersionError(
                f"Observation {observation.id} changed while this change was being saved: read it again and retry."
            ) from None

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
        self._save_based_on(observation)
        return self.observation(observation_id)

    def retract_observation(
        self, observation_id: UUID, *, reason: str, actor: Principal, based_on: Sequence[int] | None
    ) -> dict[str, Any]:
        observation = self._observation_at(observation_id, based_on, actor)
        observation.retract(reason, actor.name)
        self._save_based_on(observation)
        return self.observation(observation_id)

    def observations(
        self, where: views.ObservationFilter, cursor: str | None, limit: int, reader: Principal | None = None
    ) -> dict[str, Any]:
        """A page of observations; a country office sees those of its countries only."""
        if reader is not None and not reader.reads_every_country:
            if where.country is not None:
                reader.check_may_read(where.country)
            where = replace(where, countries=reader.countries)
        return views.observations(self.database, where, cursor, limit)

    def has_observation(self, observation_id: UUID) -> bool:
        return views.observation(self.database, observation_id) is not None

    def observation(self, observation_id: UUID, reader: Principal | None = None) -> dict[str, Any]:
        found = views.observation(self.database, observation_id)
        if found is None:
            raise NotFoundError(f"There is no observation {observation_id}.")
        if reader is not None:
            reader.check_may_read(found["country"])
        return found

    def observation_history(self, observation_id: UUID, reader: Principal) -> dict[str, Any]:
        self.observation(observation_id, reader)
        return self.history(observation_id, Observation, f"There is no observation {observation_id}.")

    def import_observations(
        self, rows: Sequence[ImportRow], actor: Principal, dry_run: bool, all_or_nothing: bool
    ) -> dict[str, Any]:
        """Records a batch of observations row by row (see imports.py)."""
        return ObservationImport(self, actor).run(rows, dry_run, all_or_nothing)

    def head_position(self) -> int:
        """The log position the read models reflect."""
        with self.database.snapshot() as connection:
            return views.tracked_position(connection)

    # -- progress (as of a valid date, as known at a log position) ---------

    def benchmark_state(self, code: str, as_of: date, at: int | None, known_at: datetime | None) -> dict[str, Any]:
        return states.benchmark_state(self.database, code, as_of, at, known_at)

    def benchmark_series(
        self, code: str, start: str, end: str, step: Step, at: int | None, known_at: datetime | None
    ) -> dict[str, Any]:
        return states.benchmark_series(self.database, code, series_dates(start, end, step), at, known_at)

    def assumption_rollup(self, as_of: date, at: int | None, known_at: datetime | None) -> dict[str, Any]:
        assumptions = self.framework()["document"]["critical_assumptions"]
        return states.assumption_rollup(self.database, assumptions, as_of, at, known_at)

    def country_profile(self, iso3: str, as_of: date, at: int | None, known_at: datetime | None) -> dict[str, Any]:
        return states.country_profile(self.database, iso3, as_of, at, known_at)

    # -- the log ----------------------------------------------------------

    def log_page(self, after: int, limit: int) -> dict[str, Any]:
        return views.log_page(self, after, limit)

    def history(self, aggregate_id: UUID, kind: type[Aggregate], missing: str) -> dict[str, Any]:
        """Every event of one stream of `kind`, in order, as recorded, and the
        log position the answer reflects."""
        history = views.stream_history(self, aggregate_id)
        if not history["events"] or not history["events"][0]["type"].startswith(f"{kind.__name__}."):
            raise NotFoundError(missing)
        return history
