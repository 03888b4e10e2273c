"""A small JSON cache: in process memory, or Redis when configured (shared by every process)."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Any, Protocol

import redis.asyncio as redis


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
    def __init__(self, url: str, *, prefix: str = "sc:cache:") -> None:
        self.client = redis.from_url(url)
        self.prefix = prefix

    async def get(self, key: str) -> Any | None:
        raw = await self.client.get(self.prefix + key)
        return json.loads(raw) if raw is not None else None

    async def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        await self.client.set(self.prefix + key, json.dumps(value, default=str), ex=ttl_seconds)

    async def close(self) -> None:
        await self.client.aclose()


def build_cache(redis_url: str | None) -> JsonCache:
    return RedisCache(redis_url) if redis_url else MemoryCache()
