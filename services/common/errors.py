"""Domain errors. Each names the rule that was broken and, where it is one
field's fault, the field (as a path of names and indexes, so an entrypoint can
turn it into a JSON pointer)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from types import TracebackType

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class FieldProblem:
    path: FieldPath
    detail: str
    location: str = "body"  # or "query"/"path": where the caller put the field


class DomainError(Exception):
    """Base of every rule broken by a command."""

    def __init__(self, detail: str, problems: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems: list[FieldProblem] = list(problems)


class InvalidCommandError(DomainError):
    """The command's data breaks a rule of the domain (a value out of range,
    a field that does not fit the benchmark's measure...)."""

    @classmethod
    def at(cls, path: FieldPath, detail: str, location: str = "body") -> InvalidCommandError:
        return cls(detail, [FieldProblem(path, detail, location)])


class NotFoundError(DomainError):
    """The command or query names something that does not exist."""


class ConflictError(DomainError):
    """The command is well-formed but conflicts with the current state
    (a benchmark code already taken, a fifth sector, a correction of a
    retracted observation...)."""


class PreconditionRequiredError(DomainError):
    """A change to an existing stream came without the version it was based on."""


class StaleVersionError(DomainError):
    """A change was based on a version of the stream that is no longer current."""


@dataclass
class ErrorCollector:
    """Collects every field problem of a command so that one answer lists them
    all instead of making the caller fix them one at a time."""

    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, path: FieldPath, detail: str) -> None:
        self.problems.append(FieldProblem(path, detail))

    def extend(self, error: DomainError, prefix: FieldPath = ()) -> None:
        for problem in error.problems:
            self.problems.append(FieldProblem(prefix + problem.path, problem.detail, problem.location))

    def collecting(self) -> AbstractContextManager[None]:
        """Runs a check, keeping its field problems instead of stopping."""
        return _Collecting(self)

    def raise_if_any(self, summary: str) -> None:
        if self.problems:
            if len(self.problems) == 1:
                summary = self.problems[0].detail
            raise InvalidCommandError(summary, self.problems)


class _Collecting(AbstractContextManager[None]):
    """`ErrorCollector.collecting`: a class rather than a generator, as a batch
    import enters it several times per row."""

    __slots__ = ("collector",)

    def __init__(self, collector: ErrorCollector) -> None:
        self.collector = collector

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool:
        if isinstance(error, InvalidCommandError):
            self.collector.extend(error)
            return True
        return False


class ForbiddenError(DomainError):
    """The caller is known but may not do this (its role does not allow it,
    or the record is outside its countries or not its own)."""


class AuthenticationError(Exception):
    """No key, or a key that is not (or no longer) valid."""


class ServiceUnavailableError(Exception):
    """A service this one reads from (the reporting service's measurement
    service) did not answer, or failed: nothing was done; retry later."""


def did_you_mean(text: str, known: Iterable[str]) -> str:
    """A sentence naming the known codes or names closest to a mistyped one
    (in any case), e.g. " Did you mean 'CA2'?"; empty when none is close."""
    by_folded = {name.casefold(): name for name in known}
    close = difflib.get_close_matches(text.casefold(), list(by_folded), n=3, cutoff=0.6)
    if not close:
        return ""
    return f" Did you mean {' or '.join(repr(by_folded[name]) for name in close)}?"
