"""Delivering one notice, and the reminders sent while a server stays degraded.

A delivery is claimed (attempt counted) in one short transaction, sent with no database
connection held (ADR 0005), and its result recorded in another. A failed attempt that may be
retried raises ``RetryDelivery`` after recording, so the job system runs it again with backoff;
when the attempts run out (``SPRINTCONNECT_NOTIFICATION_MAX_ATTEMPTS``) or the failure is final
(a 4xx from the receiver, no SMTP configured) the delivery is ``failed`` and the job ends.
Nothing here touches health checks: a dead SMTP server only piles up retries in this queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.egress import EgressPolicy, policy_from_settings
from sprintconnect.jobs.context import TaskServices
from sprintconnect.notification.channels import (
    DeliveryFailed,
    render,
    send_email,
    send_slack,
    send_webhook,
)
from sprintconnect.notification.dispatch import Outcome, dispatch_event
from sprintconnect.notification.repository import NotificationRepository
from sprintconnect.notification.service import slack_path, webhook_path
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret import SecretNotFound

log = structlog.get_logger(__name__)

DELIVERIES = Counter(
    "sprintconnect_notification_deliveries_total",
    "Notification delivery attempts by channel and outcome (sent, retry, failed)",
    ["channel", "outcome"],
)


class RetryDelivery(Exception):
    """An attempt failed and may succeed later: the job system retries it with backoff."""


@dataclass(frozen=True)
class _Claim:
    channel: str
    user_id: UUID
    topic: str
    address: str | None
    payload: dict[str, Any]
    attempts: int
    webhook_url: str | None
    enabled: bool
    policy: EgressPolicy | None


async def deliver(services: TaskServices, *, delivery_id: UUID, org_id: UUID) -> str:
    """Send one delivery; its status afterwards (or skipped when it was not pending)."""
    runtime = services.runtime
    settings = runtime.settings
    sessionmaker = runtime.db.sessionmaker
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        repo = NotificationRepository(session)
        row = await repo.lock_delivery(org_id, delivery_id)
        if row is None or row.status != "pending":
            return "skipped"
        row.attempts += 1
        row.last_attempt_at = runtime.clock.now()
        pref = await repo.preferences(org_id, row.user_id)
        org = await OrganizationRepository(session).get(org_id)
        policy = None
        if org is not None:
            try:
                policy = policy_from_settings(settings, org.egress_allowlist or None, org_id=org_id)
            except ValueError:
                policy = None  # an unreadable allowlist: refuse rather than guess
        enabled = pref is None and row.channel == "email"
        if pref is not None:
            enabled = {
                "email": pref.email_enabled,
                "slack": pref.slack_enabled,
                "webhook": pref.webhook_enabled,
            }[row.channel]
        claim = _Claim(
            channel=row.channel,
            user_id=row.user_id,
            topic=row.topic,
            address=row.address,
            payload=dict(row.payload),
            attempts=row.attempts,
            webhook_url=pref.webhook_url if pref is not None else None,
            enabled=enabled,
            policy=policy,
        )
    failure: DeliveryFailed | None = None
    try:
        await _send(services, org_id, delivery_id, claim)
    except DeliveryFailed as exc:
        failure = exc
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        row = await NotificationRepository(session).lock_delivery(org_id, delivery_id)
        if row is None or row.status != "pending":
            return "skipped"
        if failure is None:
            row.status, row.sent_at, row.last_error = "sent", runtime.clock.now(), None
        else:
            row.last_error = str(failure)
            if not failure.retry or row.attempts >= settings.notification_max_attempts:
                row.status = "failed"
        status = row.status
    outcome = "retry" if status == "pending" else status
    DELIVERIES.labels(channel=claim.channel, outcome=outcome).inc()
    log.info(
        "notification.delivery",
        delivery_id=str(delivery_id),
        channel=claim.channel,
        outcome=outcome,
        attempts=claim.attempts,
        error=str(failure) if failure else None,
    )
    if status == "pending":
        raise RetryDelivery(str(failure))
    return status


async def _send(services: TaskServices, org_id: UUID, delivery_id: UUID, claim: _Claim) -> None:
    settings = services.runtime.settings
    if not claim.enabled:
        raise DeliveryFailed("The member turned this channel off before delivery.", retry=False)
    notice = render(claim.topic, claim.payload, reminder=bool(claim.payload.get("reminder")))
    if claim.channel == "email":
        if not claim.address:
            raise DeliveryFailed("No email address.", retry=False)
        await send_email(settings, claim.address, notice, str(delivery_id))
        return
    if claim.policy is None:
        raise DeliveryFailed("The organization's egress allowlist has an invalid entry.")
    timeout = settings.smtp_timeout_seconds
    if claim.channel == "slack":
        try:
            stored = await services.secrets.get(org_id, slack_path(claim.user_id))
        except SecretNotFound:
            raise DeliveryFailed("The Slack webhook URL was removed.", retry=False) from None
        await send_slack(stored["url"], notice, claim.policy, services.network, seconds=timeout)
        return
    if not claim.webhook_url:
        raise DeliveryFailed("The webhook URL was removed.", retry=False)
    secret = None
    try:
        secret = (await services.secrets.get(org_id, webhook_path(claim.user_id)))["secret"]
    except SecretNotFound:
        secret = None  # unsigned: the member set no secret
    await send_webhook(
        claim.webhook_url,
        secret,
        notice,
        f"msg_{delivery_id.hex}",
        int(services.runtime.clock.now().timestamp()),
        claim.policy,
        services.network,
        seconds=timeout,
    )


async def remind(services: TaskServices) -> int:
    """Reminders for every degraded server whose recipients have not heard for
    ``repeat_minutes``; the number of deliveries queued."""
    runtime = services.runtime
    sessionmaker = runtime.db.sessionmaker
    async with sessionmaker() as session, session.begin():
        orgs = await NotificationRepository(session).degraded_orgs()
    queued = 0
    for org_id in orgs:
        async with sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            queued += len((await remind_org(session, org_id, runtime.clock.now())).deliveries)
    return queued


async def remind_org(session: AsyncSession, org_id: UUID, now: datetime) -> Outcome:
    """One organization's reminders, in the caller's transaction bound to it."""
    total = Outcome([])
    minute = now.replace(second=0, microsecond=0).isoformat()
    for server in await NotificationRepository(session).degraded_servers(org_id):
        payload = {
            "server_id": str(server["server_id"]),
            "server_name": server["server_name"],
            "environment": server["environment"],
            "status": "degraded",
            "previous_status": "degraded",
            "at": now.isoformat(),
            "transition_id": None,
            "error_class": server["last_error_class"],
            "message": server["last_error"],
            "failure_streak": server["failure_streak"],
            "response_ms": server["last_response_ms"],
        }
        outcome = await dispatch_event(
            session,
            org_id=org_id,
            payload=payload,
            event_key=f"reminder:{server['server_id']}:{minute}",
            now=now,
            reminder=True,
        )
        total.deliveries.extend(outcome.deliveries)
    return total
