"""Rate limits with ``limits`` (in memory, or Redis when configured)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from sprintconnect.errors import RateLimited


class RateLimiter:
    """A moving-window limit, counted per identity under one namespace."""

    def __init__(self, limit: str, redis_url: str | None, *, namespace: str = "api") -> None:
        self.limit_text = limit
        self.namespace = namespace
        self.item = parse(limit)
        if redis_url:
            storage = storage_from_string(f"async+{redis_url}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self.strategy = MovingWindowRateLimiter(storage)

    async def allows(self, *identity: str) -> bool:
        """Count one event; whether it was within the limit."""
        return bool(await self.strategy.hit(self.item, self.namespace, *identity))

    async def hit(self, *identity: str) -> None:
        """Count one request; raise ``RateLimited`` with Retry-After when the window is spent."""
        if await self.allows(*identity):
            return
        reset_at, _ = await self.strategy.get_window_stats(self.item, self.namespace, *identity)
        raise RateLimited(max(1, math.ceil(reset_at - time.time())), self.limit_text)
