"""Binding a transaction to one tenant; row-level security does the rest."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TENANT_SETTING = "app.org_id"


async def bind_tenant(session: AsyncSession, org_id: UUID) -> None:
    """Scope the current transaction to ``org_id`` (``SET LOCAL``: it ends with the transaction)."""
    await session.execute(
        text("SELECT set_config(:name, :org, true)"), {"name": TENANT_SETTING, "org": str(org_id)}
    )
