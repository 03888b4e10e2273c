"""SQL for policy versions."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import PolicyVersion


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, org_id: UUID) -> None:
        """Serialize publishers of one organization until the transaction ends."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"policy_versions:{org_id}"},
        )

    async def latest(self, org_id: UUID) -> PolicyVersion | None:
        stmt = (
            select(PolicyVersion)
            .where(PolicyVersion.org_id == org_id)
            .order_by(PolicyVersion.version.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def get(self, org_id: UUID, version: int) -> PolicyVersion | None:
        stmt = select(PolicyVersion).where(
            PolicyVersion.org_id == org_id, PolicyVersion.version == version
        )
        return await self.session.scalar(stmt)

    async def page(
        self, org_id: UUID, *, before: int | None, limit: int
    ) -> Sequence[PolicyVersion]:
        stmt = select(PolicyVersion).where(PolicyVersion.org_id == org_id)
        if before is not None:
            stmt = stmt.where(PolicyVersion.version < before)
        stmt = stmt.order_by(PolicyVersion.version.desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def next_version(self, org_id: UUID) -> int:
        stmt = select(func.coalesce(func.max(PolicyVersion.version), 0)).where(
            PolicyVersion.org_id == org_id
        )
        return int(await self.session.scalar(stmt) or 0) + 1

    async def add(self, version: PolicyVersion) -> PolicyVersion:
        self.session.add(version)
        await self.session.flush()
        await self.session.refresh(version)
        return version
