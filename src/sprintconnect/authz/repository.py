"""SQL for what authorization needs to know about a caller, read fresh on every request."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import PolicyVersion

_ACCESS_SQL = text(
    """
    WITH RECURSIVE assigned AS (
        SELECT role_name::text AS name FROM role_assignments
        WHERE org_id = :org AND user_id = :user
    ), expanded(name) AS (
        SELECT name FROM assigned
        UNION
        SELECT unnest(r.extends) FROM roles r JOIN expanded e ON r.name = e.name
        WHERE r.org_id = :org
    )
    SELECT
        coalesce((SELECT array_agg(name ORDER BY name) FROM assigned), '{}') AS assigned,
        coalesce((SELECT array_agg(name ORDER BY name) FROM expanded), '{}') AS expanded,
        coalesce((SELECT array_agg(DISTINCT p) FROM expanded e
                  JOIN roles r ON r.org_id = :org AND r.name = e.name,
                  unnest(r.permissions) AS p), '{}') AS custom_permissions,
        (SELECT coalesce(max(version), 0) FROM policy_versions WHERE org_id = :org)
            AS policy_version,
        (SELECT time_zone FROM organizations WHERE id = :org) AS time_zone,
        (SELECT name FROM organizations WHERE id = :org) AS org_name,
        (SELECT slug FROM organizations WHERE id = :org) AS org_slug,
        coalesce((SELECT is_super_admin FROM users WHERE id = :user), false) AS super_admin,
        (SELECT email FROM users WHERE id = :user) AS user_email,
        (SELECT display_name FROM memberships WHERE org_id = :org AND user_id = :user)
            AS user_name,
        -- A disabled service account's user is not a member while it stays disabled: every
        -- credential of it (tokens, and API keys made for it) stops acting at once.
        EXISTS (SELECT 1 FROM memberships WHERE org_id = :org AND user_id = :user)
            AND NOT EXISTS (SELECT 1 FROM service_accounts WHERE org_id = :org
                            AND user_id = :user AND disabled_at IS NOT NULL) AS member
    """
)


@dataclass(frozen=True)
class AccessFacts:
    """A caller's roles and the organization's policy state, as of this transaction."""

    member: bool
    super_admin: bool
    assigned_roles: frozenset[str]
    expanded_roles: frozenset[str]
    custom_permissions: frozenset[str]
    policy_version: int
    time_zone: str
    # The organization's own label, read with the rest (``/api/v1/me`` answers from it).
    org_name: str = ""
    org_slug: str = ""
    # The caller's email and name in this organization (None for keys without a user).
    user_email: str | None = None
    user_name: str | None = None


class AccessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def facts(self, org_id: UUID, user_id: UUID | None) -> AccessFacts:
        row = (await self.session.execute(_ACCESS_SQL, {"org": org_id, "user": user_id})).one()
        return AccessFacts(
            member=bool(row.member),
            super_admin=bool(row.super_admin),
            assigned_roles=frozenset(row.assigned),
            expanded_roles=frozenset(row.expanded),
            custom_permissions=frozenset(row.custom_permissions),
            policy_version=int(row.policy_version),
            time_zone=str(row.time_zone or "UTC"),
            org_name=str(row.org_name or ""),
            org_slug=str(row.org_slug or ""),
            user_email=row.user_email,
            user_name=row.user_name,
        )

    async def policy_text(self, org_id: UUID, version: int) -> str:
        if version == 0:
            return ""
        stmt = select(PolicyVersion.text).where(
            PolicyVersion.org_id == org_id, PolicyVersion.version == version
        )
        return (await self.session.scalar(stmt)) or ""
