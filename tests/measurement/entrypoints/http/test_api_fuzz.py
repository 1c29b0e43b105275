"""Schemathesis against the app and its own OpenAPI document: generated
requests (valid and not) never get a server error, and every answer conforms
to the documented status codes, media types and schemas."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.common.access import Role
from services.measurement.application.commands import Measurement
from services.measurement.sample import load_sample

EXAMPLES_PER_OPERATION = 15
DEEP_EXAMPLES_PER_OPERATION = 300
# Schema-valid is not valid here: the domain refuses what breaks its rules
# (an unknown assumption, a value out of the measure's range) with a 422.
NOT_APPLICABLE: list[CheckFunction] = [positive_data_acceptance]


def test_no_server_error_and_every_answer_as_documented(
    client: TestClient, measurement: Measurement, tokens: dict[Role, str]
) -> None:
    _explore(client, measurement, tokens, EXAMPLES_PER_OPERATION)


@pytest.mark.slow
def test_a_deeper_run_finds_no_server_error_either(
    client: TestClient, measurement: Measurement, tokens: dict[Role, str]
) -> None:
    """`./dev test -m slow`: the same checks with many more examples."""
    _explore(client, measurement, tokens, DEEP_EXAMPLES_PER_OPERATION)


def _explore(client: TestClient, measurement: Measurement, tokens: dict[Role, str], examples: int) -> None:
    load_sample(measurement)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"An operation of the OpenAPI document cannot be read: {result.err()}")
        operations.append(result.ok())
    assert len(operations) >= 20
    for operation in operations:
        # Each operation is explored with a key of a role it admits, so that
        # the requests reach the handler rather than stop at a 401 or 403.
        roles = operation.definition.raw.get("x-roles")
        headers = {} if roles is None else {"Authorization": f"Bearer {tokens[Role(roles[0])]}"}
        _explore_operation(operation, headers, examples)


def _explore_operation(operation: APIOperation, headers: dict[str, str], examples: int) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=NOT_APPLICABLE)

    call()
