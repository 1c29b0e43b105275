"""Who may do what: the four roles, what each may do (function level), and
which records a country office may touch (object level).

A principal is the named holder of one or more API keys (a key can be
revoked and replaced; the principal, and what it recorded, stays). Every
event records the principal that caused it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from services.common.errors import ForbiddenError


class Role(StrEnum):
    COUNTRY_OFFICE = "country-office"
    PROGRAMME_MANAGER = "programme-manager"
    AUDITOR = "auditor"
    REPORTING = "reporting"


class Permission(StrEnum):
    READ_FRAMEWORK = "read:framework"  # the framework, benchmarks, scope
    READ_PROGRESS = "read:progress"  # benchmark states, series, roll-ups, country profiles
    READ_OBSERVATIONS = "read:observations"  # observations and their histories
    READ_LOG = "read:log"  # the whole event log
    READ_CHECKPOINTS = "read:checkpoints"  # the log's signed checkpoints and their verifier key
    READ_PROOFS = "read:proofs"  # inclusion and consistency proofs of the log's Merkle tree
    MANAGE_BENCHMARKS = "manage:benchmarks"
    MANAGE_SCOPE = "manage:scope"
    MANAGE_WORKPLAN = "manage:workplan"  # record deliverables' delivery and milestones' outcomes
    RECORD_OBSERVATIONS = "record:observations"  # record, correct, retract, import
    # The reporting service's (services/reporting): its operations list these too.
    READ_REPORTS = "read:reports"  # list and read report editions, their renderings and diffs
    VERIFY_REPORTS = "verify:reports"  # make an edition again from its pins (every country's cells)
    MANAGE_REPORTS = "manage:reports"  # create, approve and delete (drafts) report editions


_READS = {Permission.READ_FRAMEWORK, Permission.READ_PROGRESS, Permission.READ_REPORTS}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Not verify:reports: verifying makes every country's cells again, and an office reads its own.
    Role.COUNTRY_OFFICE: frozenset(_READS | {Permission.READ_OBSERVATIONS, Permission.RECORD_OBSERVATIONS}),
    Role.PROGRAMME_MANAGER: frozenset(
        _READS
        | {
            Permission.READ_OBSERVATIONS,
            Permission.READ_LOG,
            Permission.READ_CHECKPOINTS,
            # International observations only (check_may_report_for): they name no country.
            Permission.RECORD_OBSERVATIONS,
            Permission.MANAGE_BENCHMARKS,
            Permission.MANAGE_SCOPE,
            Permission.MANAGE_WORKPLAN,
            Permission.VERIFY_REPORTS,
            Permission.MANAGE_REPORTS,
        }
    ),
    Role.AUDITOR: frozenset(
        _READS
        | {
            Permission.READ_OBSERVATIONS,
            Permission.READ_LOG,
            Permission.READ_CHECKPOINTS,
            Permission.READ_PROOFS,
            Permission.VERIFY_REPORTS,
        }
    ),
    # Reports pin the checkpoint they were read at.
    Role.REPORTING: frozenset(_READS | {Permission.READ_CHECKPOINTS, Permission.VERIFY_REPORTS}),
}


def roles_with(permission: Permission) -> list[Role]:
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    countries: frozenset[str] = field(default_factory=frozenset)  # a country office's; empty for other roles

    @classmethod
    def office(cls, name: str, countries: Iterable[str]) -> Principal:
        return cls(name, Role.COUNTRY_OFFICE, frozenset(countries))

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def check_may(self, permission: Permission) -> None:
        if not self.may(permission):
            allowed = ", ".join(roles_with(permission))
            raise ForbiddenError(
                f"{self.name} ({self.role}) may not do this: it needs {permission}, which only {allowed} "
                f"keys have. Ask the programme management team for a key with that role."
            )

    @property
    def reads_every_country(self) -> bool:
        return self.role != Role.COUNTRY_OFFICE

    def check_may_read(self, country: str | None) -> None:
        """An observation of `country` (None: international; its values, evidence and history)."""
        self.check_may(Permission.READ_OBSERVATIONS)
        if not self.reads_every_country and country not in self.countries:
            of = "the international level" if country is None else country
            raise ForbiddenError(f"{self.name} may read observations of {self._scope()} only, not of {of}.")

    def check_may_report_for(self, country: str | None) -> None:
        """A country office records its countries' observations; the programme
        management team the international ones (`country` None: roadmap para. 10)."""
        self.check_may(Permission.RECORD_OBSERVATIONS)
        if country is None:
            if self.role is not Role.PROGRAMME_MANAGER:
                raise ForbiddenError(
                    f"{self.name} ({self.role}) may not record international observations (for no country): "
                    "the programme management team records them."
                )
            return
        if self.role is Role.PROGRAMME_MANAGER:
            raise ForbiddenError(
                f"{self.name} ({self.role}) records international observations only; an observation for "
                f"{country} is recorded by a country office key for {country}."
            )
        if country not in self.countries:
            raise ForbiddenError(f"{self.name} may record observations for {self._scope()} only, not for {country}.")

    def check_may_change(self, country: str | None, recorded_by: str) -> None:
        """A correction or retraction: only by the office that recorded the
        observation, and only while the country is still in its scope."""
        self.check_may_report_for(country)
        if recorded_by != self.name:
            raise ForbiddenError(
                f"This observation was recorded by {recorded_by}: only that office may correct or retract it."
            )

    def _scope(self) -> str:
        if len(self.countries) > 12:
            return f"its {len(self.countries)} countries"
        return ", ".join(sorted(self.countries)) or "no country"
