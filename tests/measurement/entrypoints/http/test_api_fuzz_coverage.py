"""Schemathesis's coverage phase (issue 12, point 9): for every operation, the
requests at the edges of its documented parameters and bodies (each boundary,
each missing or wrong-typed field, each undocumented method), positive and
negative, get a documented answer. The random and stateful phases are in
test_api_fuzz.py and test_api_fuzz_stateful.py."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.common.access import Role
from services.measurement.application.commands import Measurement
from services.measurement.sample import load_sample

# Schemathesis cannot serialise a body of this media type (an XLSX upload is
# tested in test_api_forgiving_input.py); schema-valid is not valid here (see test_api_fuzz.py).
UNSERIALISABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_coverage_phase_finds_no_conformance_failure(
    client: TestClient, measurement: Measurement, tokens: dict[Role, str]
) -> None:
    load_sample(measurement)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    cases = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"An operation of the OpenAPI document cannot be read: {result.err()}")
        operation = result.ok()
        roles = operation.definition.raw.get("x-roles")
        headers = {} if roles is None else {"Authorization": f"Bearer {tokens[Role(roles[0])]}"}
        for case in schema.iter_coverage_cases(
            operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation),
        ):
            if case.media_type == UNSERIALISABLE:
                continue
            cases += 1
            try:
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            except* AssertionError as group:
                failures.append(f"{case.method} {operation.path}: {group.exceptions[0]}")
    assert cases > 1000
    assert not failures, "\n\n".join(failures[:5])
