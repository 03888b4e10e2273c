"""Sending an endpoint's deliveries, oldest first, one at a time (head-of-line per endpoint).

A sender run takes the endpoint's lease, then repeats: claim the oldest pending delivery (in
one short transaction), send it with no database connection held (ADR 0005), record the
attempt (in another). Success moves on to the next delivery; a failure schedules the next try
on ``SCHEDULE`` (jittered) and stops, so that nothing later reaches the endpoint before it:
an endpoint that was down gets every event once it is back, in order, each with its
``webhook-id`` unchanged. After the last try a delivery is ``failed`` (redeliverable by hand)
and the next one goes. 410 Gone disables the endpoint at once; failing continuously for
``SPRINTCONNECT_WEBHOOK_DISABLE_AFTER_DAYS`` disables it too (audited, and an outbox event
``webhook.disabled``). The endpoint (URL, secrets, enabled) is read at each attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.egress import EgressPolicy, policy_from_settings
from sprintconnect.identity.principal import Actor
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.outbox import emit
from sprintconnect.models import WebhookAttempt, WebhookEndpoint
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret import SecretNotFound, SecretStoreUnavailable
from sprintconnect.webhook import sender
from sprintconnect.webhook.repository import WebhookRepository
from sprintconnect.webhook.secrets import signing_secrets

log = structlog.get_logger(__name__)

ATTEMPTS = Counter(
    "sprintconnect_webhook_attempts_total",
    "Webhook delivery attempts by outcome (delivered, retry, failed)",
    ["outcome"],
)

# Seconds before each attempt: the first at once, the last about three days after the first.
SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.1  # each wait is scaled by a random factor in [0.9, 1.1]
BATCH = 500  # deliveries per sender run; a longer backlog continues in a new job


def retry_delay(attempts: int) -> timedelta | None:
    """The wait after ``attempts`` failed attempts, or None when they are spent."""
    if attempts >= len(SCHEDULE):
        return None
    factor = random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - jitter, not secrecy
    return timedelta(seconds=SCHEDULE[attempts] * factor)


def message_id(delivery_id: UUID) -> str:
    """The ``webhook-id`` of a delivery: one per event and endpoint, the same on every try."""
    return f"msg_{delivery_id.hex}"


@dataclass(frozen=True)
class _Claim:
    delivery_id: UUID
    url: str
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]
    secret_rotated_at: datetime | None
    previous_until: datetime | None
    policy: EgressPolicy | None


def _policy(
    services: TaskServices, allowlist: list[str] | None, org_id: UUID
) -> EgressPolicy | None:
    try:
        return policy_from_settings(services.runtime.settings, allowlist or None, org_id=org_id)
    except ValueError:
        return None  # an unreadable allowlist: refuse rather than guess


async def drain(services: TaskServices, *, org_id: UUID, endpoint_id: UUID) -> int:
    """Send what is due for one endpoint; the number of deliveries that succeeded.

    Returns at once when another sender holds the endpoint. After letting go of the lease it
    looks again, so a delivery added while it was finishing is not left waiting for the sweep.
    """
    sent = 0
    sessionmaker = services.runtime.db.sessionmaker
    lease = services.runtime.settings.webhook_timeout_seconds * 3 + 30
    for _ in range(3):
        async with sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            if not await WebhookRepository(session).claim(org_id, endpoint_id, lease):
                return sent
        try:
            done, more = await _run(services, org_id, endpoint_id)
            sent += done
        finally:
            async with sessionmaker() as session, session.begin():
                await bind_tenant(session, org_id)
                await WebhookRepository(session).release(org_id, endpoint_id)
        if more:  # a long backlog: let other endpoints' senders have the worker too
            async with sessionmaker() as session, session.begin():
                await bind_tenant(session, org_id)
                await WebhookRepository(session).defer_send(org_id, endpoint_id)
            return sent
        async with sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            head = await WebhookRepository(session).head(org_id, endpoint_id)
            if head is None or head.next_attempt_at > services.runtime.clock.now():
                return sent
    return sent


async def _run(services: TaskServices, org_id: UUID, endpoint_id: UUID) -> tuple[int, bool]:
    runtime = services.runtime
    seconds = runtime.settings.webhook_timeout_seconds
    sent = 0
    http: httpx.AsyncClient | None = None
    http_policy: EgressPolicy | None = None
    # The secrets, read again whenever the endpoint says they changed (a rotation, the end of
    # its overlap): a backlog is not one secret-store read per delivery.
    cached: tuple[object, list[str]] | None = None
    try:
        claim = await _step(services, org_id, endpoint_id, None)
        for n in range(1, BATCH + 1):
            if claim is None:
                return sent, False
            now = runtime.clock.now()
            overlap = claim.previous_until is not None and now < claim.previous_until
            version = (claim.secret_rotated_at, overlap)
            try:
                if cached is None or cached[0] != version:
                    cached = None
                    found = await signing_secrets(
                        services.secrets, org_id, endpoint_id, now, claim.previous_until
                    )
                    cached = (version, found)
                secrets = cached[1]
            except (SecretNotFound, SecretStoreUnavailable) as exc:
                secrets = []
                outcome = sender.Outcome(
                    False,
                    None,
                    0.0,
                    error_class="secret_unavailable",
                    error_message=type(exc).__name__,
                )
            if claim.policy is None:
                outcome = sender.Outcome(
                    False,
                    None,
                    0.0,
                    error_class="egress_denied",
                    error_message="The organization's egress allowlist has an invalid entry.",
                )
            elif secrets:
                if http is None or http_policy != claim.policy:  # the allowlist changed
                    if http is not None:
                        await http.aclose()
                    http, http_policy = (
                        sender.client(claim.policy, services.network, seconds),
                        claim.policy,
                    )
                now = runtime.clock.now()
                outcome = await sender.send(
                    http,
                    claim.url,
                    content=sender.body(
                        claim.event_type, claim.occurred_at.isoformat(), claim.payload
                    ),
                    msg_id=message_id(claim.delivery_id),
                    timestamp=int(now.timestamp()),
                    secrets=secrets,
                    seconds=seconds,
                )
            if outcome.succeeded:
                sent += 1
            # The batch's last: record it only; a new job takes the rest.
            claim = await _step(
                services, org_id, endpoint_id, (claim, outcome), claim_next=n < BATCH
            )
        return sent, True
    finally:
        if http is not None:
            await http.aclose()


async def _step(
    services: TaskServices,
    org_id: UUID,
    endpoint_id: UUID,
    done: tuple[_Claim, sender.Outcome] | None,
    *,
    claim_next: bool = True,
) -> _Claim | None:
    """In one transaction: record the attempt just made (if any) and, when the next delivery
    may go now (and ``claim_next``), claim it."""
    async with services.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        if done is not None and not await _record(session, services, org_id, endpoint_id, *done):
            return None
        if not claim_next:
            return None
        return await _claim(session, services, org_id, endpoint_id)


async def _claim(
    session: AsyncSession, services: TaskServices, org_id: UUID, endpoint_id: UUID
) -> _Claim | None:
    """The head delivery when it is due, its attempt counted; None when there is nothing to do."""
    runtime = services.runtime
    lease = runtime.settings.webhook_timeout_seconds * 3 + 30
    repo = WebhookRepository(session)
    endpoint = await repo.get(org_id, endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return None
    await repo.claim_renew(org_id, endpoint_id, lease)
    head = await repo.head(org_id, endpoint_id)
    now = runtime.clock.now()
    if head is None or head.next_attempt_at > now:
        return None
    head.attempts += 1
    head.last_attempt_at = now
    org = await OrganizationRepository(session).get(org_id)
    return _Claim(
        delivery_id=head.id,
        url=endpoint.url,
        event_type=head.event_type,
        occurred_at=head.occurred_at,
        payload=dict(head.payload),
        secret_rotated_at=endpoint.secret_rotated_at,
        previous_until=endpoint.previous_secret_expires_at,
        policy=_policy(services, org.egress_allowlist if org else None, org_id),
    )


async def _record(
    session: AsyncSession,
    services: TaskServices,
    org_id: UUID,
    endpoint_id: UUID,
    claim: _Claim,
    outcome: sender.Outcome,
) -> bool:
    """Keep the attempt and its consequences; True when the next delivery may go now."""
    runtime = services.runtime
    settings = runtime.settings
    now = runtime.clock.now()
    repo = WebhookRepository(session)
    endpoint = await repo.get(org_id, endpoint_id, lock=True)
    delivery = await repo.delivery(org_id, endpoint_id, claim.delivery_id, lock=True)
    if endpoint is None or delivery is None:
        return False
    repo.add_attempt(
        WebhookAttempt(
            org_id=org_id,
            endpoint_id=endpoint_id,
            delivery_id=delivery.id,
            attempted_at=now,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            latency_ms=round(outcome.latency_ms, 3),
            response_snippet=outcome.snippet,
            error_class=outcome.error_class,
            error_message=outcome.error_message,
        )
    )
    delivery.last_status_code = outcome.status_code
    delivery.last_error_class = outcome.error_class
    if delivery.status != "pending":  # redelivered or settled meanwhile: keep the attempt
        return True
    if outcome.succeeded:
        delivery.status, delivery.delivered_at = "delivered", now
        endpoint.failing_since = None
        ATTEMPTS.labels(outcome="delivered").inc()
        return True
    endpoint.failing_since = endpoint.failing_since or now
    if outcome.error_class == "gone":
        delivery.status = "failed"
        await disable(session, endpoint, "gone", now)
        ATTEMPTS.labels(outcome="failed").inc()
        return False
    delay = retry_delay(delivery.attempts)
    if delay is None:
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + delay
        await repo.defer_send(org_id, endpoint_id, at=delivery.next_attempt_at)
    ATTEMPTS.labels(outcome="retry" if delay else "failed").inc()
    log.info(
        "webhook.attempt_failed",
        endpoint_id=str(endpoint_id),
        delivery_id=str(delivery.id),
        attempts=delivery.attempts,
        error_class=outcome.error_class,
        status_code=outcome.status_code,
    )
    if now - endpoint.failing_since >= timedelta(days=settings.webhook_disable_after_days):
        await disable(session, endpoint, "failing", now)
        return False
    return delay is None


async def disable(
    session: AsyncSession, endpoint: WebhookEndpoint, reason: str, now: datetime
) -> None:
    """Stop deliveries to an endpoint (pending ones wait for it to be enabled again)."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now
    endpoint.lease_until = None
    await session.flush()
    details = {
        "reason": reason,
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
    }
    await audit.record(
        session,
        audit.AuditTag.WEBHOOK_DISABLED,
        org_id=endpoint.org_id,
        actor=Actor(type="system"),
        target=audit.Target("webhook", endpoint.id),
        details=details,
    )
    # For the organization's admins: an event that a notification route can pick up.
    await emit(
        session,
        org_id=endpoint.org_id,
        topic="webhook.disabled",
        payload={"endpoint_id": str(endpoint.id), "at": now.isoformat(), **details},
        key=f"webhook-disabled:{endpoint.id}:{now.isoformat()}",
    )
    log.warning("webhook.disabled", endpoint_id=str(endpoint.id), reason=reason)


async def sweep(services: TaskServices, *, limit: int = 1000) -> int:
    """Start a sender for every endpoint with a due delivery (any organization)."""
    runtime = services.runtime
    async with runtime.db.sessionmaker() as session, session.begin():
        due = await WebhookRepository(session).due(runtime.clock.now(), limit)
    for org_id, endpoint_id in due:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            await WebhookRepository(session).defer_send(org_id, endpoint_id)
    return len(due)
