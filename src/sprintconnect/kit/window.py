"""Moving-window rate limits in Redis (shared by every process) or in process memory.

With Redis configured, a window lives in Redis so that every replica spends the same budget.
While Redis fails, the window is kept in this process's memory instead (see ``kit.fallback``):
limits still hold, per process, until Redis answers again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from sprintconnect.kit.fallback import REDIS_ERRORS, RedisFallback, redis_client_options

T = TypeVar("T")


class MovingWindow:
    """``limits``' moving window over Redis, with a per-process window while Redis fails."""

    def __init__(self, redis_url: str | None, *, component: str) -> None:
        self.memory = MovingWindowRateLimiter(storage_from_string("async+memory://"))
        self.shared: MovingWindowRateLimiter | None = None
        if redis_url:
            storage = storage_from_string(
                f"async+{redis_url}",
                implementation="redispy",
                wrap_exceptions=True,
                **redis_client_options(),
            )
            self.shared = MovingWindowRateLimiter(storage)
        self.fallback = RedisFallback(component, instead="per-process memory")

    async def _run(self, operation: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        if self.shared is None:
            return await operation(self.memory)
        try:
            result = await operation(self.shared)
        except REDIS_ERRORS as exc:
            self.fallback.failed(exc)
            return await operation(self.memory)
        self.fallback.answered()
        return result

    async def hit(self, item: RateLimitItem, *identity: str) -> bool:
        """Count one event; whether it was within the limit."""
        return await self._run(lambda s: s.hit(item, *identity))

    async def test(self, item: RateLimitItem, *identity: str) -> bool:
        """Whether one more event would be within the limit, counting nothing."""
        return await self._run(lambda s: s.test(item, *identity))

    async def reset_at(self, item: RateLimitItem, *identity: str) -> float:
        """When (epoch seconds) the window frees room again."""
        stats = await self._run(lambda s: s.get_window_stats(item, *identity))
        return float(stats.reset_time)
