"""Audit entries for authentication: a key's use, and refusals nobody owns.

A successful use is written with the key's debounced ``last_used_at`` stamp, in the same
transaction and only when this request is the one that stamps: at most one entry per key
and debounce window (``SPRINTCONNECT_API_KEY_LAST_USED_DEBOUNCE_SECONDS``), whichever
process served it, and nothing more on the requests in between. A use from a client (address
and user agent) that is not among the key's ``RECENT_CLIENTS`` last ones stamps at once,
inside a window too (at most ``RECENT_CLIENTS`` stamps a window): the row keeps their
fingerprints, so which clients are known is read with the key (or its cached check) at no
cost, and the ``UPDATE`` decides which of concurrent requests records it. The entry carries
the request's address and user agent; its details the key prefix, the window and whether
the client was new.

A refusal that names no organization (a malformed key, an unknown prefix) goes to the
platform log, at most ``UNATTRIBUTED_PER_ADDRESS`` per client address and
``UNATTRIBUTED_PER_PLATFORM`` in all: a spray of made-up keys cannot flood it, and the
structured log (``auth.api_key.refused``) still counts every attempt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.repository import ApiKeyRepository
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.ratelimit import RateLimiter
from sprintconnect.kit.context import current_request
from sprintconnect.runtime import Runtime

UNATTRIBUTED_PER_ADDRESS = "5/minute"
UNATTRIBUTED_PER_PLATFORM = "60/minute"
# How many clients a key remembers, and how many uses a window may stamp: a new client
# stamps only once ``1/RECENT_CLIENTS`` of the window has passed since the last stamp, so a
# key used in turn from more clients than it remembers cannot write on every request.
RECENT_CLIENTS = 8


def client_fingerprint() -> str:
    """The current request's client: 16 hex of SHA-256 over its address and user agent."""
    meta = current_request()
    raw = f"{meta.ip or ''}\n{meta.user_agent or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def use_due(
    last_used: datetime | None,
    recent: Sequence[str],
    client: str,
    *,
    now: datetime,
    debounce: timedelta,
) -> bool:
    """Whether this use is to be stamped: a new window, or a client the key does not know
    (once an eighth of the window has passed since the last stamp)."""
    if last_used is None or last_used < now - debounce:
        return True
    return client not in recent and last_used < now - debounce / RECENT_CLIENTS


def with_client(recent: Sequence[str], client: str) -> tuple[str, ...]:
    """``recent`` once ``client`` used the key: it first, the others after, bounded."""
    return (client, *(c for c in recent if c != client))[:RECENT_CLIENTS]


def key_prefix(prefix: str) -> str:
    """How a key is named in entries: its public part, never the secret."""
    return f"sc_{prefix}"


async def stamp_use(
    session: AsyncSession,
    *,
    key_id: UUID,
    org_id: UUID,
    owner_id: UUID | None,
    prefix: str,
    now: datetime,
    debounce: timedelta,
    client: str,
    recent: Sequence[str],
) -> bool:
    """Stamp the key's use (``use_due`` said so) and audit it; whether this call did (the
    session must be bound to ``org_id``)."""
    keys = ApiKeyRepository(session)
    if not await keys.touch_use(
        key_id, now, debounce, client, keep=RECENT_CLIENTS, gap=debounce / RECENT_CLIENTS
    ):
        return False
    owner = str(owner_id) if owner_id is not None else None
    await audit.record(
        session,
        audit.AuditTag.API_KEY_AUTHENTICATED,
        org_id=org_id,
        actor=Actor("api_key" if owner else "service", str(key_id), owner),
        target=audit.Target("api_key", key_id),
        details={
            "key_prefix": key_prefix(prefix),
            "window_seconds": int(debounce.total_seconds()),
            "new_client": client not in recent,
        },
    )
    return True


class UnattributedAudit:
    """Bounds how many refusals of keys that name no organization reach the platform log."""

    def __init__(
        self,
        redis_url: str | None,
        *,
        per_address: str = UNATTRIBUTED_PER_ADDRESS,
        per_platform: str = UNATTRIBUTED_PER_PLATFORM,
    ) -> None:
        self.per_address = RateLimiter(per_address, redis_url, namespace="unattributed-audit")
        self.per_platform = RateLimiter(per_platform, redis_url, namespace="unattributed-audit-all")

    async def allows(self, address: str) -> bool:
        return await self.per_address.allows(address) and await self.per_platform.allows("all")


async def record_unattributed(
    request: Request, runtime: Runtime, *, reason: str, prefix: str | None
) -> bool:
    """Audit a refused key that names no organization in the platform log, within bounds;
    whether it was written."""
    bound: UnattributedAudit | None = getattr(request.app.state, "unattributed_audit", None)
    address = request.client.host if request.client is not None else ""
    if bound is None or not await bound.allows(address or "unknown"):
        return False
    details: dict[str, object] = {"reason": reason}
    if prefix is not None:
        details["key_prefix"] = key_prefix(prefix)
    async with runtime.db.sessionmaker() as session, session.begin():
        await audit.record_platform(
            session,
            audit.AuditTag.API_KEY_AUTH_UNATTRIBUTED,
            actor=Actor("anonymous"),
            target=audit.Target("api_key"),
            details=details,
        )
    return True
