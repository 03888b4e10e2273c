"""Just-in-time provisioning: the user behind a verified ID token, in one organization.

In order: the identity (org, issuer, subject) already linked; else the member of this
organization with the token's email (added by an administrator through the API); else a new
user, unless the email already belongs to a user who is not a member here (an administrator
must add them: a provider identity is never linked silently to another organization's or a
platform operator's account). The group mapping's roles replace the roles it granted before;
roles assigned by hand stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.permissions import BUILT_IN_ROLES
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.repository import IdentityRepository
from sprintconnect.models import User
from sprintconnect.models.sign_in import IdentityProvider, UserIdentity
from sprintconnect.role.repository import AssignmentRepository, RoleRepository
from sprintconnect.user.repository import MembershipRepository, UserRepository
from sprintconnect.user.service import add_membership

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Claimed:
    """What the ID token says about the person, through the provider's claim mapping."""

    issuer: str
    subject: str
    email: str
    name: str | None
    groups: tuple[str, ...]


def mapped_roles(provider: IdentityProvider, groups: tuple[str, ...]) -> list[str]:
    """The roles the group mapping gives to ``groups``, in a stable order."""
    mapping: dict[str, Any] = provider.group_roles or {}
    roles: list[str] = []
    for group in groups:
        for role in mapping.get(group, []) or []:
            if isinstance(role, str) and role not in roles:
                roles.append(role)
    return roles


async def _existing_roles(session: AsyncSession, org_id: UUID, names: list[str]) -> list[str]:
    custom = {r.name for r in await RoleRepository(session).custom(org_id)}
    known = [n for n in names if n in BUILT_IN_ROLES or n in custom]
    for name in set(names) - set(known):
        log.warning("sign_in.mapped_role_unknown", role=name)
    return known


async def provision(
    session: AsyncSession, provider: IdentityProvider, claimed: Claimed, now: datetime
) -> UUID:
    """The user id for ``claimed`` in the (bound) organization, created or linked as needed."""
    org_id = provider.org_id
    identities = IdentityRepository(session)
    memberships = MembershipRepository(session)
    system = Actor("system")
    identity = await identities.find(org_id, claimed.issuer, claimed.subject)
    if identity is not None:
        user_id = identity.user_id
        membership = await memberships.get(org_id, user_id)
        if membership is None:
            raise SignInFailed(
                "not_a_member",
                "Your account is no longer a member of this organization. Ask an "
                "administrator to add you again.",
                status=403,
            )
    else:
        user = await UserRepository(session).by_email(claimed.email)
        if user is not None:
            found = await memberships.get(org_id, user.id)
            if user.is_super_admin:
                raise SignInFailed(
                    "platform_operator",
                    f"{claimed.email} belongs to a platform operator, whose account is never "
                    "linked to a provider identity automatically. Sign in with an API key.",
                    status=403,
                )
            if found is None:
                raise SignInFailed(
                    "account_exists",
                    f"An account for {claimed.email} already exists but is not a member of "
                    "this organization. Ask an administrator of this organization to add you "
                    "as a member, then sign in again.",
                    status=403,
                )
            membership = found
        else:
            user = await UserRepository(session).add(User(email=claimed.email))
            membership = await add_membership(
                session,
                org_id=org_id,
                user=user,
                roles=[],
                actor=system,
                display_name=claimed.name,
            )
        user_id = user.id
        identity = await identities.add(
            UserIdentity(
                org_id=org_id,
                issuer=claimed.issuer,
                subject=claimed.subject,
                user_id=user_id,
                mapped_roles=[],
            )
        )
    if claimed.name and membership.display_name != claimed.name:
        membership.display_name = claimed.name[:200]
    await _apply_roles(session, provider, identity, claimed, system)
    identity.last_sign_in_at = now
    await identities.save()
    return user_id


async def _apply_roles(
    session: AsyncSession,
    provider: IdentityProvider,
    identity: UserIdentity,
    claimed: Claimed,
    actor: Actor,
) -> None:
    """Mapped roles replace the ones the mapping granted before; hand-assigned roles stay.

    Only roles this mapping added are remembered as mapped: a role the user already held by
    hand is never taken away when the groups change.
    """
    org_id, user_id = provider.org_id, identity.user_id
    wanted = await _existing_roles(session, org_id, mapped_roles(provider, claimed.groups))
    assignments = AssignmentRepository(session)
    held = set((await assignments.roles_by_user(org_id, [user_id]))[user_id])
    previous = set(identity.mapped_roles or [])
    kept: list[str] = []
    for role in sorted(previous - set(wanted)):
        if role == "admin" and await assignments.holder_count(org_id, "admin") <= 1:
            log.warning("sign_in.last_admin_kept", user_id=str(user_id))
            kept.append(role)  # the organization keeps an administrator
            continue
        if role in held:
            await assignments.remove(org_id, user_id, role)
            await audit.record(
                session,
                audit.AuditTag.ROLE_UNASSIGNED,
                org_id=org_id,
                actor=actor,
                target=audit.Target("role", role),
                details={"user_id": str(user_id), "source": "group_mapping"},
            )
    for role in wanted:
        if role in held:
            if role in previous:
                kept.append(role)
            continue
        await assignments.add(org_id, user_id, role, None)
        kept.append(role)
        await audit.record(
            session,
            audit.AuditTag.ROLE_ASSIGNED,
            org_id=org_id,
            actor=actor,
            target=audit.Target("role", role),
            details={"user_id": str(user_id), "source": "group_mapping"},
        )
    identity.mapped_roles = kept
