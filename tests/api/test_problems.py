"""Every documented problem has an example in OpenAPI, and every 422 lists its `errors`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.errors import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    SprintConnectError,
    ValidationFailed,
)
from sprintconnect.problem_examples import EXAMPLES
from tests.conftest import Tenant, assert_problem

EXAMPLE_FIELDS = {"type", "title", "status", "detail", "instance", "request_id"}


def _problem_responses(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if int(status) >= 400:
                    found.append((f"{method.upper()} {path}", status, response))
    return found


def test_every_problem_response_in_openapi_has_an_example(app: FastAPI) -> None:
    responses = _problem_responses(app.openapi())
    assert len(responses) > 100
    for where, status, response in responses:
        if PROBLEM_CONTENT_TYPE not in response["content"]:
            # The browser sign-in routes answer their failures as an HTML page.
            assert set(response["content"]) == {"text/html"}, (where, status)
            assert where.split()[1].startswith("/auth/"), (where, status)
            continue
        content = response["content"][PROBLEM_CONTENT_TYPE]
        examples = content.get("examples")
        assert examples, (where, status)
        slugs = {slug.strip() for slug in response["description"].split("/problems/")[1:]}
        for slug in slugs:
            assert slug.split(")")[0] in examples, (where, status, slug)
        for name, example in examples.items():
            value = example["value"]
            assert set(value) >= EXAMPLE_FIELDS, (where, name)
            assert value["type"] == f"/problems/{name}"
            assert value["status"] == int(status), (where, name)
            assert value["instance"].startswith("/"), (where, name)
            # Written for the type (problem_examples), not made up from its title.
            assert name in EXAMPLES, (where, name)
            Problem.model_validate(value)
            if value["status"] == 422:
                assert value["errors"], (where, name)
                for error in value["errors"]:
                    assert set(error) == {"loc", "msg", "type"}, (where, name)


# Requests, one per kind of 422 an endpoint can answer; each must say where the fault is.
BAD_REQUESTS: list[tuple[str, str, dict[str, Any] | None, str, list[str | int]]] = [
    (
        "POST",
        "/api/v1/roles",
        {"name": "r1", "extends": ["nope"]},
        "validation-failed",
        ["body", "extends"],
    ),
    (
        "POST",
        "/api/v1/roles",
        {"name": "r2", "permissions": ["x:y"]},
        "validation-failed",
        ["body", "permissions"],
    ),
    ("POST", "/api/v1/policies", {"text": "permit(principal"}, "policy-invalid", ["body", "text"]),
    (
        "POST",
        "/api/v1/policies/dry-run",
        {"action": "servers:read", "resource": {"id": "x"}, "policy_text": "nope"},
        "policy-invalid",
        ["body", "policy_text"],
    ),
    (
        "POST",
        "/api/v1/api-keys",
        {"name": "k", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"},
        "validation-failed",
        ["body", "expires_at"],
    ),
    ("GET", "/api/v1/api-keys?cursor=bad", None, "invalid-cursor", ["query", "cursor"]),
    ("GET", "/api/v1/users?cursor=bad", None, "invalid-cursor", ["query", "cursor"]),
    ("GET", "/api/v1/servers?cursor=bad", None, "invalid-cursor", ["query", "cursor"]),
    (
        "GET",
        "/api/v1/discovery/servers?capability=a%3Bb",
        None,
        "validation-failed",
        ["query", "capability"],
    ),
    (
        "GET",
        "/api/v1/discovery/servers?tags=NOT_A_TAG",
        None,
        "validation-failed",
        ["query", "tags"],
    ),
    (
        "POST",
        "/api/v1/servers",
        {"name": "s", "url": "http://10.0.0.1/mcp"},
        "egress-denied",
        ["body", "url"],
    ),
    (
        "POST",
        "/api/v1/servers",
        {
            "name": "t",
            "url": "https://mcp.example.com/mcp",
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "http://169.254.169.254/token",
                "client_id": "c",
                "client_secret": "s",
            },
        },
        "egress-denied",
        ["body", "auth", "token_url"],
    ),
    ("GET", "/api/v1/servers/not-a-uuid", None, "validation-failed", ["path", "server_id"]),
    ("GET", "/api/v1/servers?limit=0", None, "validation-failed", ["query", "limit"]),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "slug", "loc"),
    BAD_REQUESTS,
    ids=[f"{m} {p} {s}" for m, p, _, s, _ in BAD_REQUESTS],
)
async def test_every_422_lists_its_errors(
    client: httpx.AsyncClient,
    tenant: Tenant,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    slug: str,
    loc: list[str | int],
) -> None:
    response = await client.request(method, path, json=body, headers=tenant.headers)
    problem = assert_problem(response, 422, slug)
    assert problem["errors"], problem
    assert loc in [e["loc"] for e in problem["errors"]], problem
    for error in problem["errors"]:
        assert error["msg"], problem
        assert error["type"], problem


async def test_a_role_cycle_and_a_deep_body_list_errors(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    name = f"cy-{uuid.uuid4().hex[:6]}"
    await client.post("/api/v1/roles", json={"name": name}, headers=tenant.headers)
    cycle = await client.patch(
        f"/api/v1/roles/{name}", json={"extends": [name]}, headers=tenant.headers
    )
    problem = assert_problem(cycle, 422, "role-cycle")
    assert problem["errors"][0]["loc"] == ["body", "extends"]
    deep = await client.post(
        "/api/v1/roles",
        content=b"[" * 100 + b"]" * 100,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert assert_problem(deep, 422, "json-too-deep")["errors"][0]["loc"] == ["body"]
    bad_key = await client.post(
        "/api/v1/roles",
        json={"name": "x-idem"},
        headers={**tenant.headers, "Idempotency-Key": " padded "},
    )
    problem = assert_problem(bad_key, 422, "idempotency-key-invalid")
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]


def _subclasses(cls: type[SprintConnectError]) -> list[type[SprintConnectError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_422_type_lists_errors_even_when_raised_bare(app: FastAPI) -> None:
    """A 422 problem type builds its `errors` entry itself when its raiser gives none."""
    for error in _subclasses(SprintConnectError):
        if error.status != 422:
            continue
        assert issubclass(error, ValidationFailed), error
        default_loc = error.default_loc
        assert default_loc, error
        assert default_loc[0] in ("body", "query", "header", "path"), error
    bare = ValidationFailed("Something is off.", loc=("query", "q")).to_problem(
        instance="/x", request_id="r"
    )
    assert bare.errors is not None
    assert [e.loc for e in bare.errors] == [["query", "q"]]
