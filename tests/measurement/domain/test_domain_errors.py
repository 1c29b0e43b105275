from __future__ import annotations

import pytest

from services.common.errors import (
    ConflictError,
    DomainError,
    ErrorCollector,
    FieldProblem,
    InvalidCommandError,
    NotFoundError,
)


@pytest.mark.parametrize("error_class", [InvalidCommandError, ConflictError, NotFoundError])
def test_every_domain_error_is_a_domain_error(error_class):
    assert issubclass(error_class, DomainError)


def test_an_error_at_a_path_carries_one_problem_at_that_path():
    error = InvalidCommandError.at(("targets", 0, "date"), "Too early.")

    assert error.detail == "Too early."
    assert error.problems == [FieldProblem(("targets", 0, "date"), "Too early.")]


def test_a_conflict_names_no_field():
    assert ConflictError("A fifth sector.").problems == []


def test_a_collector_without_problems_raises_nothing():
    ErrorCollector().raise_if_any("Several rules are broken.")


def test_a_single_problem_is_raised_with_its_own_detail():
    errors = ErrorCollector()
    errors.add(("value",), "Give a number.")

    with pytest.raises(InvalidCommandError) as caught:
        errors.raise_if_any("Several rules are broken.")

    assert caught.value.detail == "Give a number."


def test_several_problems_are_raised_together_under_the_summary():
    errors = ErrorCollector()
    errors.add(("value",), "Give a number.")
    errors.add(("period",), "Give a period.")

    with pytest.raises(InvalidCommandError) as caught:
        errors.raise_if_any("Several rules are broken.")

    assert caught.value.detail == "Several rules are broken."
    assert [problem.path for problem in caught.value.problems] == [("value",), ("period",)]


def test_collecting_keeps_the_problems_of_an_invalid_command_and_goes_on():
    errors = ErrorCollector()

    with errors.collecting():
        raise InvalidCommandError.at(("value",), "Give a number.")

    assert errors.problems == [FieldProblem(("value",), "Give a number.")]


def test_collecting_lets_a_conflict_through():
    errors = ErrorCollector()

    with pytest.raises(ConflictError), errors.collecting():
        raise ConflictError("Retired.")


def test_extend_puts_the_prefix_before_each_problem_path():
    errors = ErrorCollector()
    error = InvalidCommandError("Two problems.", [FieldProblem(("value",), "a"), FieldProblem(("period",), "b")])

    errors.extend(error, prefix=("observations", 3))

    assert [problem.path for problem in errors.problems] == [
        ("observations", 3, "value"),
        ("observations", 3, "period"),
    ]
