"""SQL for custom roles and role assignments."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import Role, RoleAssignment


class RoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def custom(self, org_id: UUID) -> Sequence[Role]:
        stmt = select(Role).where(Role.org_id == org_id).order_by(Role.name)
        return (await self.session.scalars(stmt)).all()

    async def get(self, org_id: UUID, name: str) -> Role | None:
        return await self.session.scalar(
            select(Role).where(Role.org_id == org_id, Role.name == name)
        )

    async def add(self, role: Role) -> Role:
        self.session.add(role)
        await self.session.flush()
        return role

    async def remove(self, role: Role) -> None:
        await self.session.delete(role)
        await self.session.flush()


class AssignmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def roles_by_user(self, org_id: UUID, user_ids: Sequence[UUID]) -> dict[UUID, list[str]]:
        stmt = (
            select(RoleAssignment.user_id, RoleAssignment.role_name)
            .where(RoleAssignment.org_id == org_id, RoleAssignment.user_id.in_(user_ids))
            .order_by(RoleAssignment.role_name)
        )
        result: dict[UUID, list[str]] = {user_id: [] for user_id in user_ids}
        for user_id, role_name in (await self.session.execute(stmt)).all():
            result[user_id].append(role_name)
        return result

    async def holds(self, org_id: UUID, user_id: UUID, role_name: str) -> bool:
        stmt = select(RoleAssignment).where(
            RoleAssignment.org_id == org_id,
            RoleAssignment.user_id == user_id,
            RoleAssignment.role_name == role_name,
        )
        return (await self.session.scalar(stmt)) is not None

    async def lock_admins(self, org_id: UUID) -> None:
        """Serialize changes to who holds 'admin' in one organization."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"admins:{org_id}"},
        )

    async def holder_count(self, org_id: UUID, role_name: str) -> int:
        stmt = select(func.count()).where(
            RoleAssignment.org_id == org_id, RoleAssignment.role_name == role_name
        )
        return int(await self.session.scalar(stmt) or 0)

    async def add(
        self, org_id: UUID, user_id: UUID, role_name: str, granted_by: UUID | None
    ) -> None:
        self.session.add(
            RoleAssignment(
                org_id=org_id, user_id=user_id, role_name=role_name, granted_by_user_id=granted_by
            )
        )
        await self.session.flush()

    async def remove(self, org_id: UUID, user_id: UUID, role_name: str) -> None:
        await self.session.execute(
            delete(RoleAssignment).where(
                RoleAssignment.org_id == org_id,
                RoleAssignment.user_id == user_id,
                RoleAssignment.role_name == role_name,
            )
        )
