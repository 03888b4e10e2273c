"""SQL for service accounts; every statement runs under the bound tenant (RLS)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models.token import ServiceAccount


class ServiceAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locate(self, client_id: str) -> tuple[UUID, UUID] | None:
        """(account id, org id) for a client id, across tenants (the definer function)."""
        row = (
            await self.session.execute(
                text("SELECT account_id, org_id FROM sc_service_account_lookup(:c)"),
                {"c": client_id},
            )
        ).first()
        return (row.account_id, row.org_id) if row else None

    async def get(self, org_id: UUID, account_id: UUID) -> ServiceAccount | None:
        stmt = select(ServiceAccount).where(
            ServiceAccount.org_id == org_id, ServiceAccount.id == account_id
        )
        return await self.session.scalar(stmt)

    async def by_name(self, org_id: UUID, name: str) -> ServiceAccount | None:
        stmt = select(ServiceAccount).where(
            ServiceAccount.org_id == org_id, ServiceAccount.name == name
        )
        return await self.session.scalar(stmt)

    async def disabled_users(self, org_id: UUID) -> set[UUID]:
        stmt = select(ServiceAccount.user_id).where(
            ServiceAccount.org_id == org_id, ServiceAccount.disabled_at.is_not(None)
        )
        return set((await self.session.scalars(stmt)).all())

    async def page(
        self, org_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[ServiceAccount]:
        stmt = select(ServiceAccount).where(ServiceAccount.org_id == org_id)
        if after is not None:
            stmt = stmt.where(tuple_(ServiceAccount.created_at, ServiceAccount.id) < tuple_(*after))
        stmt = stmt.order_by(ServiceAccount.created_at.desc(), ServiceAccount.id.desc()).limit(
            limit
        )
        return (await self.session.scalars(stmt)).all()

    async def add(self, account: ServiceAccount) -> ServiceAccount:
        self.session.add(account)
        await self.session.flush()
        await self.session.refresh(account)
        return account

    async def remove(self, org_id: UUID, account_id: UUID) -> None:
        await self.session.execute(
            delete(ServiceAccount).where(
                ServiceAccount.org_id == org_id, ServiceAccount.id == account_id
            )
        )

    async def touch_used(self, account_id: UUID, now: datetime, debounce: timedelta) -> None:
        """Stamp a token issue at most once per ``debounce``."""
        await self.session.execute(
            update(ServiceAccount)
            .where(ServiceAccount.id == account_id)
            .where(
                ServiceAccount.last_used_at.is_(None)
                | (ServiceAccount.last_used_at < now - debounce)
            )
            .values(last_used_at=now)
        )
