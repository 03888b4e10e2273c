"""Members of an organization: adding, listing, removing, and their roles."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.service import revoke_member_keys
from sprintconnect.authz.permissions import ALL_PERMISSIONS, SUPER_ADMIN
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.errors import Conflict, NotFound
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.kit.pagination import decode_cursor, encode_cursor
from sprintconnect.kit.text import normalize_email
from sprintconnect.models import Membership, User
from sprintconnect.role.repository import AssignmentRepository
from sprintconnect.role.service import GrantAboveGranter, RoleService
from sprintconnect.user.repository import MembershipRepository, UserRepository
from sprintconnect.user.schemas import Member, MemberCreate


class MemberNotFound(NotFound):
    slug = "member-not-found"
    title = "Member not found"


class AlreadyMember(Conflict):
    slug = "already-member"
    title = "The user is already a member"


async def get_or_create_user(session: AsyncSession, email: str) -> User:
    """The platform identity for ``email``; it carries nothing an organization sets."""
    email = normalize_email(email)
    users = UserRepository(session)
    existing = await users.by_email(email)
    if existing is not None:
        return existing
    return await users.add(User(email=email))


async def add_membership(
    session: AsyncSession,
    *,
    org_id: UUID,
    user: User,
    roles: list[str],
    actor: Actor,
    granted_by: UUID | None = None,
    display_name: str | None = None,
) -> Membership:
    """Join ``user`` to the (bound) organization with ``roles``; audited. No grant check."""
    membership = await MembershipRepository(session).add(
        Membership(org_id=org_id, user_id=user.id, display_name=display_name)
    )
    assignments = AssignmentRepository(session)
    for role in roles:
        await assignments.add(org_id, user.id, role, granted_by)
    await audit.record(
        session,
        audit.AuditTag.MEMBER_ADDED,
        org_id=org_id,
        actor=actor,
        target=audit.Target("user", user.id),
        details={"roles": roles, "email": user.email},
    )
    return membership


class MemberService:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.memberships = MembershipRepository(session)
        self.roles = RoleService(session, principal)

    async def page(self, *, cursor: str | None, limit: int) -> tuple[list[Member], str | None]:
        after = decode_cursor(cursor) if cursor else None
        rows = list(await self.memberships.page(self.org_id, after=after, limit=limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        held = await AssignmentRepository(self.session).roles_by_user(
            self.org_id, [user.id for _, user in rows]
        )
        members = [_member(m, u, held[u.id]) for m, u in rows]
        last = rows[-1][0] if rows else None
        return members, encode_cursor(last.created_at, last.id) if more and last else None

    async def get(self, user_id: UUID) -> Member:
        found = await self.memberships.member(self.org_id, user_id)
        if found is None:
            raise MemberNotFound(f"No member has the user id {user_id} in this organization.")
        held = await AssignmentRepository(self.session).roles_by_user(self.org_id, [user_id])
        return _member(found[0], found[1], held[user_id])

    async def add(self, data: MemberCreate) -> Member:
        for role in data.roles:
            await self.roles.require_grantable(role)
        user = await get_or_create_user(self.session, data.email)
        if await self.memberships.get(self.org_id, user.id) is not None:
            raise AlreadyMember(f"{data.email} is already a member of this organization.")
        await add_membership(
            self.session,
            org_id=self.org_id,
            user=user,
            roles=data.roles,
            actor=self.principal.actor,
            granted_by=self.principal.user_id,
            display_name=data.display_name,
        )
        return await self.get(user.id)

    async def remove(self, user_id: UUID, now: datetime) -> None:
        """Remove a member with every role they hold and every key they own here, at once."""
        member = await self.get(user_id)
        for role in member.roles:  # removing a member takes every role they hold
            await self.roles.require_grantable(role)
        facts = await AccessRepository(self.session).facts(self.org_id, user_id)
        if facts.super_admin:  # a platform operator acts with everything here
            missing = sorted(ALL_PERMISSIONS - self.principal.permissions)
            if missing:
                raise GrantAboveGranter(SUPER_ADMIN, missing)
        await self.roles.guard_last_admin(user_id)
        revoked = await revoke_member_keys(
            self.session,
            self.org_id,
            user_id,
            now=now,
            actor=self.principal.actor,
            revoked_by=self.principal.user_id,
        )
        await self.memberships.remove(self.org_id, user_id)
        await audit.record(
            self.session,
            audit.AuditTag.MEMBER_REMOVED,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("user", user_id),
            details={"revoked_api_keys": [str(k.id) for k in revoked]},
        )

    async def assign(self, user_id: UUID, role: str) -> Member:
        await self.get(user_id)
        await self.roles.assign(user_id, role)
        return await self.get(user_id)

    async def unassign(self, user_id: UUID, role: str) -> Member:
        await self.get(user_id)
        await self.roles.unassign(user_id, role)
        return await self.get(user_id)


def _member(membership: Membership, user: User, roles: list[str]) -> Member:
    return Member(
        user_id=user.id,
        email=user.email,
        display_name=membership.display_name,
        roles=roles,
        joined_at=membership.created_at,
    )
