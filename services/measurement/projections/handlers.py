"""One handler per event type, writing the read models through a store.

- the catalogue (`benchmarks_view`, `observations_view`): the current state,
  for lists and pages;
- the bitemporal tables (`benchmark_revisions`, `observation_values`,
  `country_selections`, `scope_decisions`): every version with the log positions between which it
  was the one known, so that a state "as of D, as known at P" is a lookup."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from services.common.json import jsonable
from services.measurement.adapters.bulk import EncodedJson
from services.measurement.domain.benchmarks import Benchmark
from services.measurement.domain.observations import Observation
from services.measurement.domain.scope import ProgrammeScope
from services.measurement.domain.scope_periods import ScopeDecision, ScopeKind
from services.measurement.projections.series_keys import series_key
from services.measurement.projections.store import ReadModelStore, Row

_EVENT_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


class Projected(NamedTuple):
    """A domain event and where it stands in the log (a tuple: made for every event a group commit writes,
    under the log's lock, in a third of a frozen dataclass's time)."""

    event: DomainEventProtocol[UUID]
    position: int
    recorded_at: datetime
    # What `prepare` made of the event before it had a position (None: nothing; the handler makes it all).
    prepared: Any = None


def event_data(event: Any) -> dict[str, Any]:
    data: dict[str, Any] = jsonable({k: v for k, v in event.__dict__.items() if k not in _EVENT_ENVELOPE})
    return data


def value_columns(value: Any) -> Row:
    """A value in the typed columns of `observation_values`."""
    if isinstance(value, str):
        return {"number": None, "text": value}
    return {"number": float(value), "text": None}


def _history_entry(event: Any, item: Projected, kind: str) -> dict[str, Any]:
    return {
        "event": kind,
        "position": item.position,
        "recorded_at": item.recorded_at.isoformat(),
        "principal": event.principal,
        "reason": getattr(event, "reason", None),
    }


def _definition(state: dict[str, Any]) -> dict[str, Any]:
    """A benchmark revision: its state without the catalogue's bookkeeping."""
    return {k: v for k, v in state.items() if k not in ("history", "principal")}


def recorded_observation_row(event: Observation.Recorded, item: Projected) -> Row:
    """The `observations_view` row of a newly recorded observation."""
    return {
        "id": event.originator_id,
        "benchmark": event.benchmark,
        "assumption": event.assumption,
        # "" for an international observation, as a cell's sector is "" for none.
        "country": event.country or "",
        "sector": event.sector,
        "period": event.period,
        "period_start": event.period_start,
        "period_end": event.period_end,
        "status": "recorded",
        # Already JSON: the domain keeps values, disaggregations and evidence as
        # numbers, texts and lists of flat objects of them.
        "state": {
            "value": event.value,
            "disaggregations": event.disaggregations,
            "evidence": event.evidence,
            "comment": event.comment,
            "recorded_by": event.principal,
            "corrections": 0,
            "retraction": None,
        },
        "version": event.originator_version,
        "recorded_position": item.position,
        "last_position": item.position,
        "recorded_at": item.recorded_at,
        "updated_at": item.recorded_at,
    }


class RecordedRows(NamedTuple):
    """The read models' rows of a newly recorded observation, but for what depends on its position and
    recorded time (`prepare_recorded`): made in the saving request's own thread, so that the writer, under
    the log's lock, only puts those in."""

    view: Row  # observations_view, its state's JSON text made (EncodedJson)
    cell: Row  # value_cells
    values: Row  # observation_values


def prepare_recorded(event: Observation.Recorded) -> RecordedRows:
    """The rows `recorded_observation_row` and the handler of `Observation.Recorded` make, without their
    positions and times."""
    view = recorded_observation_row(event, _UNPLACED)
    for placed in _PLACED_VIEW:
        del view[placed]
    view["state"] = EncodedJson(view["state"])
    country, sector = event.country or "", event.sector or ""
    key = series_key(event.benchmark, country, sector)
    cell = {"benchmark": event.benchmark, "country": country, "sector": sector, "series_key": key}
    values = {
        "observation_id": event.originator_id,
        "known_until": None,
        "benchmark": event.benchmark,
        "country": country,
        "sector": sector,
        "valid_date": event.period_end,
        **value_columns(event.value),
        "series_key": key,
    }
    return RecordedRows(view, cell, values)


_PLACED_VIEW = ("recorded_position", "last_position", "recorded_at", "updated_at")
_UNPLACED = Projected(None, 0, datetime.min)  # type: ignore[arg-type]


class ReadModelHandlers:
    @staticmethod
    def prepare(event: Any) -> Any:
        """What can be made of `event`'s rows before it has a position (`Projected.prepared`), or None."""
        if type(event) is Observation.Recorded:
            return prepare_recorded(event)
        return None

    @singledispatchmethod
    def apply(self, event: Any, item: Projected, store: ReadModelStore) -> None:
        """Events no read model needs (framework revisions...) are skipped."""

    # -- benchmarks -------------------------------------------------------

    @apply.register
    def _(self, event: Benchmark.Defined, item: Projected, store: ReadModelStore) -> None:
        state = event_data(event)
        state["retired"] = None
        state["defined_at"] = item.recorded_at.isoformat()
        state["history"] = [_history_entry(event, item, "defined")]
        store.insert(
            "benchmarks_view",
            {
                "id": event.originator_id,
                "code": event.code,
                "assumption": event.assumption,
                "retired": False,
                "state": state,
                "version": event.originator_version,
                "defined_position": item.position,
                "last_position": item.position,
            },
        )
        self._new_revision(store, event.code, event.assumption, state, item.position)

    @apply.register
    def _(self, event: Benchmark.BaselineRevised, item: Projected, store: ReadModelStore) -> None:
        self._revise_benchmark(store, event, item, "baseline_revised", baseline=jsonable(event.baseline))

    @apply.register
    def _(self, event: Benchmark.TargetsRevised, item: Projected, store: ReadModelStore) -> None:
        self._revise_benchmark(store, event, item, "targets_revised", targets=jsonable(event.targets))

    @apply.register
    def _(self, event: Benchmark.Retired, item: Projected, store: ReadModelStore) -> None:
        retired = {"reason": event.reason, "by": event.principal, "at": item.recorded_at.isoformat()}
        self._revise_benchmark(store, event, item, "retired", retired=retired)

    def _revise_benchmark(self, store: ReadModelStore, event: Any, item: Projected, kind: str, **changes: Any) -> None:
        row = store.get("benchmarks_view", (event.originator_id,))
        state = {**row["state"], **changes, "history": [*row["state"]["history"], _history_entry(event, item, kind)]}
        store.update(
            "benchmarks_view",
            (event.originator_id,),
            {
                "state": state,
                "retired": state["retired"] is not None,
                "version": event.originator_version,
                "last_position": item.position,
            },
        )
        store.close_version("benchmark_revisions", row["code"], item.position)
        self._new_revision(store, row["code"], row["assumption"], state, item.position)

    def _new_revision(
        self, store: ReadModelStore, code: str, assumption: str, state: dict[str, Any], position: int
    ) -> None:
        store.insert(
            "benchmark_revisions",
            {
                "benchmark": code,
                "known_from": position,
                "known_until": None,
                "assumption": assumption,
                "retired": state["retired"] is not None,
                "state": _definition(state),
            },
        )

    # -- observations -----------------------------------------------------

    @apply.register
    def _(self, event: Observation.Recorded, item: Projected, store: ReadModelStore) -> None:
        # The rows are made before the log's lock when the event is saved (`prepare_recorded`); a rebuild,
        # or a save that made none, makes them here the same way.
        prepared = item.prepared if type(item.prepared) is RecordedRows else prepare_recorded(event)
        position, recorded_at = item.position, item.recorded_at
        store.insert(
            "observations_view",
            {
                **prepared.view,
                "recorded_position": position,
                "last_position": position,
                "recorded_at": recorded_at,
                "updated_at": recorded_at,
            },
        )
        store.raise_high_water(event.period_end, position)
        store.insert_once("value_cells", {**prepared.cell, "first_known": position})
        store.insert("observation_values", {**prepared.values, "known_from": position, "recorded_position": position})

    @apply.register
    def _(self, event: Observation.Corrected, item: Projected, store: ReadModelStore) -> None:
        row = store.get("observations_view", (event.originator_id,))
        state = {
            **row["state"],
            "value": jsonable(event.value),
            "disaggregations": jsonable(event.disaggregations),
            "corrections": row["state"]["corrections"] + 1,
        }
        self._update_observation(store, event, item, "corrected", state)
        store.close_version("observation_values", event.originator_id, item.position)
        sector = row["sector"] or ""
        store.insert(
            "observation_values",
            {
                "observation_id": event.originator_id,
                "known_from": item.position,
                "known_until": None,
                "benchmark": row["benchmark"],
                "country": row["country"],
                "sector": sector,
                "valid_date": row["period_end"],
                **value_columns(event.value),
                "series_key": series_key(row["benchmark"], row["country"], sector),
                # A correction keeps the observation's precedence (domain/progress.py).
                "recorded_position": row["recorded_position"],
            },
        )

    @apply.register
    def _(self, event: Observation.Retracted, item: Projected, store: ReadModelStore) -> None:
        row = store.get("observations_view", (event.originator_id,))
        retraction = {"reason": event.reason, "by": event.principal, "at": item.recorded_at.isoformat()}
        self._update_observation(store, event, item, "retracted", {**row["state"], "retraction": retraction})
        store.close_version("observation_values", event.originator_id, item.position)

    def _update_observation(
        self, store: ReadModelStore, event: Any, item: Projected, status: str, state: dict[str, Any]
    ) -> None:
        store.update(
            "observations_view",
            (event.originator_id,),
            {
                "status": status,
                "state": state,
                "version": event.originator_version,
                "last_position": item.position,
                "updated_at": item.recorded_at,
            },
        )

    # -- scope ------------------------------------------------------------

    @apply.register
    def _(self, event: ProgrammeScope.CountrySelected, item: Projected, store: ReadModelStore) -> None:
        # A country's first selection; a selection again after a deselection is a scope decision only.
        store.insert_once(
            "country_selections",
            {
                "iso3": event.iso3,
                "region": event.region,
                "selected_position": item.position,
            },
        )
        _decided(store, item, ScopeDecision(ScopeKind.COUNTRY, event.iso3, True, event.valid_from))

    @apply.register
    def _(self, event: ProgrammeScope.CountryDeselected, item: Projected, store: ReadModelStore) -> None:
        _decided(store, item, ScopeDecision(ScopeKind.COUNTRY, event.iso3, False, event.valid_from, event.reason))

    @apply.register
    def _(self, event: ProgrammeScope.SectorSelected, item: Projected, store: ReadModelStore) -> None:
        _decided(store, item, ScopeDecision(ScopeKind.SECTOR, event.code, True, event.valid_from))

    @apply.register
    def _(self, event: ProgrammeScope.SectorDeselected, item: Projected, store: ReadModelStore) -> None:
        _decided(store, item, ScopeDecision(ScopeKind.SECTOR, event.code, False, event.valid_from, event.reason))


def _decided(store: ReadModelStore, item: Projected, decision: ScopeDecision) -> None:
    store.insert("scope_decisions", {"position": item.position, **decision._asdict(), "kind": decision.kind.value})
