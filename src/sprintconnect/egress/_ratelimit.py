"""Per-organization budget of outbound requests, kept with ``limits``."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse

from sprintconnect.egress._errors import EgressRateLimited
from sprintconnect.egress._policy import EgressPolicy
from sprintconnect.kit.window import MovingWindow

# Policies are built per call, so the counters must outlive them: one window per
# (limit, storage) for the life of the process. With Redis the counts are shared by replicas;
# while Redis fails they are kept per process (kit.window).
_limiters: dict[tuple[str, str | None], tuple[RateLimitItem, MovingWindow]] = {}


def _limiter(limit: str, storage_url: str | None) -> tuple[RateLimitItem, MovingWindow]:
    key = (limit, storage_url)
    if key not in _limiters:
        _limiters[key] = (parse(limit), MovingWindow(storage_url, component="egress"))
    return _limiters[key]


async def spend(policy: EgressPolicy) -> None:
    """Count one outbound request for the policy's organization; raise when the budget is spent."""
    if not policy.rate_limit:
        return
    item, window = _limiter(policy.rate_limit, policy.rate_limit_storage)
    org = policy.org_id or "platform"
    if await window.hit(item, "egress", org):
        return
    reset_at = await window.reset_at(item, "egress", org)
    raise EgressRateLimited(max(1, math.ceil(reset_at - time.time())), policy.rate_limit)
