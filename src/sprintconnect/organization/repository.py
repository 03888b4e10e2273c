"""SQL for organizations."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import Organization


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, org: Organization) -> Organization:
        self.session.add(org)
        await self.session.flush()
        return org

    async def get(self, org_id: UUID) -> Organization | None:
        return await self.session.scalar(select(Organization).where(Organization.id == org_id))

    async def lookup_id(self, ref: str) -> UUID | None:
        """An organization's id by slug or name, across tenants (through a definer function)."""
        value = await self.session.scalar(text("SELECT sc_org_lookup(:ref)"), {"ref": ref})
        return UUID(str(value)) if value is not None else None

    async def audit_sensitive_fields(self, org_id: UUID) -> list[str]:
        """The fields audit entries of the (bound) organization mask; none when not visible."""
        stmt = select(Organization.audit_sensitive_fields).where(Organization.id == org_id)
        return list(await self.session.scalar(stmt) or [])
