"""Every SQL statement of the webhook domain, scoped to one organization (but the sweep's)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

QUEUE = "webhooks"
DELIVER_TASK = "sc:webhook.deliver"

_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :qlock, "
    "CAST(:args AS jsonb), CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1])"
)
# A sender to start now, unless one already waits to start (its queueing lock): a burst of
# events for one endpoint queues one job, not one per event.
_WAKE = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :qlock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]) "
    "WHERE NOT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :qlock "
    "AND status = 'todo')"
)

# One sender per endpoint: the lease is taken in database time, so a moved test clock or a
# worker's skewed clock cannot make two senders overlap. A sender that dies frees it on expiry.
_CLAIM = text(
    "UPDATE webhook_endpoints SET lease_until = clock_timestamp() + make_interval(secs => :secs) "
    "WHERE org_id = :org AND id = :id AND enabled "
    "AND (lease_until IS NULL OR lease_until < clock_timestamp()) RETURNING id"
)

_STATS = text(
    """
    SELECT
      count(*) FILTER (WHERE attempted_at >= :day) AS day_total,
      count(*) FILTER (WHERE attempted_at >= :day AND succeeded) AS day_ok,
      count(*) AS week_total,
      count(*) FILTER (WHERE succeeded) AS week_ok,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)
        FILTER (WHERE attempted_at >= :day) AS day_p50,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
        FILTER (WHERE attempted_at >= :day) AS day_p95
    FROM webhook_attempts
    WHERE org_id = :org AND endpoint_id = :id AND attempted_at >= :week
    """
)
_ERRORS = text(
    """
    SELECT error_class, count(*) AS n FROM webhook_attempts
    WHERE org_id = :org AND endpoint_id = :id AND attempted_at >= :week AND NOT succeeded
    GROUP BY error_class ORDER BY error_class
    """
)


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- endpoints ---------------------------------------------------------------------------

    async def count(self, org_id: UUID) -> int:
        stmt = select(func.count()).where(WebhookEndpoint.org_id == org_id)
        return int(await self.session.scalar(stmt) or 0)

    async def add(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def get(
        self, org_id: UUID, endpoint_id: UUID, *, lock: bool = False
    ) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpoint).where(
            WebhookEndpoint.org_id == org_id, WebhookEndpoint.id == endpoint_id
        )
        if lock:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def remove(self, endpoint: WebhookEndpoint) -> None:
        await self.session.execute(
            delete(WebhookEndpoint).where(
                WebhookEndpoint.org_id == endpoint.org_id, WebhookEndpoint.id == endpoint.id
            )
        )

    async def page(
        self, org_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[WebhookEndpoint]:
        """Newest first."""
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id)
        if after is not None:
            stmt = stmt.where(
                tuple_(WebhookEndpoint.created_at, WebhookEndpoint.id) < tuple_(*after)
            )
        stmt = stmt.order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
        return list(await self.session.scalars(stmt.limit(limit)))

    async def enabled(self, org_id: UUID) -> list[tuple[UUID, list[str]]]:
        """The enabled endpoints' ids and patterns: what an event is matched against."""
        stmt = (
            select(WebhookEndpoint.id, WebhookEndpoint.event_types)
            .where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.enabled)
            .order_by(WebhookEndpoint.id)
        )
        return [(row.id, list(row.event_types)) for row in await self.session.execute(stmt)]

    async def claim(self, org_id: UUID, endpoint_id: UUID, seconds: float) -> bool:
        row = await self.session.execute(
            _CLAIM, {"org": org_id, "id": endpoint_id, "secs": seconds}
        )
        return row.first() is not None

    async def claim_renew(self, org_id: UUID, endpoint_id: UUID, seconds: float) -> None:
        """Extend the lease the caller holds (each delivery of a long run)."""
        await self.session.execute(
            text(
                "UPDATE webhook_endpoints SET lease_until = clock_timestamp() "
                "+ make_interval(secs => :secs) WHERE org_id = :org AND id = :id"
            ),
            {"org": org_id, "id": endpoint_id, "secs": seconds},
        )

    async def release(self, org_id: UUID, endpoint_id: UUID) -> None:
        await self.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.org_id == org_id, WebhookEndpoint.id == endpoint_id)
            .values(lease_until=None)
        )

    # --- deliveries --------------------------------------------------------------------------

    async def add_delivery(self, values: dict[str, Any]) -> UUID | None:
        """Insert a delivery; None when this endpoint already has this event (a repeated run)."""
        stmt = (
            insert(WebhookDelivery)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_webhook_deliveries_event")
            .returning(WebhookDelivery.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def defer_send(
        self, org_id: UUID, endpoint_id: UUID, *, at: datetime | None = None
    ) -> None:
        """A sender job for the endpoint, in the caller's transaction: at ``at`` (a retry),
        or now unless one is already waiting to start."""
        args = json.dumps({"org_id": str(org_id), "endpoint_id": str(endpoint_id)})
        if at is not None:
            params = {"queue": QUEUE, "task": DELIVER_TASK, "args": args, "qlock": None}
            await self.session.execute(_DEFER, {**params, "at": at.isoformat()})
            return
        params = {"queue": QUEUE, "task": DELIVER_TASK, "args": args}
        try:
            # A savepoint: two transactions waking one endpoint at once collide on the
            # queueing lock, and the loser must not fail the change it belongs to.
            async with self.session.begin_nested():
                await self.session.execute(
                    _WAKE, {**params, "qlock": f"webhook-send:{endpoint_id}"}
                )
        except IntegrityError:
            pass  # the other one's job starts the sender

    async def head(self, org_id: UUID, endpoint_id: UUID) -> WebhookDelivery | None:
        """The endpoint's oldest pending delivery, locked: the only one that may be sent."""
        stmt = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.org_id == org_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == "pending",
            )
            .order_by(WebhookDelivery.seq)
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def delivery(
        self, org_id: UUID, endpoint_id: UUID, delivery_id: UUID, *, lock: bool = False
    ) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.org_id == org_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.id == delivery_id,
        )
        if lock:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def page_deliveries(
        self,
        org_id: UUID,
        endpoint_id: UUID,
        *,
        status: str | None,
        event_type: str | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[WebhookDelivery]:
        """Newest first."""
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.org_id == org_id, WebhookDelivery.endpoint_id == endpoint_id
        )
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        if event_type is not None:
            stmt = stmt.where(WebhookDelivery.event_type == event_type)
        if after is not None:
            stmt = stmt.where(
                tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(*after)
            )
        stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        return list(await self.session.scalars(stmt.limit(limit)))

    async def pending_count(self, org_id: UUID, endpoint_id: UUID) -> int:
        stmt = select(func.count()).where(
            WebhookDelivery.org_id == org_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == "pending",
        )
        return int(await self.session.scalar(stmt) or 0)

    # --- attempts ----------------------------------------------------------------------------

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)

    async def attempts(self, org_id: UUID, delivery_id: UUID) -> Sequence[WebhookAttempt]:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.org_id == org_id, WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
        return list(await self.session.scalars(stmt))

    async def last_attempt(self, org_id: UUID, endpoint_id: UUID) -> WebhookAttempt | None:
        stmt = (
            select(WebhookAttempt)
            .where(WebhookAttempt.org_id == org_id, WebhookAttempt.endpoint_id == endpoint_id)
            .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def stats(
        self, org_id: UUID, endpoint_id: UUID, *, day: datetime, week: datetime
    ) -> tuple[dict[str, Any], dict[str, int]]:
        """Attempt counts over the day and the week, the day's median and 95th percentile
        latency (null without timed attempts), and failures by class over the week."""
        params = {"org": org_id, "id": endpoint_id, "day": day, "week": week}
        counts = (await self.session.execute(_STATS, params)).one()
        errors = await self.session.execute(_ERRORS, params)
        return dict(counts._mapping), {
            str(row.error_class or "unknown"): int(row.n) for row in errors
        }

    # --- the sweep (every organization) ------------------------------------------------------

    async def due(self, now: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        rows = await self.session.execute(
            text("SELECT org_id, endpoint_id FROM sc_webhook_due(:now, :n)"),
            {"now": now, "n": limit},
        )
        return [(row.org_id, row.endpoint_id) for row in rows]
