"""From domain events to deliveries: the audit hook, and the fan-out job's work.

An audited state change is written as deliveries in the change's own transaction:
``publish_audit`` (called at the end of ``audit.record``) maps the tag to a public event type
and, for each enabled endpoint of the organization subscribed to it, adds a delivery and wakes
the endpoint's sender; no endpoint, no cost but one indexed read. Health transitions,
capability changes and audit checkpoints are outbox events of their domains; the relay starts
``webhook.fanout`` for each (runs of one organization in turn), which does the same. See
docs/decisions/0008-webhooks.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.identity.principal import Actor
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.scrub import scrub
from sprintconnect.webhook.catalog import event_of_tag, matches
from sprintconnect.webhook.repository import WebhookRepository

log = structlog.get_logger(__name__)

_CLOCK = Clock()  # ``audit.record`` takes no clock; an audited change happens at wall time


async def deliver_event(
    session: AsyncSession,
    *,
    org_id: UUID,
    event_type: str,
    event_key: str,
    occurred: datetime,
    data: dict[str, Any],
    now: datetime,
    about: str | None = None,
) -> list[UUID]:
    """One delivery per enabled endpoint subscribed to ``event_type``, each endpoint's sender
    woken; the new deliveries' ids. Once per event key and endpoint, however often it runs.
    An endpoint is not told about itself (``about``: the webhook the event concerns)."""
    repo = WebhookRepository(session)
    created: list[UUID] = []
    for endpoint_id, patterns in await repo.enabled(org_id):
        if not matches(patterns, event_type) or str(endpoint_id) == about:
            continue
        delivery_id = await repo.add_delivery(
            {
                "org_id": org_id,
                "endpoint_id": endpoint_id,
                "event_key": event_key[:200],
                "event_type": event_type,
                "occurred_at": occurred,
                "payload": data,
                "next_attempt_at": now,
            }
        )
        if delivery_id is not None:
            created.append(delivery_id)
            await repo.defer_send(org_id, endpoint_id)
    return created


async def publish_audit(
    session: AsyncSession,
    tag: str,
    *,
    org_id: UUID,
    actor: Actor,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any] | None,
) -> None:
    """Deliveries of an audited change, in its transaction, to the endpoints that want it."""
    event_type = event_of_tag(tag)
    if event_type is None:
        return
    data = {
        "actor": {"type": actor.type, "id": actor.id},
        "target": {"type": target_type, "id": target_id} if target_type else None,
        "details": scrub(details or {}),
    }
    now = _CLOCK.now()
    await deliver_event(
        session,
        org_id=org_id,
        event_type=event_type,
        event_key=f"audit:{uuid.uuid4().hex}",
        occurred=now,
        data=data,
        now=now,
        about=target_id if target_type == "webhook" else None,
    )


def _when(value: object, now: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return now
        return parsed if parsed.tzinfo is not None else now
    return now


async def fan_out(
    session: AsyncSession,
    *,
    org_id: UUID,
    topic: str,
    event_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> list[UUID]:
    """One delivery per enabled endpoint subscribed to the event; the new deliveries' ids.

    Runs in the caller's transaction, bound to the organization; running it twice for one
    event adds nothing (one delivery per event key and endpoint).
    """
    created = await deliver_event(
        session,
        org_id=org_id,
        event_type=topic,
        event_key=event_key,
        occurred=_when(payload.get("at") or payload.get("issued_at"), now),
        data=payload,
        now=now,
    )
    log.info("webhook.fanned_out", type=topic, key=event_key, deliveries=len(created))
    return created
