"""Schemathesis beyond the positive fuzzing of test_api_fuzz.py: requests
that break the schema (negative data) get a documented 4xx, never a 5xx, and
sequences of calls linked through their answers (the stateful phase: an
observation recorded, then read, corrected, retracted) conform too."""

from __future__ import annotations

import contextlib
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from services.common.access import Role
from services.measurement.application.commands import Measurement
from services.measurement.sample import load_sample

NEGATIVE_EXAMPLES_PER_OPERATION = 10
STATEFUL_SCENARIOS = 30
# As in test_api_fuzz.py: schema-valid is not valid here (the domain refuses what breaks its rules).
NOT_APPLICABLE: list[CheckFunction] = [positive_data_acceptance]
# Unknown query parameters are ignored, as HTTP APIs do, and each request
# carries a valid key (the "missing Authorization" mutation is undone by it):
# requests schemathesis counts as invalid for these reasons alone are served.
NOT_APPLICABLE_TO_NEGATIVE_DATA: list[CheckFunction] = [*NOT_APPLICABLE, negative_data_rejection]


def _schema(client: TestClient, measurement: Measurement) -> Any:
    load_sample(measurement)
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def _headers(tokens: dict[Role, str], definition: dict[str, Any]) -> dict[str, str]:
    """A key of a role the operation admits, so that requests reach the handler."""
    roles = definition.get("x-roles")
    return {} if roles is None else {"Authorization": f"Bearer {tokens[Role(roles[0])]}"}


def test_requests_that_break_the_schema_get_a_documented_answer(
    client: TestClient, measurement: Measurement, tokens: dict[Role, str]
) -> None:
    for result in _schema(client, measurement).get_all_operations():
        operation = result.ok()
        _explore_negatively(operation, _headers(tokens, operation.definition.raw))


def _explore_negatively(operation: Any, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(
        max_examples=NEGATIVE_EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=NOT_APPLICABLE_TO_NEGATIVE_DATA)

    # An operation that takes nothing that could break its schema has no negative case.
    with contextlib.suppress(Unsatisfiable):
        call()


def test_linked_sequences_of_calls_conform(
    client: TestClient, measurement: Measurement, tokens: dict[Role, str]
) -> None:
    machine = _schema(client, measurement).as_state_machine()

    class AsTheRoleNeeded(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": _headers(tokens, case.operation.definition.raw)}

        def validate_response(self, response: Any, case: schemathesis.Case, *args: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=NOT_APPLICABLE_TO_NEGATIVE_DATA)

    AsTheRoleNeeded.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
