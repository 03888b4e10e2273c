"""Per-organization caps on outbound work that requests start.

A remote party an organization registered can be slow or hang; one organization's requests must
not take every socket, deadline and worker of a process from the others. A request takes a slot
of its organization before it calls out (connection checks today; the gateway and the
playground later) and gives it back when done. When all of an organization's slots are taken,
the request is refused at once with ``429 outbound-concurrency-exceeded`` and ``Retry-After``,
rather than queued behind the work it would wait on.

In process memory the cap holds per process. With Redis it holds across every process: a slot
is a member of a sorted set per organization scored by the end of its lease, so a slot that a
dead process never gave back expires on its own. Should Redis fail, the process falls back to
its own in-memory cap rather than refusing everyone.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Protocol
from uuid import UUID

import anyio
import redis.asyncio as redis
import structlog
from fastapi import Depends, Request
from redis.exceptions import RedisError

from sprintconnect.errors import RateLimited, SprintConnectError
from sprintconnect.kit.fallback import REDIS_ERRORS, RedisFallback, redis_client_options

log = structlog.get_logger(__name__)

# A Redis slot's lease outlives the work it covers by this much: the work has its own deadline,
# and the lease only matters when the process holding the slot died.
LEASE_GRACE_SECONDS = 30.0


class OutboundBusy(RateLimited):
    slug = "outbound-concurrency-exceeded"
    title = "Too much outbound work in flight for this organization"

    def __init__(self, retry_after: int, limit: int) -> None:
        SprintConnectError.__init__(
            self,
            f"This organization already runs {limit} outbound operations (connection checks) "
            f"at once, its limit; retry in {retry_after}s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
            limit=limit,
        )


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


class OutboundLimiter(Protocol):
    """At most ``limit`` slots per organization at once."""

    limit: int

    def slot(self, org_id: UUID, *, seconds: float) -> AbstractAsyncContextManager[None]:
        """Hold one of the organization's slots for work bounded by ``seconds``, or raise
        ``OutboundBusy``."""
        ...

    async def close(self) -> None: ...


class MemoryOutboundLimiter:
    """Slots counted in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # Per organization: each held slot and when its work is due to end (monotonic).
        self._held: dict[UUID, dict[object, float]] = {}

    @asynccontextmanager
    async def slot(self, org_id: UUID, *, seconds: float) -> AsyncIterator[None]:
        # No await between the count and the claim: the event loop makes it atomic.
        held = self._held.setdefault(org_id, {})
        now = time.monotonic()
        if len(held) >= self.limit:
            raise OutboundBusy(_retry_after(min(held.values()) - now), self.limit)
        token = object()
        held[token] = now + seconds
        try:
            yield
        finally:
            held.pop(token, None)
            if not held:
                self._held.pop(org_id, None)

    async def close(self) -> None:
        self._held.clear()


# Drop expired leases, then claim a slot if one is free. Answers -1 when claimed, otherwise
# the milliseconds until the earliest lease ends. Redis's own clock, so processes may disagree.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
  if redis.call('PTTL', KEYS[1]) < lease then
    redis.call('PEXPIRE', KEYS[1], lease)
  end
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(0, tonumber(first[2]) - now)
"""


class RedisOutboundLimiter:
    """Slots shared by every process that uses the same Redis, with leases that expire."""

    def __init__(
        self,
        url: str,
        limit: int,
        *,
        prefix: str = "sc:outbound:",
        grace: float = LEASE_GRACE_SECONDS,
    ) -> None:
        self.limit = limit
        self.client = redis.from_url(url, **redis_client_options())
        self.prefix = prefix
        self.grace = grace
        self._acquire = self.client.register_script(_ACQUIRE)
        self._fallback = MemoryOutboundLimiter(limit)
        self._redis = RedisFallback("outbound", instead="per-process slots")

    def key(self, org_id: UUID) -> str:
        return f"{self.prefix}{org_id}"

    @asynccontextmanager
    async def slot(self, org_id: UUID, *, seconds: float) -> AsyncIterator[None]:
        token = secrets.token_hex(12)
        lease_ms = math.ceil((seconds + self.grace) * 1000)
        try:
            answer = int(
                await self._acquire(keys=[self.key(org_id)], args=[self.limit, token, lease_ms])
            )
        except REDIS_ERRORS as exc:
            self._redis.failed(exc)
            async with self._fallback.slot(org_id, seconds=seconds):
                yield
            return
        self._redis.answered()
        if answer >= 0:
            raise OutboundBusy(_retry_after(answer / 1000 - self.grace), self.limit)
        try:
            yield
        finally:
            # Shielded: a cancelled request still gives its slot back.
            with anyio.CancelScope(shield=True):
                try:
                    await self.client.zrem(self.key(org_id), token)
                except RedisError as exc:  # the lease ends it instead
                    log.warning("outbound.slot_release_failed", error=type(exc).__name__)

    async def close(self) -> None:
        await self.client.aclose()


def build_outbound_limiter(limit: int, redis_url: str | None) -> OutboundLimiter:
    """Shared through Redis when it is configured, per process otherwise."""
    if redis_url:
        return RedisOutboundLimiter(redis_url, limit)
    return MemoryOutboundLimiter(limit)


def get_outbound_limiter(request: Request) -> OutboundLimiter:
    limiter: OutboundLimiter = request.app.state.outbound_limiter
    return limiter


OutboundLimiterDep = Annotated[OutboundLimiter, Depends(get_outbound_limiter)]
