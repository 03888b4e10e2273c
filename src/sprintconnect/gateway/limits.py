"""Rate limits per capability class (``read``, ``write``, ``expensive``), set per organization.

Each caller (API key, service account or user) has its own window per class; the limits come
from the organization (``organizations.gateway_limits``) or the platform's defaults
(``SPRINTCONNECT_GATEWAY_LIMIT_<CLASS>``). Counted with ``limits``' moving window, in Redis
when configured so that every replica counts together.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping
from typing import Literal, get_args

from limits import RateLimitItem, parse

from sprintconnect.config import Settings
from sprintconnect.gateway.errors import CapabilityThrottled
from sprintconnect.kit.window import MovingWindow

CapabilityClass = Literal["read", "write", "expensive"]
CLASSES: tuple[str, ...] = get_args(CapabilityClass)


def defaults(settings: Settings) -> dict[str, str]:
    return {
        "read": settings.gateway_limit_read,
        "write": settings.gateway_limit_write,
        "expensive": settings.gateway_limit_expensive,
    }


def limit_of(org_limits: Mapping[str, str], base: Mapping[str, str], name: str) -> str:
    """One class's limit for an organization: its own, else the platform's default."""
    return org_limits.get(name, base.get(name, ""))


def effective_limits(settings: Settings, org_limits: Mapping[str, str]) -> dict[str, str]:
    """The limit of each class for an organization."""
    base = defaults(settings)
    return {name: limit_of(org_limits, base, name) for name in CLASSES}


def merged_limits(current: Mapping[str, str], update: Mapping[str, str | None]) -> dict[str, str]:
    """An organization's limits after an update: null drops a class back to the default."""
    merged = dict(current)
    for name, value in update.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value.strip()
    return merged


@functools.lru_cache(maxsize=1024)
def _item(text: str) -> RateLimitItem | None:
    return parse(text) if text.strip() else None


def valid_limit(text: str) -> bool:
    """Whether ``text`` is ``limits`` notation (``"100/minute"``) or empty (no limit)."""
    try:
        _item(text)
    except ValueError:
        return False
    return True


class ClassLimiter:
    def __init__(self, settings: Settings, redis_url: str | None) -> None:
        self.defaults = defaults(settings)
        self.window = MovingWindow(redis_url, component="ratelimit:gateway")

    async def hit(
        self, org_limits: Mapping[str, str], capability_class: str, org_id: str, caller: str
    ) -> None:
        """Count one call; ``CapabilityThrottled`` (429 with Retry-After) when it is spent."""
        text = limit_of(org_limits, self.defaults, capability_class)
        item = _item(text)
        if item is None:
            return
        identity = ("gateway", org_id, capability_class, caller)
        if await self.window.hit(item, *identity):
            return
        reset_at = await self.window.reset_at(item, *identity)
        raise CapabilityThrottled(max(1, math.ceil(reset_at - time.time())), text, capability_class)
