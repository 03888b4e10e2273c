"""Rate limits with ``limits`` (in memory, or Redis when configured; memory while Redis fails)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits import parse

from sprintconnect.errors import RateLimited, SprintConnectError
from sprintconnect.kit.window import MovingWindow


class OrgRateLimited(RateLimited):
    slug = "org-rate-limited"
    title = "The organization's request budget is spent"

    def __init__(self, retry_after: int, limit: str) -> None:
        SprintConnectError.__init__(
            self,
            f"The organization may make {limit} requests across all of its keys; "
            f"retry in {retry_after}s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class AuthenticationThrottled(RateLimited):
    slug = "authentication-throttled"
    title = "Too many failed authentications"

    def __init__(self, retry_after: int, limit: str) -> None:
        SprintConnectError.__init__(
            self,
            f"Too many failed authentications from this address or for this key (limit {limit});"
            f" no credentials are checked for {retry_after}s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class RateLimiter:
    """A moving-window limit, counted per identity under one namespace.

    An empty ``limit`` switches the limiter off: everything is allowed.
    """

    def __init__(
        self,
        limit: str,
        redis_url: str | None,
        *,
        namespace: str = "api",
        error: Callable[[int, str], RateLimited] = RateLimited,
    ) -> None:
        self.limit_text = limit
        self.namespace = namespace
        self.error = error
        self.item = parse(limit) if limit.strip() else None
        self.window = MovingWindow(redis_url, component=f"ratelimit:{namespace}")

    async def allows(self, *identity: str) -> bool:
        """Count one event; whether it was within the limit."""
        if self.item is None:
            return True
        return await self.window.hit(self.item, self.namespace, *identity)

    async def hit(self, *identity: str) -> None:
        """Count one request; raise ``RateLimited`` with Retry-After when the window is spent."""
        if await self.allows(*identity):
            return
        raise self.error(await self._retry_after(*identity), self.limit_text)

    async def check(self, *identity: str) -> None:
        """Raise like ``hit`` when the window is spent, without counting anything."""
        if self.item is None or await self.window.test(self.item, self.namespace, *identity):
            return
        raise self.error(await self._retry_after(*identity), self.limit_text)

    async def _retry_after(self, *identity: str) -> int:
        assert self.item is not None
        reset_at = await self.window.reset_at(self.item, self.namespace, *identity)
        return max(1, math.ceil(reset_at - time.time()))
