"""A small JSON cache: in process memory, or Redis when configured (shared by every process).

While Redis fails the Redis cache is bypassed: every read misses and writes are dropped, so
callers compute the answer themselves (see ``kit.fallback``).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Protocol

import redis.asyncio as redis

from sprintconnect.kit.fallback import REDIS_ERRORS, RedisFallback, redis_client_options


class JsonCache(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """Bounded, least-recently-used, with expiry."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def get(self, key: str) -> Any | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        expires, raw = hit
        if expires < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return json.loads(raw)

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        self._entries[key] = (time.monotonic() + ttl_seconds, json.dumps(value, default=str))
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


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


def build_cache(redis_url: str | None) -> JsonCache:
    return RedisCache(redis_url) if redis_url else MemoryCache()
