"""Per-organization budget of outbound requests, kept with ``limits``."""

from __future__ import annotations

import math
import time
from typing import Any

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from sprintconnect.egress._errors import EgressRateLimited
from sprintconnect.egress._policy import EgressPolicy

# Policies are built per call, so the counters must outlive them: one limiter per
# (limit, storage) for the life of the process. With Redis the counts are shared by replicas.
_limiters: dict[tuple[str, str | None], tuple[Any, MovingWindowRateLimiter]] = {}


def _limiter(limit: str, storage_url: str | None) -> tuple[Any, MovingWindowRateLimiter]:
    key = (limit, storage_url)
    if key not in _limiters:
        if storage_url:
            storage = storage_from_string(f"async+{storage_url}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        _limiters[key] = (parse(limit), MovingWindowRateLimiter(storage))
    return _limiters[key]


async def spend(policy: EgressPolicy) -> None:
    """Count one outbound request for the policy's organization; raise when the budget is spent."""
    if not policy.rate_limit:
        return
    item, strategy = _limiter(policy.rate_limit, policy.rate_limit_storage)
    org = policy.org_id or "platform"
    if await strategy.hit(item, "egress", org):
        return
    reset_at, _remaining = await strategy.get_window_stats(item, "egress", org)
    raise EgressRateLimited(max(1, math.ceil(reset_at - time.time())), policy.rate_limit)
