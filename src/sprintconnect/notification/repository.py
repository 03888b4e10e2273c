"""Every SQL statement of the notification domain, scoped to one organization."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import (
    EscalationPolicy,
    Membership,
    NotificationCooldown,
    NotificationDelivery,
    NotificationPreference,
    RoleAssignment,
    User,
)

DELIVER_TASK = "sc:notification.deliver"
QUEUE = "notifications"

# The outbox relay's way of deferring: in the caller's transaction, so a delivery row and its
# job exist together or not at all.
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :qlock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)

_DEGRADED_SERVERS = text(
    """
    SELECT h.server_id, s.name AS server_name, s.environment, h.status, h.last_error_class,
           h.last_error, h.failure_streak, h.last_response_ms
    FROM server_health h JOIN mcp_servers s ON s.id = h.server_id
    WHERE h.org_id = :org AND h.status = 'degraded' AND h.enabled
    ORDER BY h.server_id
    """
)


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- preferences -----------------------------------------------------------------------

    async def preferences(self, org_id: UUID, user_id: UUID) -> NotificationPreference | None:
        return await self.session.get(NotificationPreference, (org_id, user_id))

    async def preferences_of(
        self, org_id: UUID, user_ids: Iterable[UUID]
    ) -> dict[UUID, NotificationPreference]:
        ids = list(user_ids)
        if not ids:
            return {}
        stmt = select(NotificationPreference).where(
            NotificationPreference.org_id == org_id, NotificationPreference.user_id.in_(ids)
        )
        return {p.user_id: p for p in await self.session.scalars(stmt)}

    async def add_preferences(self, preference: NotificationPreference) -> None:
        self.session.add(preference)
        await self.session.flush()

    async def account_emails(self, org_id: UUID, user_ids: Iterable[UUID]) -> dict[UUID, str]:
        ids = list(user_ids)
        if not ids:
            return {}
        stmt = (
            select(User.id, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id, User.id.in_(ids))
        )
        return {row.id: row.email for row in await self.session.execute(stmt)}

    # --- escalation policy -----------------------------------------------------------------

    async def policy(self, org_id: UUID) -> EscalationPolicy | None:
        return await self.session.get(EscalationPolicy, org_id)

    async def add_policy(self, policy: EscalationPolicy) -> None:
        self.session.add(policy)
        await self.session.flush()

    async def members(self, org_id: UUID, user_ids: Iterable[UUID]) -> set[UUID]:
        """Which of ``user_ids`` are members of the organization."""
        ids = list(user_ids)
        if not ids:
            return set()
        stmt = select(Membership.user_id).where(
            Membership.org_id == org_id, Membership.user_id.in_(ids)
        )
        return set(await self.session.scalars(stmt))

    async def holders(self, org_id: UUID, roles: Iterable[str]) -> set[UUID]:
        """Members assigned any of ``roles``."""
        names = list(roles)
        if not names:
            return set()
        stmt = select(RoleAssignment.user_id).where(
            RoleAssignment.org_id == org_id, RoleAssignment.role_name.in_(names)
        )
        return set(await self.session.scalars(stmt))

    # --- cool-down state -------------------------------------------------------------------

    async def lock_cooldowns(
        self, org_id: UUID, server_id: UUID, user_ids: Iterable[UUID]
    ) -> dict[UUID, NotificationCooldown]:
        """The state of each recipient for this server, created if missing, locked."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        await self.session.execute(
            insert(NotificationCooldown)
            .values([{"org_id": org_id, "server_id": server_id, "user_id": u} for u in ids])
            .on_conflict_do_nothing(index_elements=["server_id", "user_id"])
        )
        stmt = (
            select(NotificationCooldown)
            .where(
                NotificationCooldown.org_id == org_id,
                NotificationCooldown.server_id == server_id,
                NotificationCooldown.user_id.in_(ids),
            )
            .order_by(NotificationCooldown.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {c.user_id: c for c in await self.session.scalars(stmt)}

    async def alerted(self, org_id: UUID, server_id: UUID) -> list[UUID]:
        """Recipients who heard of a failure of this server and not yet of its recovery."""
        stmt = select(NotificationCooldown.user_id).where(
            NotificationCooldown.org_id == org_id,
            NotificationCooldown.server_id == server_id,
            NotificationCooldown.alerted,
        )
        return list(await self.session.scalars(stmt))

    # --- deliveries ------------------------------------------------------------------------

    async def add_delivery(self, values: dict[str, Any]) -> UUID | None:
        """Insert a delivery; None when this event already has it (a repeated dispatch)."""
        stmt = (
            insert(NotificationDelivery)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_notification_deliveries_event")
            .returning(NotificationDelivery.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def defer_delivery(self, org_id: UUID, delivery_id: UUID) -> None:
        await self.session.execute(
            _DEFER,
            {
                "queue": QUEUE,
                "task": DELIVER_TASK,
                "lock": f"{DELIVER_TASK}:{delivery_id}",
                "qlock": f"delivery:{delivery_id}",
                "args": json.dumps({"delivery_id": str(delivery_id), "org_id": str(org_id)}),
            },
        )

    async def lock_delivery(self, org_id: UUID, delivery_id: UUID) -> NotificationDelivery | None:
        stmt = (
            select(NotificationDelivery)
            .where(NotificationDelivery.org_id == org_id, NotificationDelivery.id == delivery_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(stmt)

    async def page_deliveries(
        self,
        org_id: UUID,
        *,
        status: str | None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[NotificationDelivery]:
        """Newest first."""
        stmt = select(NotificationDelivery).where(NotificationDelivery.org_id == org_id)
        if status is not None:
            stmt = stmt.where(NotificationDelivery.status == status)
        if after is not None:
            stmt = stmt.where(
                tuple_(NotificationDelivery.created_at, NotificationDelivery.id) < tuple_(*after)
            )
        stmt = stmt.order_by(
            NotificationDelivery.created_at.desc(), NotificationDelivery.id.desc()
        ).limit(limit)
        return list(await self.session.scalars(stmt))

    # --- reminders -------------------------------------------------------------------------

    async def degraded_servers(self, org_id: UUID) -> list[dict[str, Any]]:
        rows = await self.session.execute(_DEGRADED_SERVERS, {"org": org_id})
        return [dict(row._mapping) for row in rows]

    async def degraded_orgs(self) -> list[UUID]:
        """Organizations (any tenant) with a degraded server: the reminder job's worklist."""
        rows = await self.session.execute(
            text("SELECT org_id FROM sc_notification_degraded_orgs()")
        )
        return [row.org_id for row in rows]
