"""Discovery's overall deadline bounds the hangs that no socket timeout sees."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import TenantFactory
from tests.discovery.conftest import Waiter
from tests.fixtures.hanging import hanging

# A bound on the test, so that a regression fails it instead of hanging the run.
GUARD_SECONDS = 60


async def test_sse_endpoint_on_another_origin_times_out(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter
) -> None:
    tenant = await make_tenant()
    async with hanging("sse_elsewhere") as server, asyncio.timeout(GUARD_SECONDS):
        body = {
            "name": "sse-elsewhere",
            "url": f"{server.base_url}/sse",
            "transport": "sse",
            "environment": "staging",
            "auto_discover": False,
        }
        response = await wclient.post("/api/v1/servers", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.text
        server_id = response.json()["server"]["id"]
        started = await wclient.post(
            f"/api/v1/servers/{server_id}/discoveries", headers=tenant.headers
        )
        assert started.status_code == 202, started.text
        final = await settled(started.json()["id"], tenant.headers)
    assert server.requests == 1
    assert final["status"] == "timed_out", final
    assert final["reason"] == "timeout"
