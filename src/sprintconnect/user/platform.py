"""Platform operators (super admins): made and unmade by an operator, over the owner connection.

The application role cannot change ``users.is_super_admin`` (column privileges, migration
0008), so a compromised or buggy application cannot make anyone an operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import NotFound
from sprintconnect.identity.principal import Actor
from sprintconnect.kit.text import normalize_email
from sprintconnect.user.repository import MembershipRepository, UserRepository


class UserNotFound(NotFound):
    slug = "user-not-found"
    title = "User not found"


@dataclass(frozen=True)
class SuperAdminChange:
    user_id: UUID
    email: str
    is_super_admin: bool
    changed: bool
    organizations: list[UUID]


async def set_super_admin(
    session: AsyncSession, email: str, *, grant: bool, actor: Actor
) -> SuperAdminChange:
    """Grant or take away super admin; audited in each of the user's organizations.

    ``session`` must be the owner's (``db.owner.owner_transaction``). Setting what is already
    set changes nothing and records nothing.
    """
    email = normalize_email(email)
    users = UserRepository(session)
    user = await users.by_email(email)
    if user is None:
        raise UserNotFound(f"No user has the email {email}.")
    changed = user.is_super_admin != grant
    organizations = await MembershipRepository(session).organizations_of(user.id)
    if changed:
        await users.set_super_admin(user.id, grant)
        tag = audit.AuditTag.SUPER_ADMIN_GRANTED if grant else audit.AuditTag.SUPER_ADMIN_REVOKED
        for org_id in organizations:
            await bind_tenant(session, org_id)
            await audit.record(
                session,
                tag,
                org_id=org_id,
                actor=actor,
                target=audit.Target("user", user.id),
                details={"email": email},
            )
    return SuperAdminChange(user.id, email, grant, changed, organizations)
