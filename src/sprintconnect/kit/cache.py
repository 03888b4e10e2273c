"""A small JSON cache: in process memory, or Redis when configured (shared by every process).

The in-process cache is bounded by bytes (``SPRINTCONNECT_SEARCH_CACHE_MAX_BYTES``): each answer
is stored as its JSON text and counted by that text's length in bytes plus its key's, the least
recently used answers are evicted to make room, and an answer larger than a fraction of the
budget is not stored at all. A budget of 0 turns it off (every read misses).

While Redis fails the Redis cache is bypassed: every read misses and writes are dropped, so
callers compute the answer themselves (see ``kit.fallback``).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as redis
from prometheus_client import Counter, Gauge

from sprintconnect.kit.fallback import REDIS_ERRORS, RedisFallback, redis_client_options

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
# An answer larger than this share of the budget is not cached: one answer must not flush the rest.
MAX_ENTRY_FRACTION = 8

CACHE_BYTES = Gauge(
    "sprintconnect_search_cache_bytes",
    "Bytes of answers (JSON text and keys) held by this process's in-memory search cache",
)
CACHE_EVICTIONS = Counter(
    "sprintconnect_search_cache_evictions_total",
    "Answers evicted from the in-memory search cache to stay within its byte or entry budget",
)


class JsonCache(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """Bounded by bytes and by entries, least-recently-used, with expiry.

    ``max_bytes`` of 0 stores nothing. ``clock`` is the monotonic time source (tests pass theirs).
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max(max_bytes, 0)
        self.max_entry_bytes = self.max_bytes // MAX_ENTRY_FRACTION
        self.clock = clock
        self.bytes = 0
        # key -> (expires at, JSON text, bytes counted for this entry)
        self._entries: OrderedDict[str, tuple[float, str, int]] = OrderedDict()

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry[2]

    def _evict_oldest(self) -> None:
        _, (_, _, size) = self._entries.popitem(last=False)
        self.bytes -= size
        CACHE_EVICTIONS.inc()

    async def get(self, key: str) -> Any | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        expires, raw, _ = hit
        if expires < self.clock():
            self._drop(key)
            CACHE_BYTES.set(self.bytes)
            return None
        self._entries.move_to_end(key)
        return json.loads(raw)

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        if self.max_bytes == 0:
            return
        raw = json.dumps(value, default=str)  # ASCII only (ensure_ascii): length is bytes
        size = len(raw) + len(key.encode())
        self._drop(key)
        if size <= self.max_entry_bytes:
            while self._entries and (
                self.bytes + size > self.max_bytes or len(self._entries) >= self.max_entries
            ):
                self._evict_oldest()
            self._entries[key] = (self.clock() + ttl_seconds, raw, size)
            self.bytes += size
        CACHE_BYTES.set(self.bytes)

    async def close(self) -> None:
        self._entries.clear()
        self.bytes = 0
        CACHE_BYTES.set(0)


class RedisCache:
    """Shared by every process on the same Redis; a miss while Redis fails."""

    def __init__(self, url: str, *, prefix: str = "sc:cache:") -> None:
        self.client = redis.from_url(url, **redis_client_options())
        self.prefix = prefix
        self.fallback = RedisFallback("cache", instead="no cache")

    async def get(self, key: str) -> Any | None:
        try:
            raw = await self.client.get(self.prefix + key)
        except REDIS_ERRORS as exc:
            self.fallback.failed(exc)
            return None
        self.fallback.answered()
        return json.loads(raw) if raw is not None else None

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        raw = json.dumps(value, default=str)
        try:
            await self.client.set(self.prefix + key, raw, ex=ttl_seconds)
        except REDIS_ERRORS as exc:
            self.fallback.failed(exc)
            return
        self.fallback.answered()

    async def close(self) -> None:
        await self.client.aclose()


def build_cache(redis_url: str | None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> JsonCache:
    """Redis when configured; else this process's memory, within ``max_bytes`` (0: no cache)."""
    return RedisCache(redis_url) if redis_url else MemoryCache(max_bytes=max_bytes)
