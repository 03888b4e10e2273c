"""Policy text the native Cedar parser must never see: bounded first, parsed where it is safe."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import pytest

from sprintconnect.authz.cedar_limits import (
    MAX_BRACKET_DEPTH,
    MAX_IF_DEPTH,
    MAX_POLICY_BYTES,
    MAX_UNARY_RUN,
    shape_problems,
)
from tests.conftest import MemberFactory, Tenant, assert_problem

WHEN = "forbid (principal, action, resource) when {{ {} }};"
# 700 parentheses: enough to overflow an 8 MiB native stack (the crash reported in issue 9).
CRASHING = WHEN.format("(" * 700 + "true" + ")" * 700)


def test_the_checker_survives_text_that_crashes_a_bare_parse() -> None:
    # In a child process: on the code before the fix, the check itself dies with SIGSEGV.
    program = textwrap.dedent(
        f"""
        from sprintconnect.authz.cedar import PolicyInvalid, check_org_policies
        try:
            check_org_policies({CRASHING!r})
        except PolicyInvalid as exc:
            print("refused:", exc.problems)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert f"nested deeper than {MAX_BRACKET_DEPTH}" in done.stdout


def _run(program: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(program)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_parser_thread_survives_what_kills_the_main_thread() -> None:
    # Past the scan's limits on purpose: the large stack is the second line of defence.
    program = f"""
        import cedarpy
        from sprintconnect.authz.cedar import PARSER
        text = {WHEN.format("(" * 3000 + "true" + ")" * 3000)!r}
        print(len(PARSER.call(cedarpy.policies_to_json_str, text)))
        cedarpy.policies_to_json_str(text)  # on the main thread: a native stack overflow
        print("survived the main thread")
    """
    done = _run(program)
    assert done.stdout.strip().isdigit(), (done.returncode, done.stdout, done.stderr[-2000:])
    assert done.returncode < 0  # killed by a signal: the control, so the first line means it


def test_a_stored_text_past_the_limits_denies_and_does_not_crash() -> None:
    # Versions stored before the limits existed reach the PDP without a publish check.
    program = f"""
        import asyncio
        from sprintconnect.authz.cedar import CedarPDP
        from sprintconnect.authz.decision import DecisionRequest, Resource, Subject
        from sprintconnect.authz.service import Authorizer

        request = DecisionRequest(
            "org", 1, Subject("u", frozenset({{"servers:read"}}), frozenset()), "servers:read",
            Resource("Resource", "x", {{"kind": "servers"}}),
            {{"minute_of_day": 600, "day_of_week": 3, "time_zone": "UTC"}},
        )
        decision = asyncio.run(Authorizer(CedarPDP()).decide(request, {CRASHING!r}))
        print("decision:", decision.allowed, decision.errors)
    """
    done = _run(program)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "decision: False ('pdp_error: PolicyInvalid',)" in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (WHEN.format("(" * 65 + "true" + ")" * 65), f"deeper than {MAX_BRACKET_DEPTH}"),
        (WHEN.format("[" * 65 + "1" + "]" * 65 + " == []"), f"deeper than {MAX_BRACKET_DEPTH}"),
        (
            WHEN.format("if true then " * 33 + "true" + " else false" * 33),
            f"if-then-else nested deeper than {MAX_IF_DEPTH}",
        ),
        (WHEN.format("!" * 9 + "true"), f"more than {MAX_UNARY_RUN} unary"),
        (WHEN.format("- " * 9 + "1 == 1"), f"more than {MAX_UNARY_RUN} unary"),
        ("// " + "x" * MAX_POLICY_BYTES, f"exceeds {MAX_POLICY_BYTES} bytes"),
    ],
)
def test_shapes_beyond_the_limits_are_named(text: str, problem: str) -> None:
    problems = shape_problems(text)
    assert len(problems) == 1
    assert problem in problems[0]


@pytest.mark.parametrize(
    "text",
    [
        WHEN.format("(" * 63 + "true" + ")" * 63),  # 64 with the braces of `when`
        WHEN.format("if true then " * 32 + "true" + " else false" * 32),
        # Sibling ifs separated by commas or in their own brackets are not nested.
        WHEN.format("[" + ", ".join(["if true then 1 else 2"] * 50) + "].contains(1)"),
        WHEN.format(" && ".join(["(if true then true else false)"] * 50)),
        # Brackets inside strings and comments are not nesting.
        '@id("' + "(" * 500 + '")\n' + WHEN.format('resource.kind == "[[[[\\"((((("'),
        "// " + "(" * 500 + "\n" + WHEN.format("true"),
        WHEN.format("!!!!true"),
        WHEN.format("1 - -1 == 2"),
    ],
)
def test_real_shapes_pass_the_scan(text: str) -> None:
    assert shape_problems(text) == []


async def publish(client: httpx.AsyncClient, tenant: Tenant, text: str) -> httpx.Response:
    return await client.post(
        "/api/v1/policies", json={"text": text, "comment": "deep"}, headers=tenant.headers
    )


async def test_publish_and_draft_dry_run_answer_422_naming_the_limit(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    deep = WHEN.format("(" * 100 + "true" + ")" * 100)
    published = assert_problem(await publish(client, tenant, deep), 422, "policy-invalid")
    assert any(f"deeper than {MAX_BRACKET_DEPTH}" in p for p in published["problems"])
    tried = await client.post(
        "/api/v1/policies/dry-run",
        json={
            "action": "servers:read",
            "resource": {"type": "Resource", "id": "x", "attrs": {"kind": "servers"}},
            "policy_text": deep,
        },
        headers=tenant.headers,
    )
    body = assert_problem(tried, 422, "policy-invalid")
    assert f"deeper than {MAX_BRACKET_DEPTH}" in body["detail"]


async def test_an_expression_too_deep_for_the_engine_is_refused_at_publish(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # Valid Cedar that the engine cannot load (its JSON form nests too deeply): before the
    # fix the first was stored and then denied every request of the org, the second was a 500.
    for terms in (80, 1000):
        chain = " || ".join(["context.minute_of_day == 1"] * terms)
        response = await publish(client, tenant, WHEN.format(chain))
        body = assert_problem(response, 422, "policy-invalid")
        assert "nested too deeply" in body["detail"], body
    assert (await client.get("/api/v1/api-keys", headers=tenant.headers)).status_code == 200


async def test_a_draft_in_dry_run_needs_policies_write(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    headers = {"Authorization": f"Bearer {engineer.key}"}
    resource = {"type": "Resource", "id": "x", "attrs": {"kind": "servers"}}
    plain = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": resource},
        headers=headers,
    )
    assert plain.status_code == 200, plain.text
    draft = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": resource, "policy_text": ""},
        headers=headers,
    )
    assert_problem(draft, 403)
    # A key scoped to policies:read of an admin is refused a draft too.
    admin_read = await make_member(tenant, ["admin"], ["policies:read"])
    narrow = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": resource, "policy_text": ""},
        headers={"Authorization": f"Bearer {admin_read.key}"},
    )
    assert_problem(narrow, 403, "insufficient-scope")
    as_admin = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": resource, "policy_text": ""},
        headers=tenant.headers,
    )
    assert as_admin.status_code == 200, as_admin.text


async def test_resource_attrs_nested_deeper_than_the_limit_deny_without_the_engine(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    from sprintconnect.authz.cedar import MAX_ATTR_DEPTH

    deep: object = "x"
    for _ in range(MAX_ATTR_DEPTH):
        deep = {"a": deep}
    response = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": {"id": "x", "attrs": {"kind": deep}}},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["allowed"] is False
    assert any(f"deeper than {MAX_ATTR_DEPTH}" in e for e in response.json()["errors"])
