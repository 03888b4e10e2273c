"""Initialized MCP sessions to upstream servers, kept open and shared by every call.

Opening a session costs a TLS handshake, a token fetch perhaps and an ``initialize`` round
trip; a call on an open one costs one request. So each process keeps one session per upstream
server (and version of its address, credentials and egress policy), used by concurrent calls
at once, closed after ``idle_seconds`` without use or when a call finds it broken. Every byte
still goes through the egress guard (``mcp_server.connector.open_session``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED
from prometheus_client import Counter

from sprintconnect.egress import EgressPolicy
from sprintconnect.mcp_server.connector import Network, TokenCache, open_session
from sprintconnect.models import McpServer

log = structlog.get_logger(__name__)

OPENED = Counter(
    "sprintconnect_gateway_upstream_sessions_opened_total",
    "Sessions the gateway opened to upstream MCP servers (each then serves many calls)",
)


@dataclass
class _Entry:
    key: tuple[Any, ...]
    ready: asyncio.Future[ClientSession]
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    in_use: int = 0
    last_used: float = field(default_factory=time.monotonic)
    broken: bool = False
    # HTTP statuses seen while opening: how a refused credential is told apart.
    statuses: list[int] = field(default_factory=list)


class OpenFailed(Exception):
    """The session could not be opened; ``cause`` and the HTTP statuses seen classify why."""

    def __init__(self, cause: BaseException, statuses: list[int]) -> None:
        super().__init__(repr(cause))
        self.cause = cause
        self.statuses = statuses


def session_key(server: McpServer, policy: EgressPolicy) -> tuple[Any, ...]:
    """What a session depends on: a change to any of it opens a new one."""
    return (
        server.id,
        server.url,
        server.transport,
        server.auth_type,
        repr(sorted((server.auth_config or {}).items())),
        server.credentials_updated_at,
        repr(policy),
    )


def _breaks_session(exc: BaseException, *, opened: bool) -> bool:
    """Whether a failure in a call means the session is unusable. A server's JSON-RPC error
    (an unknown tool, bad arguments) and a caller giving up leave it open; a lost connection
    does not, and neither does any failure while it was still opening."""
    if not opened:
        return True
    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    return not isinstance(exc, asyncio.CancelledError | TimeoutError)


class UpstreamPool:
    def __init__(
        self,
        *,
        network: Network,
        tokens: TokenCache,
        idle_seconds: float,
        connect_timeout_seconds: float,
        call_timeout_seconds: float,
    ) -> None:
        self.network = network
        self.tokens = tokens
        self.idle_seconds = idle_seconds
        self.connect_timeout = connect_timeout_seconds
        self.call_timeout = call_timeout_seconds
        self._entries: dict[tuple[Any, ...], _Entry] = {}
        self._closed = False
        self._sweeper: asyncio.Task[None] | None = None
        # Sessions opened since start: calls that reuse one do not add to it.
        self.opened = 0

    def __len__(self) -> int:
        return len(self._entries)

    def has(self, server: McpServer, policy: EgressPolicy) -> bool:
        """Whether an open session to ``server`` is ready (no credentials are needed then)."""
        entry = self._entries.get(session_key(server, policy))
        return (
            entry is not None
            and not entry.broken
            and entry.ready.done()
            and not entry.ready.cancelled()
            and entry.ready.exception() is None
        )

    @contextlib.asynccontextmanager
    async def session(
        self, server: McpServer, secret: Mapping[str, str] | None, policy: EgressPolicy
    ) -> AsyncIterator[ClientSession]:
        """An initialized session to ``server``; a failure inside the block closes it, so
        that the next call opens a fresh one (an expired token, a restarted server)."""
        if self._closed:
            raise RuntimeError("the upstream pool is closed")
        self._sweep()
        key = session_key(server, policy)
        entry = self._entries.get(key)
        if entry is None or entry.broken or (entry.task is not None and entry.task.done()):
            entry = self._open(key, server, secret, policy)
        entry.in_use += 1
        try:
            try:
                async with asyncio.timeout(self.connect_timeout):
                    upstream = await asyncio.shield(entry.ready)
            except (Exception, TimeoutError) as exc:
                raise OpenFailed(exc, list(entry.statuses)) from exc
            yield upstream
        except BaseException as exc:
            if _breaks_session(exc, opened=entry.ready.done()):
                self._retire(entry)
            raise
        finally:
            entry.in_use -= 1
            entry.last_used = time.monotonic()

    def _open(
        self,
        key: tuple[Any, ...],
        server: McpServer,
        secret: Mapping[str, str] | None,
        policy: EgressPolicy,
    ) -> _Entry:
        old = self._entries.pop(key, None)
        if old is not None:
            self._retire(old)
        loop = asyncio.get_running_loop()
        entry = _Entry(key=key, ready=loop.create_future())
        self.opened += 1
        OPENED.inc()
        entry.task = asyncio.create_task(
            self._hold(entry, server, dict(secret) if secret else None, policy),
            name=f"upstream-{server.id}",
        )
        self._entries[key] = entry
        return entry

    async def _hold(
        self,
        entry: _Entry,
        server: McpServer,
        secret: Mapping[str, str] | None,
        policy: EgressPolicy,
    ) -> None:
        """Open the session, hand it out, keep it until told to stop."""
        try:
            async with open_session(
                server,
                secret,
                policy,
                network=self.network,
                cache=self.tokens,
                timeout_seconds=self.call_timeout,
                statuses=entry.statuses,
            ) as upstream:
                entry.ready.set_result(upstream)
                log.info("gateway.upstream.opened", server_id=str(server.id))
                await entry.stop.wait()
        except BaseException as exc:  # handed to whoever waits for the session
            if not entry.ready.done():
                entry.ready.set_exception(exc)
                entry.ready.exception()  # retrieved here too: nobody may be waiting any more
            elif not isinstance(exc, asyncio.CancelledError):
                log.info("gateway.upstream.closed", server_id=str(server.id), error=repr(exc)[:200])
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            entry.broken = True
            if self._entries.get(entry.key) is entry:
                del self._entries[entry.key]

    def _retire(self, entry: _Entry) -> None:
        entry.broken = True
        entry.stop.set()
        if self._entries.get(entry.key) is entry:
            del self._entries[entry.key]

    def forget(self, server_id: object) -> None:
        """Close every session to one server (its credentials were refused, it changed)."""
        for entry in [e for e in self._entries.values() if e.key[0] == server_id]:
            self._retire(entry)

    def _sweep(self) -> None:
        now = time.monotonic()
        for entry in list(self._entries.values()):
            if entry.in_use == 0 and now - entry.last_used > self.idle_seconds:
                self._retire(entry)

    def start(self) -> None:
        """Close idle sessions in the background too, not only when the next call comes."""

        async def sweep() -> None:
            while True:
                await asyncio.sleep(max(1.0, self.idle_seconds / 2))
                self._sweep()

        self._sweeper = asyncio.create_task(sweep(), name="upstream-sweeper")

    async def close(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        entries = list(self._entries.values())
        for entry in entries:
            self._retire(entry)
        tasks = [e.task for e in entries if e.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
