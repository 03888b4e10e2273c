"""Users: created on first sight of an email, joined to organizations by membership."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.identity.principal import Actor
from sprintconnect.kit.text import normalize_email
from sprintconnect.models import Membership, User
from sprintconnect.user.repository import MembershipRepository, UserRepository

BUILT_IN_ROLES = ("admin", "engineer", "analyst", "viewer")


async def get_or_create_user(
    session: AsyncSession, email: str, *, display_name: str | None = None
) -> User:
    email = normalize_email(email)
    users = UserRepository(session)
    existing = await users.by_email(email)
    if existing is not None:
        return existing
    return await users.add(User(email=email, display_name=display_name))


async def add_membership(
    session: AsyncSession, *, org_id: UUID, user: User, role: str, actor: Actor
) -> Membership:
    """Join ``user`` to the (bound) organization with ``role``; audited."""
    memberships = MembershipRepository(session)
    existing = await memberships.get(org_id, user.id)
    if existing is not None:
        return existing
    membership = await memberships.add(Membership(org_id=org_id, user_id=user.id, role=role))
    await audit.record(
        session,
        audit.AuditTag.MEMBERSHIP_CREATED,
        org_id=org_id,
        actor=actor,
        target=audit.Target("user", user.id),
        details={"role": role},
    )
    return membership
