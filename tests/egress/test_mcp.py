"""The MCP SDK over a guarded ``httpx2`` client, against a real MCP server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer

from sprintconnect.egress import EgressDenied, EgressPolicy, build_async_client
from tests.egress.support import LoopbackOnly2


def echo(text: str) -> str:
    """Answer with the text it was given."""
    return text


@pytest.fixture(scope="session")
async def mcp_url() -> AsyncIterator[str]:
    server = MCPServer("egress-echo")
    server.add_tool(echo)
    app = server.streamable_http_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    runner = uvicorn.Server(config)
    task = asyncio.create_task(runner.serve())
    while not runner.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = runner.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/mcp"
    runner.should_exit = True
    await task


async def test_mcp_session_through_the_guard(mcp_url: str) -> None:
    raw = LoopbackOnly2()
    async with (
        build_async_client(EgressPolicy(allow_loopback=True), network_backend=raw) as http,
        streamable_http_client(mcp_url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("echo", {"text": "hello"})
    assert [tool.name for tool in tools.tools] == ["echo"]
    assert result.content[0].text == "hello"  # type: ignore[union-attr]
    assert raw.attempts
    assert {host for host, _port in raw.attempts} == {"127.0.0.1"}


async def test_mcp_session_refused_by_the_guard(mcp_url: str) -> None:
    raw = LoopbackOnly2()
    # The SDK runs its requests in a task group, so the denial arrives inside an ExceptionGroup.
    with pytest.RaisesGroup(EgressDenied, allow_unwrapped=True, flatten_subgroups=True):
        async with (
            build_async_client(EgressPolicy(), network_backend=raw) as http,
            streamable_http_client(mcp_url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
    assert raw.attempts == []
