"""A real MCP client lists and calls a toolset's tools through the gateway."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.gateway.client import gateway_session
from tests.gateway.conftest import Registered


async def make_toolset(
    client: httpx.AsyncClient, registered: Registered, **server: object
) -> dict[str, object]:
    body = {
        "name": "agents",
        "servers": [{"server_id": registered.server_id, **server}],
    }
    response = await client.post("/api/v1/toolsets", json=body, headers=registered.tenant.headers)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_client_lists_and_calls_tools(
    wclient: httpx.AsyncClient, worker_app: FastAPI, registered: Registered
) -> None:
    toolset = await make_toolset(wclient, registered, tools=["echo", "add"], prefix="up_")
    assert toolset["endpoint"] == f"/mcp/{registered.tenant.slug}/agents"
    url = f"http://testserver{toolset['endpoint']}"
    async with gateway_session(url, registered.tenant.headers, app=worker_app) as session:
        listed = await session.list_tools()
        assert sorted(t.name for t in listed.tools) == ["up_add", "up_echo"]
        result = await session.call_tool("up_echo", {"text": "hello"})
        assert not result.is_error, result
        assert result.content[0].text == "hello"  # type: ignore[union-attr]
        added = await session.call_tool("up_add", {"a": 2, "b": 3})
        assert added.structured_content == {"result": 5}
