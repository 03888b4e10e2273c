"""Per-credential rate limits with ``limits`` (in memory, or Redis when configured)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from sprintconnect.errors import RateLimited


class RateLimiter:
    def __init__(self, limit: str, redis_url: str | None) -> None:
        self.limit_text = limit
        self.item = parse(limit)
        if redis_url:
            storage = storage_from_string(f"async+{redis_url}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self.strategy = MovingWindowRateLimiter(storage)

    async def hit(self, *identity: str) -> None:
        """Count one request; raise ``RateLimited`` with Retry-After when the window is spent."""
        if await self.strategy.hit(self.item, "api", *identity):
            return
        reset_at, _remaining = await self.strategy.get_window_stats(self.item, "api", *identity)
        raise RateLimited(max(1, math.ceil(reset_at - time.time())), self.limit_text)
