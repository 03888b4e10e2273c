"""MCP servers that misbehave on purpose, for discovery tests. All on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.types import Receive, Scope, Send

from tests.fixtures.mcp_servers import ANY_HOST, ThreadedUvicorn


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def get_current_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def weather_forecast(city: str, days: int = 3) -> str:
    """A forecast for the next days."""
    return f"{days} days of sun in {city}"


def changing_server(name: str = "changing") -> MCPServer:
    """Tools, a resource and a prompt; tests add, remove and change tools between runs."""
    server = MCPServer(name, version="1.0.0")
    server.add_tool(add)
    server.add_tool(get_current_weather)

    @server.resource("config://app", name="app-config", description="Application settings")
    def app_config() -> str:
        return "{}"

    @server.prompt(name="summarize", description="Summarize a text")
    def summarize(text: str) -> str:
        return f"Summarize: {text}"

    return server


def _adder(offset: int) -> Callable[[int], int]:
    def tool(x: int) -> int:
        return x + offset

    return tool


def big_server(tools: int) -> MCPServer:
    """Many tools, one with an enormous schema and one whose schema is not valid."""
    server = MCPServer("big", version="9.9.9")
    for index in range(tools):
        server.add_tool(_adder(index), name=f"tool_{index:04d}", description=f"Tool {index}")
    return server


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class Hanging:
    """Accepts HTTP requests and never answers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        await asyncio.sleep(3600)


class BrokenJsonRpc:
    """Answers every MCP request with something that is not JSON-RPC."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        more = True
        while more:
            more = (await receive()).get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": self.body})


class SchemaInjector:
    """Rewrites tools/list answers: one tool's schema grows huge, another's becomes invalid."""

    def __init__(self, app: Any, *, huge_bytes: int, invalid: bool = False) -> None:
        self.app = app
        self.huge_bytes = huge_bytes
        self.invalid = invalid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        start: dict[str, Any] = {}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                await send(
                    {**start, "headers": [h for h in start["headers"] if h[0] != b"content-length"]}
                )
                await send({"type": "http.response.body", "body": self._rewrite(b"".join(chunks))})

        await self.app(scope, receive, capture)

    def _rewrite(self, body: bytes) -> bytes:
        """The body with ``_change`` applied to its tool list, when it is a tools listing."""
        try:
            message = json.loads(body)
        except ValueError:
            return body
        tools = (message.get("result") or {}).get("tools") if isinstance(message, dict) else None
        if not tools:
            return body
        self._change(tools)
        return json.dumps(message).encode()

    def _change(self, tools: list[dict[str, Any]]) -> None:
        tools[0]["inputSchema"] = {
            "type": "object",
            "description": "x" * self.huge_bytes,
            "properties": {},
        }
        if self.invalid and len(tools) > 1:
            tools[1]["inputSchema"] = {"type": "banana", "properties": 7}


class OneInvalidTool(SchemaInjector):
    """A real MCP server one of whose tools the SDK rejects: its ``inputSchema`` is not an
    object schema. The other tools, its resource and its prompt are as the server sent them."""

    INVALID = "get_current_weather"

    def __init__(self, app: Any) -> None:
        super().__init__(app, huge_bytes=0)

    def _change(self, tools: list[dict[str, Any]]) -> None:
        for tool in tools:
            if tool.get("name") == self.INVALID:
                tool["inputSchema"] = {"type": "banana", "properties": 7}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app on loopback; yield its base URL."""
    server = ThreadedUvicorn(app)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def streamable(server: MCPServer, *, json_response: bool = False) -> Any:
    return server.streamable_http_app(transport_security=ANY_HOST, json_response=json_response)


class DropsOnListing:
    """A real MCP server whose connection breaks when a listing is asked for."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b'"tools/list"' in body:
            raise ConnectionResetError("dropped mid-listing on purpose")
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return dict(await receive())
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class DeepSchemas(SchemaInjector):
    """A malicious server: its first tool's ``inputSchema`` is whatever raw JSON ``schema``
    holds, spliced in as bytes so that it may nest deeper than Python could serialize."""

    PLACEHOLDER = "__deep_schema__"

    def __init__(self, app: Any) -> None:
        super().__init__(app, huge_bytes=0)
        self.schema = b'{"type": "object"}'

    def _change(self, tools: list[dict[str, Any]]) -> None:
        tools[0]["inputSchema"] = self.PLACEHOLDER

    def _rewrite(self, body: bytes) -> bytes:
        # Splice the raw schema in after serializing: Python could not build it as an object.
        placeholder = json.dumps(self.PLACEHOLDER).encode()
        return super()._rewrite(body).replace(placeholder, self.schema, 1)
