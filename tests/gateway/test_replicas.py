"""One MCP client session served by two real ``sprintconnect serve`` processes in turn.

The gateway endpoint is stateless (no ``Mcp-Session-Id``), so a load balancer may send each
request to any replica. Here a round-robin proxy sends each HTTP request to the replica after
the one that took the request before: the session still initializes, lists and calls, and,
with Redis, a class rate limit is counted once across both replicas.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory
from tests.gateway.client import gateway_session
from tests.gateway.roundrobin import Forwarded, Proxy
from tests.gateway.upstream import Upstream
from tests.integration.processes import cli_env, start_serve

REPLICAS = 2
STARTUP_SECONDS = 120.0
# A limit this low is reached by a handful of calls, well inside its window.
WRITE_LIMIT = "3/minute"


@dataclass
class Cluster:
    proxy: Proxy
    backends: list[str]
    redis: bool

    @property
    def url(self) -> str:
        return self.proxy.url

    def served_since(self, mark: int, path: str) -> list[Forwarded]:
        return [f for f in self.proxy.app.served[mark:] if f.path.rstrip("/") == path]


@pytest.fixture(scope="module")
async def cluster(
    runtime: Runtime,  # first: it has migrated the database the replicas share
    database_url: str,
    redis_url: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Cluster]:
    # One data directory and one secret key for both: what one replica encrypts, the other
    # decrypts. Loopback egress: the upstream MCP server listens on 127.0.0.1.
    data_dir: Path = tmp_path_factory.mktemp("replicas")
    settings = {
        "SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK": "true",
        "SPRINTCONNECT_HEALTH_SCHEDULER": "false",
        "SPRINTCONNECT_API_KEY_RATE_LIMIT": "100000/minute",
        "SPRINTCONNECT_ORG_RATE_LIMIT": "1000000/minute",
        "SPRINTCONNECT_AUTH_FAILURE_RATE_LIMIT": "100000/minute",
        "SPRINTCONNECT_OUTBOX_POLL_SECONDS": "0.1",
        "SPRINTCONNECT_MCP_CONNECT_TIMEOUT_SECONDS": "5",
        "SPRINTCONNECT_DISCOVERY_TIMEOUT_SECONDS": "10",
        "SPRINTCONNECT_LOG_LEVEL": "warning",
        # The in-process worker of this package's app (tests.discovery.conftest) shares the
        # database and prunes workers silent for 3 s; these heartbeat well within that. They
        # never prune others: a worker pruned while alive stops taking jobs for good.
        "SPRINTCONNECT_WORKER_HEARTBEAT_SECONDS": "0.5",
        "SPRINTCONNECT_WORKER_STALLED_SECONDS": "3600",
    }
    if redis_url is not None:
        settings["SPRINTCONNECT_REDIS_URL"] = redis_url
    env = cli_env(data_dir, database_url, **settings)
    # Started and stopped in threads: blocking this event loop would stop the heartbeats of
    # the in-process worker that runs on it (see above).
    processes: list[subprocess.Popen[bytes]] = []
    proxy: Proxy | None = None
    try:
        started = await asyncio.gather(
            *(
                asyncio.to_thread(start_serve, env, timeout=STARTUP_SECONDS)
                for _ in range(REPLICAS)
            ),
            return_exceptions=True,
        )
        servers = [s for s in started if not isinstance(s, BaseException)]
        processes = [process for process, _ in servers]
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        backends = [base for _, base in servers]
        proxy = Proxy(backends)
        await asyncio.to_thread(proxy.start)
        yield Cluster(proxy, backends, redis=redis_url is not None)
    finally:
        if proxy is not None:
            await asyncio.to_thread(proxy.stop)
        await asyncio.gather(*(asyncio.to_thread(stop, p) for p in processes))


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def register(
    client: httpx.AsyncClient, tenant: Tenant, upstream: Upstream, tools: list[str]
) -> str:
    """Register the upstream through the proxy, wait for its discovery, make a toolset;
    the toolset's endpoint path."""
    created = await client.post(
        "/api/v1/servers",
        json={
            "name": "upstream",
            "url": upstream.url,
            "environment": "staging",
            "auto_discover": True,
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    server_id = created.json()["server"]["id"]
    discovery = await settled(client, str(created.json()["discovery_id"]), tenant.headers)
    assert discovery["status"] == "succeeded", discovery
    toolset = await client.post(
        "/api/v1/toolsets",
        json={"name": "agents", "servers": [{"server_id": server_id, "tools": tools}]},
        headers=tenant.headers,
    )
    assert toolset.status_code == 201, toolset.text
    endpoint: str = toolset.json()["endpoint"]
    assert endpoint == f"/mcp/{tenant.slug}/agents"
    return endpoint


async def settled(
    client: httpx.AsyncClient, discovery_id: str, headers: dict[str, str], seconds: float = 60
) -> dict[str, Any]:
    """Poll a discovery (through the proxy, so on either replica) until it finishes."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await client.get(f"/api/v1/discoveries/{discovery_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] not in ("queued", "in_progress"):
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"discovery still {body['status']} after {seconds}s: {body}")
        await asyncio.sleep(0.1)


async def measured(
    client: httpx.AsyncClient, tenant: Tenant, count: int, seconds: float = 30
) -> list[dict[str, Any]]:
    """The caller's gateway calls once ``count`` are recorded (measurements are batched)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await client.get(
            "/api/v1/tool-calls", params={"source": "gateway"}, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        if len(items) >= count:
            return items
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{len(items)} of {count} calls measured after {seconds}s")
        await asyncio.sleep(0.1)


async def test_one_session_is_served_by_both_replicas(
    cluster: Cluster, make_tenant: TenantFactory, upstream: Upstream
) -> None:
    tenant = await make_tenant()
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as client:
        endpoint = await register(client, tenant, upstream, ["echo", "add"])
        mark = len(cluster.proxy.app.served)
        calls_before = list(upstream.observed.calls)
        async with gateway_session(f"{cluster.url}{endpoint}", tenant.headers) as session:
            listed = await session.list_tools()
            assert sorted(t.name for t in listed.tools) == ["add", "echo"]
            for i in range(3):
                echoed = await session.call_tool("echo", {"text": f"hello {i}"})
                assert not echoed.is_error, echoed
                assert echoed.content[0].text == f"hello {i}"  # type: ignore[union-attr]
                added = await session.call_tool("add", {"a": i, "b": 10})
                assert not added.is_error, added
                assert added.structured_content == {"result": i + 10}
        calls = await measured(client, tenant, 6)

    session_requests = cluster.served_since(mark, endpoint)
    assert all(f.status < 400 for f in session_requests), session_requests
    # One session, every part of it on both replicas: the handshake, lists and calls.
    assert {f.backend for f in session_requests} == set(range(REPLICAS)), session_requests
    assert {f.rpc for f in session_requests} >= {
        "initialize",
        "notifications/initialized",
        "tools/list",
        "tools/call",
    }
    tool_calls = [f for f in session_requests if f.rpc == "tools/call"]
    assert len(tool_calls) == 6
    assert {f.backend for f in tool_calls} == set(range(REPLICAS)), tool_calls
    # The answers were event streams, passed on through the proxy as they came.
    assert all((f.content_type or "").startswith("text/event-stream") for f in tool_calls)
    # Every call reached the upstream once, and the measurements both replicas wrote add up.
    new_calls = upstream.observed.calls[len(calls_before) :]
    assert sorted(new_calls) == ["add"] * 3 + ["echo"] * 3
    assert len(calls) == 6
    assert sorted(c["name"] for c in calls) == ["add"] * 3 + ["echo"] * 3
    assert {c["status"] for c in calls} == {"ok"}


async def test_class_limits_are_counted_across_replicas(
    cluster: Cluster, make_tenant: TenantFactory, upstream: Upstream
) -> None:
    if not cluster.redis:
        pytest.skip("without Redis each replica counts its own calls")
    tenant = await make_tenant()
    async with httpx.AsyncClient(base_url=cluster.url, timeout=30) as client:
        endpoint = await register(client, tenant, upstream, ["echo"])
        # Before any gateway request of this organization: no replica has its limits cached.
        patched = await client.patch(
            "/api/v1/organization",
            json={"gateway_limits": {"write": WRITE_LIMIT}},
            headers=tenant.headers,
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["gateway_limits"]["write"] == WRITE_LIMIT
        mark = len(cluster.proxy.app.served)
        async with gateway_session(f"{cluster.url}{endpoint}", tenant.headers) as session:
            results = [await session.call_tool("echo", {"text": f"n{i}"}) for i in range(4)]

    allowed, refused = results[:3], results[3]
    for i, result in enumerate(allowed):
        assert not result.is_error, result
        assert result.content[0].text == f"n{i}"  # type: ignore[union-attr]
    assert refused.is_error, refused
    assert refused.meta is not None, refused
    problem = refused.meta["sprintconnect/problem"]
    assert problem["type"].endswith("capability-rate-limited"), problem
    assert problem["status"] == 429
    # The three allowed calls were served by both replicas, so neither had seen three of them
    # itself: only a count shared between them refuses the fourth.
    calls = [f for f in cluster.served_since(mark, endpoint) if f.rpc == "tools/call"]
    assert len(calls) == 4, calls
    assert {f.backend for f in calls[:3]} == set(range(REPLICAS)), calls
