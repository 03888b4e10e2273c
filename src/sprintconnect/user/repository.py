"""SQL for users and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import Membership, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def set_super_admin(self, user_id: UUID, value: bool) -> None:
        """Owner connection only: the application role holds no UPDATE on ``users``."""
        await self.session.execute(
            update(User).where(User.id == user_id).values(is_super_admin=value)
        )


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: UUID, user_id: UUID) -> Membership | None:
        stmt = select(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
        return await self.session.scalar(stmt)

    async def member(self, org_id: UUID, user_id: UUID) -> tuple[Membership, User] | None:
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id, Membership.user_id == user_id)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def page(
        self, org_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[tuple[Membership, User]]:
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id == org_id)
        )
        if after is not None:
            stmt = stmt.where(tuple_(Membership.created_at, Membership.id) > tuple_(*after))
        stmt = stmt.order_by(Membership.created_at, Membership.id).limit(limit)
        return [(m, u) for m, u in (await self.session.execute(stmt)).all()]

    async def add(self, membership: Membership) -> Membership:
        self.session.add(membership)
        await self.session.flush()
        await self.session.refresh(membership)
        return membership

    async def organizations_of(self, user_id: UUID) -> list[UUID]:
        """Every organization of a user, across tenants: for the owner connection only."""
        stmt = select(Membership.org_id).where(Membership.user_id == user_id)
        return list((await self.session.scalars(stmt.order_by(Membership.org_id))).all())

    async def remove(self, org_id: UUID, user_id: UUID) -> None:
        await self.session.execute(
            delete(Membership).where(Membership.org_id == org_id, Membership.user_id == user_id)
        )
