"""From a health event to deliveries: who hears of it, over which channels, and when not.

Recipients come from the escalation policy (unhealthy, degraded) or, for a recovery, from who
heard of the failure. Each must still be a member allowed to read health (and production
servers, for one in production). The cool-down holds per server, recipient and kind: a
flapping server's second "unhealthy" within it is not sent, and since a recovery notice goes
only to those with a failure notice outstanding, a flap yields one failure and one recovery
notice per cool-down, not one per transition.

Runs in the caller's transaction, bound to the organization; the delivery rows, their jobs and
the cool-down state commit together, so running it twice for one event adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.authz.access import role_permissions
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.models import NotificationCooldown, NotificationPreference
from sprintconnect.notification.repository import NotificationRepository
from sprintconnect.notification.service import PolicyView, default_preferences, policy_view

log = structlog.get_logger(__name__)

SUPPRESSED = Counter(
    "sprintconnect_notifications_suppressed_total",
    "Notices not sent because the same kind went to the same member about the same server "
    "within the cool-down",
    ["kind"],
)

KIND_OF_STATUS = {"unhealthy": "unhealthy", "degraded": "degraded", "healthy": "recovered"}


def topic_of(kind: str) -> str:
    return f"server.health.{kind}"


@dataclass(frozen=True)
class Outcome:
    deliveries: list[UUID]
    suppressed: int = 0


async def _allowed(
    session: AsyncSession, org_id: UUID, users: set[UUID], environment: str | None
) -> set[UUID]:
    """Members who may read this server's health (production needs its own permission)."""
    access = AccessRepository(session)
    needed = {"health:read", "servers:read"}
    if environment == "production":
        needed.add("servers:production")
    allowed = set()
    for user_id in users:
        facts = await access.facts(org_id, user_id)
        if needed <= role_permissions(facts):
            allowed.add(user_id)
    return allowed


async def _recipients(
    repo: NotificationRepository, org_id: UUID, policy: PolicyView, kind: str, server_id: UUID
) -> set[UUID]:
    if kind == "recovered":
        return set(await repo.alerted(org_id, server_id))
    targets = policy.unhealthy if kind == "unhealthy" else policy.degraded
    return await repo.members(org_id, targets.user_ids) | await repo.holders(org_id, targets.roles)


def _channels(
    pref: NotificationPreference, account_email: str | None
) -> list[tuple[str, str | None]]:
    channels: list[tuple[str, str | None]] = []
    address = pref.email_address or account_email
    if pref.email_enabled and address:
        channels.append(("email", address))
    if pref.slack_enabled and pref.slack_updated_at is not None:
        channels.append(("slack", None))
    if pref.webhook_enabled and pref.webhook_url:
        channels.append(("webhook", None))
    return channels


async def dispatch_event(
    session: AsyncSession,
    *,
    org_id: UUID,
    payload: dict[str, Any],
    event_key: str,
    now: datetime,
    reminder: bool = False,
) -> Outcome:
    """Record and queue the deliveries for one health event (or one reminder while degraded)."""
    kind = KIND_OF_STATUS.get(str(payload.get("status")))
    if kind is None:
        log.warning("notification.unknown_status", status=payload.get("status"), key=event_key)
        return Outcome([])
    server_id = UUID(str(payload["server_id"]))
    topic = topic_of(kind)
    repo = NotificationRepository(session)
    policy = policy_view(await repo.policy(org_id))
    candidates = await _recipients(repo, org_id, policy, kind, server_id)
    states = await repo.lock_cooldowns(org_id, server_id, candidates)
    allowed = await _allowed(session, org_id, candidates, payload.get("environment"))
    prefs = await repo.preferences_of(org_id, allowed)
    emails = await repo.account_emails(org_id, allowed)
    cooldown = timedelta(minutes=policy.cooldown_minutes)
    repeat = timedelta(minutes=policy.repeat_minutes)
    created: list[UUID] = []
    suppressed = 0
    for user_id in sorted(candidates):
        state = states[user_id]
        if kind == "recovered":
            state.alerted = False  # the failure this answered is over, told or not
        if user_id not in allowed:
            continue
        if not _due(state, kind, now, cooldown=cooldown, repeat=repeat, reminder=reminder):
            if kind != "recovered" and not reminder:
                suppressed += 1
                SUPPRESSED.labels(kind=kind).inc()
            continue
        pref = prefs.get(user_id) or default_preferences(org_id, user_id)
        if topic not in pref.events:
            continue
        sent_any = False
        for channel, address in _channels(pref, emails.get(user_id)):
            delivery_id = await repo.add_delivery(
                {
                    "org_id": org_id,
                    "server_id": server_id,
                    "event_key": event_key,
                    "topic": topic,
                    "user_id": user_id,
                    "channel": channel,
                    "address": address,
                    "payload": {**payload, "reminder": reminder},
                }
            )
            sent_any = True
            if delivery_id is not None:
                await repo.defer_delivery(org_id, delivery_id)
                created.append(delivery_id)
        if sent_any:
            _mark(state, kind, now)
    log.info(
        "notification.dispatched",
        key=event_key,
        kind=kind,
        reminder=reminder,
        deliveries=len(created),
        suppressed=suppressed,
    )
    return Outcome(created, suppressed)


def _due(
    state: NotificationCooldown,
    kind: str,
    now: datetime,
    *,
    cooldown: timedelta,
    repeat: timedelta,
    reminder: bool,
) -> bool:
    if kind == "recovered":
        # The recipients are exactly those with a failure notice outstanding: each gets its
        # answer, whatever the cool-down (a silenced recovery would leave them believing the
        # server is still down).
        return True
    last: datetime | None = getattr(state, f"{kind}_at")
    if reminder:
        return last is not None and repeat > timedelta(0) and now - last >= repeat
    return last is None or now - last >= cooldown


def _mark(state: NotificationCooldown, kind: str, now: datetime) -> None:
    setattr(state, f"{kind}_at", now)
    state.alerted = kind != "recovered"
