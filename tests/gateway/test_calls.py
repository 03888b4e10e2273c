"""Every call through the gateway or the playground: policy per tool, class limits, schema
checks before anything is sent, audit, measurements, classified upstream failures."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import anyio
import httpx
from fastapi import FastAPI
from sqlalchemy import select
from starlette.requests import Request as StarletteRequest

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.gateway import playground
from sprintconnect.gateway.calls import Target, capability_class, let_through
from sprintconnect.gateway.repository import ToolsetRepository
from sprintconnect.identity.principal import Principal
from sprintconnect.models import AuditEvent, McpServer, Organization, ToolCall
from sprintconnect.runtime import Runtime
from tests.conftest import TenantFactory, assert_problem
from tests.discovery.conftest import Waiter
from tests.gateway.client import gateway_session
from tests.gateway.conftest import Registered, register_and_discover
from tests.gateway.upstream import Upstream, running


async def toolset(
    client: httpx.AsyncClient, registered: Registered, name: str = "agents", **extra: Any
) -> str:
    body = {"name": name, "servers": [{"server_id": registered.server_id}], **extra}
    response = await client.post("/api/v1/toolsets", json=body, headers=registered.tenant.headers)
    assert response.status_code == 201, response.text
    return f"http://testserver{response.json()['endpoint']}"


async def publish(client: httpx.AsyncClient, registered: Registered, text: str) -> None:
    response = await client.post(
        "/api/v1/policies",
        json={"text": text, "comment": "gateway test"},
        headers=registered.tenant.headers,
    )
    assert response.status_code == 201, response.text


def invoke_path(registered: Registered, tool: str) -> str:
    return f"/api/v1/servers/{registered.server_id}/tools/{tool}/invoke"


def problem_of(result: Any) -> dict[str, Any]:
    assert result.is_error, result
    problem: dict[str, Any] = (result.meta or {})["sprintconnect/problem"]
    assert result.content[0].text.startswith(problem["title"])
    return problem


async def flushed(app: FastAPI) -> None:
    await app.state.gateway.writer.flush()


async def test_playground_call_is_audited_and_measured(
    wclient: httpx.AsyncClient,
    worker_app: FastAPI,
    registered: Registered,
    worker_runtime: Runtime,
) -> None:
    headers = registered.tenant.headers
    answer = await wclient.post(
        invoke_path(registered, "echo"), json={"arguments": {"text": "hi"}}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert body["is_error"] is False
    assert body["result"]["content"][0]["text"] == "hi"
    assert body["capability_class"] == "write"  # echo says nothing of being read-only
    assert body["request_bytes"] > 0
    assert body["response_bytes"] > 0
    await flushed(worker_app)
    calls = (await wclient.get("/api/v1/tool-calls", headers=headers)).json()["items"]
    assert [(c["name"], c["status"], c["source"]) for c in calls] == [("echo", "ok", "playground")]
    # The same person with another of their keys sees the call too.
    other_key = await wclient.post(
        "/api/v1/api-keys", json={"name": "second", "scopes": ["write"]}, headers=headers
    )
    assert other_key.status_code == 201, other_key.text
    second = {"Authorization": f"Bearer {other_key.json()['key']}"}
    seen = (await wclient.get("/api/v1/tool-calls", headers=second)).json()["items"]
    assert [c["name"] for c in seen] == ["echo"]
    assert calls[0]["est_tokens"] >= 1
    assert calls[0]["latency_ms"] > 0
    async with worker_runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, registered.tenant.org_id)
        rows = (
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.org_id == registered.tenant.org_id,
                        AuditEvent.tag == "org:capability:invoked",
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [r.details["name"] for r in rows] == ["echo"]
    assert rows[0].details["decision_id"] == body["decision_id"]
    assert rows[0].details["argument_names"] == ["text"]


async def test_bad_arguments_are_refused_before_anything_is_sent(
    wclient: httpx.AsyncClient, registered: Registered, upstream: Upstream
) -> None:
    before = list(upstream.observed.calls)
    answer = await wclient.post(
        invoke_path(registered, "add"),
        json={"arguments": {"a": "one"}},
        headers=registered.tenant.headers,
    )
    problem = assert_problem(answer, 422, "tool-arguments-invalid")
    locs = [e["loc"] for e in problem["errors"]]
    assert ["body", "arguments", "a"] in locs
    assert any(e["type"] == "schema.required" for e in problem["errors"])
    assert upstream.observed.calls == before


async def test_unknown_tool_and_other_tenants_server_are_404(
    wclient: httpx.AsyncClient, registered: Registered, make_tenant: TenantFactory
) -> None:
    missing = await wclient.post(
        invoke_path(registered, "nope"), json={}, headers=registered.tenant.headers
    )
    assert_problem(missing, 404, "capability-not-found")
    stranger = await make_tenant()
    other = await wclient.post(invoke_path(registered, "echo"), json={}, headers=stranger.headers)
    assert_problem(other, 404, "server-not-found")
    bad_id = await wclient.post(
        "/api/v1/servers/not-a-uuid/tools/echo/invoke", json={}, headers=stranger.headers
    )
    assert bad_id.status_code == 422


async def test_mcp_client_is_denied_a_forbidden_tool_with_a_problem(
    wclient: httpx.AsyncClient,
    worker_app: FastAPI,
    registered: Registered,
    worker_runtime: Runtime,
) -> None:
    url = await toolset(wclient, registered)
    await publish(
        wclient,
        registered,
        """@id("no-echo")
forbid (principal, action == Action::"tools:invoke", resource is Capability)
when { resource.name == "echo" };""",
    )
    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        listed = {t.name for t in (await session.list_tools()).tools}
        assert "echo" not in listed  # a listing shows what a call would be let through
        assert "add" in listed
        denied = await session.call_tool("echo", {"text": "x"})
        problem = problem_of(denied)
        assert problem["type"].endswith("/policy-denied")
        assert problem["reasons"] == ["no-echo"]
        assert problem["decision_id"]
        allowed = await session.call_tool("add", {"a": 1, "b": 2})
        assert not allowed.is_error
    await flushed(worker_app)
    calls = (
        await wclient.get("/api/v1/tool-calls?source=gateway", headers=registered.tenant.headers)
    ).json()["items"]
    assert [(c["name"], c["status"]) for c in calls] == [("add", "ok"), ("echo", "denied")]
    async with worker_runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, registered.tenant.org_id)
        denied_row = (
            await session.execute(
                select(ToolCall).where(
                    ToolCall.org_id == registered.tenant.org_id, ToolCall.status == "denied"
                )
            )
        ).scalar_one()
    assert denied_row.decision_id == problem["decision_id"]


async def test_class_limits_throttle_per_caller(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    headers = registered.tenant.headers
    changed = await wclient.patch(
        "/api/v1/organization",
        json={"gateway_limits": {"write": "2/minute", "read": ""}},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    limits = changed.json()["gateway_limits"]
    assert limits["write"] == "2/minute"
    assert limits["read"] == ""
    assert limits["expensive"] == "20/minute"  # the platform's default
    url = await toolset(
        wclient,
        registered,
        servers=[{"server_id": registered.server_id, "classes": {"add": "write"}}],
    )
    async with gateway_session(url, headers, app=worker_app) as session:
        for _ in range(2):
            assert not (await session.call_tool("echo", {"text": "x"})).is_error
        throttled = problem_of(await session.call_tool("add", {"a": 1, "b": 1}))
        assert throttled["type"].endswith("/capability-rate-limited")
        assert throttled["capability_class"] == "write"
        assert throttled["retry_after"] >= 1
        # Reads are another class, and unlimited here.
        for _ in range(5):
            assert not (await session.call_tool("account", {"user": "ann"})).is_error
    bad = await wclient.patch(
        "/api/v1/organization", json={"gateway_limits": {"write": "lots"}}, headers=headers
    )
    assert_problem(bad, 422, "validation-failed")


async def test_policy_redacts_result_fields(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    await publish(
        wclient,
        registered,
        """@id("hide-tokens") @obligation("redact:result.api_token")
permit (principal, action == Action::"tools:invoke", resource is Capability)
when { resource.name == "account" };""",
    )
    answer = await wclient.post(
        invoke_path(registered, "account"),
        json={"arguments": {"user": "ann"}},
        headers=registered.tenant.headers,
    )
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["redacted"] == ["result.api_token"]
    assert body["result"]["structuredContent"] == {"user": "ann", "plan": "pro"}
    assert "tok-ann" not in json.dumps(body)
    url = await toolset(wclient, registered)
    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        result = await session.call_tool("account", {"user": "bob"})
        assert result.structured_content == {"user": "bob", "plan": "pro"}
        assert "tok-bob" not in result.model_dump_json()


async def test_an_obligation_on_an_unknown_result_path_form_denies(
    wclient: httpx.AsyncClient, registered: Registered
) -> None:
    response = await wclient.post(
        "/api/v1/policies",
        json={
            "text": """@id("odd") @obligation("redact:result")
permit (principal, action == Action::"tools:invoke", resource is Capability);""",
            "comment": "x",
        },
        headers=registered.tenant.headers,
    )
    if response.status_code == 201:  # accepted as text: the decision must then deny
        answer = await wclient.post(
            invoke_path(registered, "echo"),
            json={"arguments": {"text": "x"}},
            headers=registered.tenant.headers,
        )
        assert_problem(answer, 403, "obligation-not-understood")
    else:
        assert response.status_code == 422


async def test_playground_streams_progress_then_the_result(
    wclient: httpx.AsyncClient, registered: Registered
) -> None:
    headers = {**registered.tenant.headers, "Accept": "text/event-stream"}
    answer = await wclient.post(
        invoke_path(registered, "count"), json={"arguments": {"steps": 3}}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("data: ", 1)[1]))
        for block in answer.text.strip().split("\n\n")
    ]
    names = [name for name, _ in events]
    assert names == ["progress", "progress", "progress", "result"], events
    assert events[0][1] == {"progress": 1, "total": 3, "message": "step 1"}
    assert events[-1][1]["result"]["content"][0]["text"] == "counted 3"


async def test_resources_and_prompts_through_both_doors(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    headers = registered.tenant.headers
    read = await wclient.post(
        f"/api/v1/servers/{registered.server_id}/resources/read",
        json={"uri": "docs://readme"},
        headers=headers,
    )
    assert read.status_code == 200, read.text
    assert read.json()["result"]["contents"][0]["text"].startswith("# Readme")
    prompt = await wclient.post(
        f"/api/v1/servers/{registered.server_id}/prompts/greeting/get",
        json={"arguments": {"name": "Ada"}},
        headers=headers,
    )
    assert prompt.status_code == 200, prompt.text
    assert "Ada" in json.dumps(prompt.json()["result"]["messages"])
    url = await toolset(wclient, registered)
    async with gateway_session(url, headers, app=worker_app) as session:
        assert [r.uri for r in (await session.list_resources()).resources] == ["docs://readme"]
        assert (await session.read_resource("docs://readme")).contents[0].text.startswith("#")  # type: ignore[union-attr]
        assert [p.name for p in (await session.list_prompts()).prompts] == ["greeting"]
        got = await session.get_prompt("greeting", {"name": "Bo"})
        assert "Bo" in got.model_dump_json()


async def test_a_tool_gone_upstream_is_a_clear_error_and_queues_discovery(
    wclient: httpx.AsyncClient,
    worker_app: FastAPI,
    make_tenant: TenantFactory,
    settled: Waiter,
) -> None:
    with running() as own:
        tenant = await make_tenant()
        registered = await register_and_discover(wclient, tenant, own.url, settled)
        own.server.remove_tool("echo")
        answer = await wclient.post(
            invoke_path(registered, "echo"),
            json={"arguments": {"text": "x"}},
            headers=tenant.headers,
        )
        problem = assert_problem(answer, 409, "capability-changed-upstream")
        assert problem["reason"] == "capability_missing"
        assert problem["discovery_queued"] is True
        discoveries = (
            await wclient.get(
                f"/api/v1/servers/{registered.server_id}/discoveries", headers=tenant.headers
            )
        ).json()["items"]
        assert len(discoveries) == 2  # registration's, then the one this call queued
        await settled(discoveries[0]["id"], tenant.headers)
        names = [
            c["name"]
            for c in (
                await wclient.get(
                    f"/api/v1/servers/{registered.server_id}/capabilities", headers=tenant.headers
                )
            ).json()["items"]
        ]
        assert "echo" not in names


async def test_a_hanging_upstream_honors_the_deadline_and_is_cancelled(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered, upstream: Upstream
) -> None:
    url = await toolset(wclient, registered, timeout_seconds=0.5)
    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        problem = problem_of(await session.call_tool("hang", {"label": "gw-hang"}))
    assert problem["type"].endswith("/upstream-timeout")
    for _ in range(100):
        if "gw-hang" in upstream.observed.cancelled:
            break
        await asyncio.sleep(0.05)
    assert "gw-hang" in upstream.observed.cancelled
    answer = await wclient.post(
        invoke_path(registered, "hang"),
        json={"arguments": {"label": "pg-hang"}, "timeout_seconds": 0.3},
        headers=registered.tenant.headers,
    )
    assert_problem(answer, 504, "upstream-timeout")


async def test_the_mcp_endpoint_checks_who_calls_and_where(
    wclient: httpx.AsyncClient, registered: Registered, make_tenant: TenantFactory
) -> None:
    url = await toolset(wclient, registered)
    path = url.removeprefix("http://testserver")
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {},
    }
    mcp_headers = {"Accept": "application/json, text/event-stream"}
    anonymous = await wclient.post(path, json=init, headers=mcp_headers)
    assert_problem(anonymous, 401, "authentication-required")
    stranger = await make_tenant()
    elsewhere = await wclient.post(path, json=init, headers={**mcp_headers, **stranger.headers})
    assert_problem(elsewhere, 404, "toolset-not-found")
    unknown = await wclient.post(
        f"/mcp/{registered.tenant.slug}/nope",
        json=init,
        headers={**mcp_headers, **registered.tenant.headers},
    )
    assert_problem(unknown, 404, "toolset-not-found")
    bad = await wclient.post(
        "/mcp/Bad_Slug!/x", json=init, headers={**mcp_headers, **registered.tenant.headers}
    )
    assert_problem(bad, 404, "toolset-not-found")


async def test_progress_reaches_the_mcp_client(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    url = await toolset(wclient, registered)
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        result = await session.call_tool("count", {"steps": 3}, progress_callback=on_progress)
    assert not result.is_error
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


async def test_calls_share_one_upstream_session(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    pool = worker_app.state.gateway.pool
    url = await toolset(wclient, registered)
    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        await session.call_tool("echo", {"text": "warm"})
        opened = pool.opened
        results = await asyncio.gather(
            *(session.call_tool("echo", {"text": str(n)}) for n in range(8))
        )
    assert [r.content[0].text for r in results] == [str(n) for n in range(8)]  # type: ignore[union-attr]
    assert pool.opened == opened
    metrics = (await wclient.get("/metrics")).text
    assert 'sprintconnect_gateway_calls_total{source="gateway",status="ok"}' in metrics
    assert "sprintconnect_gateway_upstream_sessions_opened_total" in metrics


async def test_only_callers_with_tools_invoke_reach_a_toolset(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered, make_member: Any
) -> None:
    url = await toolset(wclient, registered)
    analyst = await make_member(registered.tenant, ["analyst"])
    init = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    answer = await wclient.post(
        url.removeprefix("http://testserver"),
        json=init,
        headers={**analyst.headers, "Accept": "application/json, text/event-stream"},
    )
    assert_problem(answer, 403, "permission-denied")


async def test_a_toolset_can_leave_out_prompts_and_resources(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    url = await toolset(
        wclient,
        registered,
        servers=[{"server_id": registered.server_id, "prompts": False, "resources": False}],
    )
    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        assert (await session.list_prompts()).prompts == []
        assert (await session.list_resources()).resources == []
        assert (await session.list_tools()).tools


def test_deadlines_follow_the_caller_within_the_maximum(worker_app: FastAPI) -> None:
    gw = worker_app.state.gateway
    settings = gw.settings
    assert gw.deadline(None, None) == settings.gateway_call_timeout_seconds
    assert gw.deadline(2.0, None) == 2.0
    assert gw.deadline(None, 3.0, 5.0) == 3.0
    above = settings.gateway_call_timeout_seconds + 1
    assert gw.deadline(above) == min(above, settings.gateway_max_call_timeout_seconds)
    assert gw.deadline(10_000) == settings.gateway_max_call_timeout_seconds


async def test_closing_the_playground_stream_cancels_the_call_upstream(
    worker_app: FastAPI,
    wclient: httpx.AsyncClient,
    registered: Registered,
    upstream: Upstream,
    worker_runtime: Runtime,
) -> None:
    gw = worker_app.state.gateway
    tenant = registered.tenant
    async with worker_runtime.db.sessionmaker() as session:
        await bind_tenant(session, tenant.org_id)
        server = await session.get(McpServer, uuid.UUID(registered.server_id))
        org = await session.get(Organization, tenant.org_id)
        item = await ToolsetRepository(session).latest_item(
            tenant.org_id, server.id, "tool", "hang"
        )
        assert server is not None
        assert org is not None
        principal = Principal(
            org_id=tenant.org_id,
            scopes=frozenset({"admin"}),
            user_id=tenant.user_id,
            api_key_id=tenant.key_id,
            permissions=frozenset({"tools:invoke", "capabilities:read", "servers:read"}),
            time_context={"minute_of_day": 600, "day_of_week": 3, "time_zone": "UTC"},
        )
        target = Target(server, "tool", "hang", item, capability_class(item, "tool"))
        ticket = await let_through(
            gw,
            session,
            principal,
            target,
            arguments={"label": "pg-stream"},
            source="playground",
            org_limits={},
            policy=gw.policy(org),
            deadline=30,
        )
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": [], "query_string": b""}
    stream = playground._stream(StarletteRequest(scope), gw, ticket)

    async def consume() -> None:
        async for _ in stream:
            pass

    # Starlette streams in an anyio task group and cancels it when the client disconnects;
    # anyio's cancellation hits every later await of the generator too.
    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await asyncio.sleep(1.0)
        group.cancel_scope.cancel()
    for _ in range(100):
        if "pg-stream" in upstream.observed.cancelled:
            break
        await asyncio.sleep(0.05)
    assert "pg-stream" in upstream.observed.cancelled
