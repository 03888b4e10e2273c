"""What a process does while Redis fails: count it, say it once, carry on without Redis.

Redis holds shared state (rate-limit windows, the search cache, outbound slots) but no
request needs it to be answered. While it is unreachable each user falls back to its own
per-process stand-in (memory counters, no cache) instead of failing the request, counts each
such operation in ``sprintconnect_redis_fallback_total{component=...}``, and logs one warning
when it starts and one line when Redis answers again.
"""

from __future__ import annotations

from typing import Any

import structlog
from limits.errors import StorageError
from prometheus_client import Counter
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisError

log = structlog.get_logger(__name__)

REDIS_FALLBACKS = Counter(
    "sprintconnect_redis_fallback_total",
    "Operations served without Redis (per-process fallback) because Redis failed",
    ["component"],
)

# Failures that mean "Redis is not answering" rather than a bug in our call.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, StorageError, OSError, TimeoutError)


def redis_client_options() -> dict[str, Any]:
    """Options for every Redis client we make.

    Timeouts: a Redis that hangs costs a request this long at most, not forever. One
    immediate retry on a connection error: after Redis restarts, each pooled connection fails
    once ("closed by server"); the retry reconnects, so the first request after a restart is
    already served by Redis. A Redis that is down refuses at once, so the retry costs nothing.
    """
    return {
        "socket_connect_timeout": 1.0,
        "socket_timeout": 2.0,
        "retry": Retry(NoBackoff(), 1),
        "retry_on_error": [ConnectionError],
    }


class RedisFallback:
    """One component's view of whether Redis works, for its metric and its log lines."""

    def __init__(self, component: str, *, instead: str) -> None:
        self.component = component
        self.instead = instead
        self.down = False

    def failed(self, exc: BaseException) -> None:
        """Redis failed one operation; the caller is about to use its fallback."""
        REDIS_FALLBACKS.labels(self.component).inc()
        if not self.down:
            self.down = True
            log.warning(
                "redis.unavailable",
                component=self.component,
                fallback=self.instead,
                error=type(exc).__name__,
            )

    def answered(self) -> None:
        """Redis served an operation; note the recovery if it had failed before."""
        if self.down:
            self.down = False
            log.info("redis.recovered", component=self.component)
