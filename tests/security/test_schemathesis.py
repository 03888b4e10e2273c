"""Property-based API checks against our own OpenAPI document, on a real server process.

Every documented operation is called with generated inputs, authenticated with an admin key:
no answer may be a 5xx, and every answer must match the schema documented for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from sprintconnect.runtime import Runtime
from tests.integration.processes import cli_env, run_cli, serving

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def live(
    runtime: Runtime, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    env = cli_env(tmp_path_factory.mktemp("schemathesis"), database_url)
    boot = run_cli(
        "admin", "bootstrap", "--org", "Fuzzed Org", "--email", "fuzz@example.com", env=env
    )
    assert boot.returncode == 0, boot.stderr
    key = json.loads(boot.stdout)["api_key"]["key"]
    with serving(env) as base:
        yield base, {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def api_schema(live: tuple[str, dict[str, str]]) -> schemathesis.BaseSchema:
    base, _ = live
    return schemathesis.openapi.from_url(f"{base}/openapi.json")


def test_no_server_errors_and_answers_match_the_schema(
    api_schema: schemathesis.BaseSchema, live: tuple[str, dict[str, str]]
) -> None:
    """Each operation in turn, with Hypothesis driving the inputs (seeded: reproducible)."""
    base, headers = live
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        exercise()


def test_the_schema_documents_problem_details(api_schema: schemathesis.BaseSchema) -> None:
    assert "Problem" in api_schema.raw_schema["components"]["schemas"]
