"""A round-robin HTTP reverse proxy on loopback, for tests of several API replicas.

Each HTTP request (not each connection) goes to the next backend in turn, so two requests
on one kept-alive client connection land on different replicas, as behind a load balancer
with no sticky routing. Responses stream back as they arrive (an SSE answer is passed on
event by event). Every forwarded request is recorded with the backend that served it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from starlette.types import Message, Receive, Scope, Send

from tests.fixtures.mcp_servers import ThreadedUvicorn

# Headers about one hop, not the message: never passed on (RFC 9110 section 7.6.1). The
# request's Host and Content-Length are set again by httpx for the backend.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}


@dataclass(frozen=True)
class Forwarded:
    """One request the proxy passed on: to which backend (its index), and the answer's status.

    ``rpc`` is the JSON-RPC method of an MCP message (``tools/call``), when the body is one.
    """

    backend: int
    method: str
    path: str
    rpc: str | None
    status: int
    content_type: str | None = None


def _rpc_method(body: bytes) -> str | None:
    try:
        message = json.loads(body)
    except ValueError:
        return None
    method = message.get("method") if isinstance(message, dict) else None
    return method if isinstance(method, str) else None


class RoundRobin:
    """The proxy's ASGI app: the next backend for every request, answers streamed back."""

    def __init__(self, backends: Sequence[str], *, timeout: float = 60.0) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self.timeout = timeout
        self._turns = itertools.cycle(range(len(self.backends)))
        self._served: list[Forwarded] = []
        self._client: httpx.AsyncClient | None = None

    @property
    def served(self) -> list[Forwarded]:
        """What was forwarded so far, oldest first (a copy: the proxy runs in another thread)."""
        return list(self._served)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Made here: the client belongs to the event loop of the proxy's thread.
                self._client = httpx.AsyncClient(
                    timeout=httpx.Timeout(self.timeout), follow_redirects=False
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._client is not None, "the proxy's lifespan has not started"
        body = await _read_body(receive)
        index = next(self._turns)
        path: str = scope["path"]
        query = scope.get("query_string", b"")
        url = self.backends[index] + path + (f"?{query.decode('latin-1')}" if query else "")
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in NOT_FORWARDED
        ]
        request = self._client.build_request(scope["method"], url, headers=headers, content=body)
        rpc = _rpc_method(body) if body else None
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            self._record(index, scope, path, rpc, 502)
            detail = f"backend {index} failed: {type(exc).__name__}".encode()
            await _answer(send, 502, detail)
            return
        try:
            self._record(
                index, scope, path, rpc, response.status_code, response.headers.get("content-type")
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (name.encode("latin-1"), value.encode("latin-1"))
                        for name, value in response.headers.multi_items()
                        if name.lower() not in HOP_BY_HOP
                    ],
                }
            )
            # Raw bytes: the body as the backend encoded it, which its headers describe.
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    def _record(
        self,
        index: int,
        scope: Scope,
        path: str,
        rpc: str | None,
        status: int,
        content_type: str | None = None,
    ) -> None:
        self._served.append(Forwarded(index, scope["method"], path, rpc, status, content_type))


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(text))],
        }
    )
    await send({"type": "http.response.body", "body": text, "more_body": False})


class Proxy:
    """A round-robin proxy to ``backends`` on a free loopback port, in a thread of its own."""

    def __init__(self, backends: Sequence[str]) -> None:
        self.app = RoundRobin(backends)
        # No access log of its own: the backends log every request.
        self._server = ThreadedUvicorn(self.app, access_log=False)
        self.url = f"http://127.0.0.1:{self._server.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
