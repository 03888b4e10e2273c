"""Rate limits with ``limits`` (in memory, or Redis when configured; memory while Redis fails)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from limits import parse

from sprintconnect.errors import RateLimited, SprintConnectError
from sprintconnect.kit.window import MovingWindow, Window, gate


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

    async def refusal(self, *identity: str) -> RateLimited:
        """The error for a spent window, with its Retry-After."""
        return self.error(await self._retry_after(*identity), self.limit_text)

    async def _retry_after(self, *identity: str) -> int:
        assert self.item is not None
        reset_at = await self.window.reset_at(self.item, self.namespace, *identity)
        return max(1, math.ceil(reset_at - time.time()))


Use = tuple[RateLimiter, tuple[str, ...]]


async def first_spent(checks: Sequence[Use], hits: Sequence[Use]) -> tuple[Use, bool] | None:
    """``check`` each of ``checks``, then ``hit`` each of ``hits``, stopping at the first that
    is spent: that one, and whether it was a check. With Redis, one round trip for all."""
    checks = [use for use in checks if use[0].item is not None]
    hits = [use for use in hits if use[0].item is not None]

    def window(use: Use) -> Window:
        limiter, identity = use
        assert limiter.item is not None
        return limiter.window, limiter.item, (limiter.namespace, *identity)

    spent = await gate([window(u) for u in checks], [window(u) for u in hits])
    if spent is None:
        return None
    return [*checks, *hits][spent], spent < len(checks)
