"""The gateway in front of a server we did not write: ``@modelcontextprotocol/server-everything``
(its fixture starts the npm package; see tests/discovery/test_server_everything.py)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import TenantFactory
from tests.discovery.conftest import Waiter
from tests.discovery.test_server_everything import everything  # noqa: F401 - a fixture
from tests.gateway.client import gateway_session
from tests.gateway.conftest import register_and_discover


async def test_a_toolset_of_server_everything_lists_calls_and_reads(
    wclient: httpx.AsyncClient,
    worker_app: FastAPI,
    make_tenant: TenantFactory,
    settled: Waiter,
    everything: str,  # noqa: F811
) -> None:
    tenant = await make_tenant()
    registered = await register_and_discover(wclient, tenant, everything, settled, name="every")
    created = await wclient.post(
        "/api/v1/toolsets",
        json={
            "name": "everything",
            "servers": [
                {"server_id": registered.server_id, "tools": ["echo", "add", "getTinyImage"]}
            ],
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    url = f"http://testserver{created.json()['endpoint']}"
    async with gateway_session(url, tenant.headers, app=worker_app) as session:
        tools = {t.name for t in (await session.list_tools()).tools}
        assert tools == {"echo", "add", "getTinyImage"}
        echoed = await session.call_tool("echo", {"message": "through the gateway"})
        assert not echoed.is_error
        assert "through the gateway" in echoed.content[0].text  # type: ignore[union-attr]
        added = await session.call_tool("add", {"a": 2, "b": 40})
        assert "42" in added.content[0].text  # type: ignore[union-attr]
        image = await session.call_tool("getTinyImage", {})
        assert any(block.type == "image" for block in image.content)
        resource = await session.read_resource("test://static/resource/2")
        assert resource.contents
        # A page of the listing, as the catalog holds it (100 resources from ten upstream pages).
        assert len((await session.list_resources()).resources) == 100
