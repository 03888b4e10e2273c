"""A real MCP server for gateway tests: tools of every class, progress, a hang that records
its cancellation, a prompt and resources; tools can be removed or changed while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations

from tests.fixtures.mcp_servers import ANY_HOST, Gate, ThreadedUvicorn


@dataclass
class Observed:
    """What the server saw, read by tests (written from the server's own thread)."""

    calls: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    hang_started: asyncio.Event | None = None


def build(observed: Observed) -> MCPServer:
    server = MCPServer("gateway-upstream", version="2.0.0")

    def echo(text: str) -> str:
        """Answer with the text it was given."""
        observed.calls.append("echo")
        return text

    def add(a: int, b: int) -> int:
        """Add two integers."""
        observed.calls.append("add")
        return a + b

    def account(user: str) -> dict[str, str]:
        """A user's account, with a field policies may redact."""
        observed.calls.append("account")
        return {"user": user, "plan": "pro", "api_token": "tok-" + user}

    def fail(reason: str) -> str:
        """Always fails with the given reason."""
        raise ValueError(reason)

    async def count(steps: int, ctx: Context) -> str:
        """Count to ``steps``, reporting progress at each."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
            await asyncio.sleep(0.02)
        return f"counted {steps}"

    async def hang(label: str) -> str:
        """Never answers until cancelled."""
        observed.calls.append("hang")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            observed.cancelled.append(label)
            raise
        return label

    server.add_tool(echo)
    server.add_tool(add, annotations=ToolAnnotations(readOnlyHint=True))
    server.add_tool(account, annotations=ToolAnnotations(readOnlyHint=True))
    server.add_tool(fail)
    server.add_tool(count)
    server.add_tool(hang)

    @server.prompt()
    def greeting(name: str) -> str:
        """Greet someone."""
        return f"Hello, {name}!"

    @server.resource("docs://readme", mime_type="text/markdown")
    def readme() -> str:
        """The project's readme."""
        return "# Readme\nHello."

    return server


@dataclass
class Upstream:
    server: MCPServer
    observed: Observed
    url: str
    gate: Gate


@contextmanager
def running(**gate: object) -> Iterator[Upstream]:
    observed = Observed()
    server = build(observed)
    guarded = Gate(server.streamable_http_app(transport_security=ANY_HOST), **gate)  # type: ignore[arg-type]
    uvicorn = ThreadedUvicorn(guarded)
    uvicorn.start()
    try:
        yield Upstream(server, observed, f"http://127.0.0.1:{uvicorn.port}/mcp", guarded)
    finally:
        uvicorn.stop()
