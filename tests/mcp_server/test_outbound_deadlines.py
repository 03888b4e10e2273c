"""Connection checks against servers that never finish answering.

The rule under test: no request holds a pooled database connection while it waits on a remote
party, every outbound operation has an overall deadline, one organization's outbound work is
capped so it cannot starve the others, and cancellation is never swallowed.

Each test builds its own app and runtime (its own small pool) on the shared database, with
loopback allowed, so that settings such as the pool size and the deadline can differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.pool import QueuePool

from sprintconnect.app import create_app
from sprintconnect.egress import policy_from_settings
from sprintconnect.mcp_server import connector
from sprintconnect.models import McpServer
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.fixtures.hanging import hanging
from tests.mcp_server.conftest import Wire
from tests.mcp_server.support import SERVERS, unique

# A bound on each test, so that a regression fails it instead of hanging the run.
GUARD_SECONDS = 120
CHECK = SERVERS + "/{}/connection-check"

AppFactory = Callable[
    ..., contextlib.AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]
]


@pytest.fixture
def outbound_app(runtime: Runtime, wire: Wire) -> AppFactory:
    """An app with its own runtime (so its own pool), loopback allowed, and given settings."""

    @contextlib.asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        settings = runtime.settings.model_copy(update={"egress_allow_loopback": True, **overrides})
        own = build_runtime(settings, clock=runtime.clock)
        application = create_app(runtime=own)
        application.state.network = wire.network
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        try:
            async with (
                application.router.lifespan_context(application),
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
            ):
                yield application, client
        finally:
            await own.db.dispose()

    return build


async def _register(client: httpx.AsyncClient, tenant: Tenant, url: str, **extra: Any) -> str:
    body = {
        "name": unique("hang"),
        "url": url,
        "transport": "sse",
        "environment": "staging",
        "auto_discover": False,
        **extra,
    }
    response = await client.post(SERVERS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    server_id: str = response.json()["server"]["id"]
    return server_id


def _check(client: httpx.AsyncClient, tenant: Tenant, server_id: str) -> asyncio.Task[Any]:
    return asyncio.create_task(client.post(CHECK.format(server_id), headers=tenant.headers))


def _checked_out(application: FastAPI) -> int:
    pool = application.state.runtime.db.engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


async def test_sse_endpoint_on_another_origin_times_out_within_the_deadline(
    outbound_app: AppFactory, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    async with (
        hanging("sse_elsewhere") as server,
        outbound_app(mcp_connect_timeout_seconds=1.0) as (_, client),
        asyncio.timeout(GUARD_SECONDS),
    ):
        server_id = await _register(client, tenant, f"{server.base_url}/sse")
        response = await client.post(CHECK.format(server_id), headers=tenant.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert server.requests == 1
    assert result["ok"] is False
    assert result["reason"] == "timeout"
    assert "did not answer in time" in result["error"]


async def test_oauth_token_endpoint_that_trickles_times_out(
    outbound_app: AppFactory, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    async with (
        hanging("trickle") as token_server,
        outbound_app(mcp_connect_timeout_seconds=1.0) as (_, client),
        asyncio.timeout(GUARD_SECONDS),
    ):
        auth = {
            "type": "oauth2_client_credentials",
            "token_url": f"{token_server.base_url}/token",
            "client_id": "sc-client",
            "client_secret": "cs-" + uuid.uuid4().hex,
        }
        server_id = await _register(
            client, tenant, f"{token_server.base_url}/mcp", transport="streamable_http", auth=auth
        )
        response = await client.post(CHECK.format(server_id), headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert token_server.requests == 1
    assert response.json()["reason"] == "timeout"


async def test_fifty_hanging_checks_leave_the_pool_to_other_tenants(
    outbound_app: AppFactory, make_tenant: TenantFactory
) -> None:
    """50 checks from one org wait on a silent server at once; another org keeps working.

    The pool holds 2 (+2 overflow) connections: a check that kept its connection while waiting
    would leave none for anybody. The deadline is long and the cap high, so that only the
    server's release ends the checks.
    """
    noisy, quiet = await make_tenant(), await make_tenant()
    async with (
        hanging("silent") as server,
        outbound_app(
            database_pool_size=2,
            mcp_connect_timeout_seconds=60.0,
            outbound_concurrency_per_org=100,
        ) as (application, client),
        asyncio.timeout(GUARD_SECONDS),
    ):
        hanging_id = await _register(client, noisy, f"{server.base_url}/sse")
        quiet_id = await _register(client, quiet, "https://mcp.example.com/sse")
        checks = [_check(client, noisy, hanging_id) for _ in range(50)]
        try:
            await server.wait_for_requests(50)
            # Every check now waits on the remote party, and none holds a connection.
            assert _checked_out(application) == 0
            for _ in range(5):
                listed = await client.get(SERVERS, headers=quiet.headers)
                assert listed.status_code == 200, listed.text
                assert [s["id"] for s in listed.json()["items"]] == [quiet_id]
                one = await client.get(f"{SERVERS}/{quiet_id}", headers=quiet.headers)
                assert one.status_code == 200, one.text
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            # ... and all of that while the 50 checks were still in flight.
            assert server.open == 50
            assert not any(check.done() for check in checks)
        finally:
            server.release()
            answers = await asyncio.gather(*checks)
    assert [a.status_code for a in answers] == [200] * 50
    assert all(a.json()["ok"] is False for a in answers)
    assert _checked_out(application) == 0


async def test_the_per_org_cap_answers_429_with_retry_after(
    outbound_app: AppFactory, make_tenant: TenantFactory
) -> None:
    capped, other = await make_tenant(), await make_tenant()
    async with (
        hanging("silent") as server,
        outbound_app(mcp_connect_timeout_seconds=60.0, outbound_concurrency_per_org=2) as (
            _,
            client,
        ),
        asyncio.timeout(GUARD_SECONDS),
    ):
        capped_id = await _register(client, capped, f"{server.base_url}/sse")
        other_id = await _register(client, other, f"{server.base_url}/sse")
        held = [_check(client, capped, capped_id) for _ in range(2)]
        try:
            await server.wait_for_requests(2)
            refused = await client.post(CHECK.format(capped_id), headers=capped.headers)
            body = assert_problem(refused, 429, "outbound-concurrency-exceeded")
            retry_after = int(refused.headers["retry-after"])
            # At most until the oldest held check meets its deadline (Vault's, then the check's).
            assert 1 <= retry_after <= 60 + 10
            assert body["retry_after"] == retry_after
            assert body["limit"] == 2
            # The cap is per organization: another one still gets through.
            held.append(_check(client, other, other_id))
            await server.wait_for_requests(3)
            assert server.requests == 3
        finally:
            server.release()
            answers = await asyncio.gather(*held)
        assert [a.status_code for a in answers] == [200] * 3
        # The slots were given back: the capped organization may check again.
        again = await client.post(CHECK.format(capped_id), headers=capped.headers)
        assert again.status_code == 200, again.text


async def test_a_cancelled_check_propagates_cancellation(
    runtime: Runtime, wire: Wire, server_model: Callable[[str], McpServer]
) -> None:
    settings = runtime.settings.model_copy(update={"egress_allow_loopback": True})
    policy = policy_from_settings(settings, None, org_id=uuid.uuid4())
    async with hanging("silent") as server, asyncio.timeout(GUARD_SECONDS):
        task = asyncio.create_task(
            connector.check_connection(
                server_model(f"{server.base_url}/sse"),
                None,
                policy,
                network=wire.network,
                cache=connector.TokenCache(),
                timeout_seconds=60.0,
            )
        )
        await server.wait_for_requests(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_check_connection_has_an_overall_deadline(
    runtime: Runtime, wire: Wire, server_model: Callable[[str], McpServer]
) -> None:
    """Not only per socket: the SDK waits on its own stream, where no socket timeout applies."""
    settings = runtime.settings.model_copy(update={"egress_allow_loopback": True})
    policy = policy_from_settings(settings, None, org_id=uuid.uuid4())
    async with hanging("sse_elsewhere") as server, asyncio.timeout(GUARD_SECONDS):
        result = await connector.check_connection(
            server_model(f"{server.base_url}/sse"),
            None,
            policy,
            network=wire.network,
            cache=connector.TokenCache(),
            timeout_seconds=0.5,
        )
    assert (result.ok, result.reason) == (False, "timeout")


@pytest.fixture
def server_model() -> Callable[[str], McpServer]:
    def make(url: str) -> McpServer:
        return McpServer(
            id=uuid.uuid4(),
            org_id=uuid.uuid4(),
            name=unique("hang"),
            url=url,
            transport="sse",
            environment="staging",
            auth_type="none",
            auth_config={},
        )

    return make
