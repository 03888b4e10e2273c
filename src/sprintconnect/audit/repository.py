"""SQL for the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import AuditEvent, PlatformAuditEvent


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> None:
        self.session.add(event)

    async def add_platform(self, values: dict[str, Any]) -> None:
        """Append a platform entry; a plain INSERT, since the application may not read back."""
        await self.session.execute(insert(PlatformAuditEvent).values(**values))

    async def recent(self, org_id: UUID, *, limit: int = 100) -> Sequence[AuditEvent]:
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.org_id == org_id)
            .order_by(AuditEvent.seq.desc())
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()
