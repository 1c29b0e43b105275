"""Report editions: made from measurement's answers at pinned positions,
stored with the SHA-256 of each rendering, approved, read (a country office
sees its own countries' cells and the programme's figures), verified by
making them again from their pins, and compared."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, cast

from services.common.access import Permission, Principal
from services.common.errors import (
    ConflictError,
    InvalidCommandError,
    NotFoundError,
)
from services.reporting.adapters.editions import Editions
from services.reporting.adapters.measurement_client import MeasurementClient
from services.reporting.application.pinned_reads import read_checkpoint, read_pinned
from services.reporting.domain import assemble
from services.reporting.domain.access import check_may_verify
from services.reporting.domain.content import Checkpoint, EditionPins, ReportContent, canonical_json
from services.reporting.domain.diff import diff, first_difference
from services.reporting.domain.editions import (
    GENERATOR_VERSION,
    GENERATORS,
    CheckpointPin,
    Edition,
    EditionKind,
    EditionStatus,
    Generator,
    PreviousPin,
    edition_as_of,
    edition_title,
)
from services.reporting.domain.verification import VerificationStatus, Versions, explain, status_of
from services.reporting.rendering import TEMPLATE_VERSION, Format, render
from services.reporting.rendering.workers import Renderer


@dataclass(frozen=True)
class EditionRequest:
    kind: EditionKind
    as_of: date | None = None
    known_at: int | None = None  # a log position; the head when None
    supersedes: str | None = None


def _checkpoint_of(pin: CheckpointPin | None) -> Checkpoint | None:
    return None if pin is None else {"size": pin.size, "root_hash": pin.root_hash, "note": pin.note}


def pins_of(edition: Edition) -> EditionPins:
    previous = edition.previous
    return {
        "kind": edition.kind.value,
        "title": edition.title,
        "as_of": edition.as_of.isoformat(),
        "position": edition.position,
        "checkpoint": _checkpoint_of(edition.checkpoint),
        "framework": edition.framework,
        "template_version": edition.template_version,
        "generator_version": edition.generator_version,
        "previous": None
        if previous is None
        else {"id": previous.id, "as_of": previous.as_of.isoformat(), "position": previous.position},
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _visible(content: ReportContent, principal: Principal) -> ReportContent:
    """What a caller may see of an edition: a country office, its own
    countries' cells and restatements (every combined figure stays)."""
    if principal.reads_every_country:
        return content
    mine = principal.countries
    seen = cast(ReportContent, json.loads(canonical_json(content)))
    for assumption in seen["assumptions"]:
        for benchmark in assumption["benchmarks"]:
            benchmark["cells"] = [cell for cell in benchmark["cells"] if cell["country"] in mine]
    seen["restatements"] = [item for item in seen["restatements"] if item["country"] in mine]
    return seen


class Reporting:
    def __init__(
        self,
        editions: Editions,
        measurement: MeasurementClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        renderer: Renderer | None = None,
    ) -> None:
        self.editions = editions
        self.measurement = measurement
        self.clock = clock
        self.renderer = renderer or Renderer()

    def health(self) -> dict[str, Any]:
        """Whether this service's store answers (else the store's own error:
        a 503), how many editions it holds, and whether measurement answers
        (`degraded` when it does not: stored editions can still be read, no
        new one can be made)."""
        editions = self.editions.count()
        position = self.measurement.health()
        return {
            "status": "ok" if position is not None else "degraded",
            "editions": editions,
            "measurement": {"status": "ok", "position": position}
            if position is not None
            else {"status": "unreachable", "position": None},
        }

    # -- making ----------------------------------------------------------

    def _now(self, token: str, as_of: date, at: int | None) -> tuple[assemble.Answer, assemble.Answer]:
        """The report read at (as_of, at) with its series, and the framework at its position."""
        return read_pinned(self.measurement, token, as_of, at, series=True)

    def _checkpoint(self, token: str, position: int) -> CheckpointPin:
        return read_checkpoint(self.measurement, token, position)

    def _with_previous(
        self, token: str, framework: assemble.Answer, now: assemble.Answer, previous: PreviousPin | None
    ) -> assemble.Readings:
        """With the reads of the previous edition's valid date, as known then and as known now."""
        if previous is None:
            return assemble.Readings(framework, now)
        before = self.measurement.report(token, previous.as_of, previous.position, series=False)
        restated = self.measurement.report(token, previous.as_of, int(now["position"]), series=False)
        return assemble.Readings(framework, now, before, restated)

    def create(self, principal: Principal, token: str, request: EditionRequest) -> dict[str, Any]:
        """A new draft edition, pinned and stored with its renderings' digests."""
        principal.check_may(Permission.MANAGE_REPORTS)
        self._check_supersedes(request)
        as_of = edition_as_of(request.kind, request.as_of)
        # The head is only known once read, and the previous edition only
        # from it: each of measurement's reads is made once all the same.
        now, framework_answer = self._now(token, as_of, request.known_at)
        position = int(now["position"])
        previous = self.editions.previous_of(request.kind, position)
        pin = None if previous is None else PreviousPin(previous.id, previous.as_of, previous.position)
        readings = self._with_previous(token, framework_answer, now, pin)
        readings = replace(readings, workplan=self.measurement.workplan(token, as_of, position))
        checkpoint = self._checkpoint(token, position)
        framework = now["framework"]
        edition = Edition(
            id=str(uuid.uuid4()),
            kind=request.kind,
            title=edition_title(request.kind, as_of),
            as_of=as_of,
            position=position,
            framework=f"{framework['code']} v{framework['version']}",
            template_version=TEMPLATE_VERSION,
            generator_version=GENERATOR_VERSION,
            previous=pin,
            supersedes=request.supersedes,
            status=EditionStatus.DRAFT,
            created_by=principal.name,
            created_at=self.clock(),
            checkpoint=checkpoint,
        )
        content = assemble.content(pins_of(edition), readings)
        made = self.renderer.all(content)
        self.editions.add(edition, made["json"], {fmt: (sha256(data), len(data)) for fmt, data in made.items()})
        return self.view(edition)

    def _check_supersedes(self, request: EditionRequest) -> None:
        if request.supersedes is None:
            return
        superseded = self.editions.get(request.supersedes)
        if superseded is None:
            raise InvalidCommandError.at(("supersedes",), f"There is no edition {request.supersedes} to supersede.")
        if superseded.kind is not request.kind:
            raise InvalidCommandError.at(
                ("supersedes",),
                f"Edition {superseded.id} is a {superseded.kind} edition; a revision is an edition of the same kind.",
            )

    # -- lifecycle -------------------------------------------------------

    def _edition(self, edition_id: str) -> Edition:
        edition = self.editions.get(edition_id)
        if edition is None:
            raise NotFoundError(f"There is no report edition {edition_id}.")
        return edition

    def approve(self, principal: Principal, edition_id: str) -> dict[str, Any]:
        principal.check_may(Permission.MANAGE_REPORTS)
        approved = self._edition(edition_id).approved(principal.name, self.clock())
        if not self.editions.approve(approved):
            raise ConflictError(f"Edition {edition_id} was approved meanwhile, by another request.")
        return self.view(approved)

    def delete(self, principal: Principal, edition_id: str) -> None:
        principal.check_may(Permission.MANAGE_REPORTS)
        self._edition(edition_id).check_may_delete()
        if not self.editions.delete_draft(edition_id):
            raise ConflictError(f"Edition {edition_id} was approved or deleted meanwhile; it was not deleted.")

    # -- reading ---------------------------------------------------------

    def view(self, edition: Edition) -> dict[str, Any]:
        return {
            "id": edition.id,
            **pins_of(edition),
            "supersedes": edition.supersedes,
            "superseded_by": self.editions.superseded_by(edition.id),
            "status": edition.status.value,
            "created_by": edition.created_by,
            "created_at": edition.created_at,
            "approved_by": edition.approved_by,
            "approved_at": edition.approved_at,
            "sha256": self.editions.digests(edition.id),
        }

    def get(self, principal: Principal, edition_id: str) -> dict[str, Any]:
        principal.check_may(Permission.READ_REPORTS)
        return self.view(self._edition(edition_id))

    def list(self, principal: Principal, kind: EditionKind | None) -> dict[str, Any]:
        principal.check_may(Permission.READ_REPORTS)
        return {"items": [self.view(edition) for edition in self.editions.all(kind)]}

    def _content(self, edition_id: str) -> ReportContent:
        self._edition(edition_id)
        stored = self.editions.content(edition_id)
        assert stored is not None
        return cast(ReportContent, json.loads(stored))

    def rendering(self, principal: Principal, edition_id: str, fmt: Format) -> bytes:
        """The edition in `fmt`: the stored bytes' twin for a caller who sees
        every country; a country office's own view otherwise."""
        principal.check_may(Permission.READ_REPORTS)
        return render(_visible(self._content(edition_id), principal), fmt)

    def compare(self, principal: Principal, edition_id: str, against: str) -> dict[str, Any]:
        """What changed from edition `against` (before) to `edition_id` (after)."""
        principal.check_may(Permission.READ_REPORTS)
        before = _visible(self._content(against), principal)
        after = _visible(self._content(edition_id), principal)
        return {"before": against, "after": edition_id, "assumptions": diff(before, after)}

    # -- verification ----------------------------------------------------

    def verify(self, principal: Principal, token: str, edition_id: str) -> dict[str, Any]:
        """Makes the edition again from its pins, by the rules of the
        generator that made it, and compares each rendering's SHA-256 with
        the stored one (the JSON rendering alone when it was rendered with
        another template than this service's: verification.py)."""
        check_may_verify(principal)
        edition = self._edition(edition_id)
        # Made with the checkpoint measurement serves now for the edition's
        # size: a log rewritten since the edition was made has another root.
        served = None if edition.checkpoint is None else self._checkpoint(token, edition.position)
        generator = GENERATORS.get(edition.generator_version)
        made = None if generator is None else self._made_again(token, edition, generator, served)
        remade = None if made is None else self._rendered_again(edition, made)
        stored = self.editions.digests(edition_id)
        digests = None if remade is None else {fmt: sha256(data) for fmt, data in remade.items()}
        status = status_of(stored, digests)
        first = None
        if status is VerificationStatus.MISMATCH and made is not None:
            first = self._first_difference(edition, served, made)
        versions = Versions(edition.generator_version, GENERATOR_VERSION, edition.template_version, TEMPLATE_VERSION)
        not_remade = [fmt.value for fmt in Format if digests is None or fmt.value not in digests]
        return {
            "edition": edition_id,
            "status": status.value,
            "match": {VerificationStatus.MATCH: True, VerificationStatus.MISMATCH: False}.get(status),
            "detail": explain(status, versions, list(GENERATORS), not_remade, first),
            "formats": [_format_check(fmt.value, stored.get(fmt.value), digests) for fmt in Format],
            "first_difference": first,
            "checkpoint": {
                "pinned": _tree_of(edition.checkpoint),
                "served": _tree_of(served),
                "match": served == edition.checkpoint,
            },
            "generator_version": {"pinned": edition.generator_version, "current": GENERATOR_VERSION},
            "template_version": {"pinned": edition.template_version, "current": TEMPLATE_VERSION},
        }

    def _made_again(
        self, token: str, edition: Edition, generator: Generator, served: CheckpointPin | None
    ) -> ReportContent:
        """The edition's content made again from the same reads, by `generator`'s rules."""
        now, framework = self._now(token, edition.as_of, edition.position)
        readings = self._with_previous(token, framework, now, edition.previous)
        if generator.reads_workplan:
            readings = replace(readings, workplan=self.measurement.workplan(token, edition.as_of, edition.position))
        pins = pins_of(replace(edition, checkpoint=served))
        if not generator.pins_checkpoint:
            pins = cast(EditionPins, {name: value for name, value in pins.items() if name != "checkpoint"})
        return assemble.content(pins, readings)

    def _rendered_again(self, edition: Edition, made: ReportContent) -> dict[str, bytes]:
        """Every rendering with this service's template; with another, the JSON rendering alone (the content)."""
        if edition.template_version == TEMPLATE_VERSION:
            return self.renderer.all(made)
        return {Format.JSON.value: render(made, Format.JSON)}

    def _first_difference(self, edition: Edition, served: CheckpointPin | None, made: ReportContent) -> str:
        # The checkpoint first: another root at the edition's size means the
        # log it was read from was rewritten, the cause of whatever else differs.
        if served != edition.checkpoint:
            return "edition/checkpoint"
        stored_content = self._content(edition.id)
        return first_difference(stored_content, json.loads(canonical_json(made))) or "renderings only"


def _format_check(fmt: str, stored: str | None, remade: dict[str, str] | None) -> dict[str, Any]:
    """A format's stored and remade SHA-256 (None, and match None: not made again)."""
    regenerated = None if remade is None else remade.get(fmt)
    return {
        "format": fmt,
        "stored": stored,
        "regenerated": regenerated,
        "match": None if regenerated is None else regenerated == stored,
    }


def _tree_of(pin: CheckpointPin | None) -> dict[str, Any] | None:
    return None if pin is None else {"size": pin.size, "root_hash": pin.root_hash}
