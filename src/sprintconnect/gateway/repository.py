"""Every SQL statement of the gateway: toolsets, the capabilities they draw on, measurements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import (
    CapabilityItem,
    McpServer,
    ServerCapability,
    ToolCall,
    Toolset,
    ToolsetServer,
)


class ToolsetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def org_by_slug(self, slug: str) -> UUID | None:
        """The organization a slug names, before any tenant is bound (a definer function that
        reveals nothing but the id)."""
        row = (
            await self.session.execute(
                text("SELECT org_id FROM sc_sign_in_org(:slug)"), {"slug": slug}
            )
        ).first()
        return row[0] if row else None

    def add(self, toolset: Toolset) -> None:
        self.session.add(toolset)

    async def get(self, org_id: UUID, toolset_id: UUID) -> Toolset | None:
        stmt = select(Toolset).where(Toolset.org_id == org_id, Toolset.id == toolset_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_name(self, org_id: UUID, name: str) -> Toolset | None:
        stmt = select(Toolset).where(Toolset.org_id == org_id, Toolset.name == name)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(self, org_id: UUID, *, after: str | None, limit: int) -> list[Toolset]:
        stmt = select(Toolset).where(Toolset.org_id == org_id)
        if after is not None:
            stmt = stmt.where(Toolset.name > after)
        stmt = stmt.order_by(Toolset.name).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def delete(self, toolset: Toolset) -> None:
        await self.session.delete(toolset)

    async def servers(self, org_id: UUID, server_ids: Sequence[UUID]) -> dict[UUID, McpServer]:
        if not server_ids:
            return {}
        stmt = select(McpServer).where(McpServer.org_id == org_id, McpServer.id.in_(server_ids))
        return {s.id: s for s in (await self.session.execute(stmt)).scalars()}

    async def latest_items(
        self, org_id: UUID, server_ids: Sequence[UUID], kind: str | None = None
    ) -> list[CapabilityItem]:
        """The items of each server's latest snapshot (the catalog's rows point at them)."""
        if not server_ids:
            return []
        stmt = (
            select(CapabilityItem)
            .join(ServerCapability, ServerCapability.item_id == CapabilityItem.id)
            .where(
                ServerCapability.org_id == org_id,
                ServerCapability.server_id.in_(server_ids),
                CapabilityItem.org_id == org_id,
            )
            .order_by(CapabilityItem.server_id, CapabilityItem.kind, CapabilityItem.name)
        )
        if kind is not None:
            stmt = stmt.where(ServerCapability.kind == kind)
        return list((await self.session.execute(stmt)).scalars())

    async def latest_item(
        self, org_id: UUID, server_id: UUID, kind: str, name: str
    ) -> CapabilityItem | None:
        stmt = (
            select(CapabilityItem)
            .join(ServerCapability, ServerCapability.item_id == CapabilityItem.id)
            .where(
                ServerCapability.org_id == org_id,
                ServerCapability.server_id == server_id,
                ServerCapability.kind == kind,
                ServerCapability.name == name,
                CapabilityItem.org_id == org_id,
            )
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def replace_members(self, toolset: Toolset, members: list[ToolsetServer]) -> None:
        await self.session.execute(
            delete(ToolsetServer).where(
                ToolsetServer.org_id == toolset.org_id, ToolsetServer.toolset_id == toolset.id
            )
        )
        await self.session.flush()
        toolset.members = members


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` measurements older than ``before``, of every tenant (a
        SECURITY DEFINER function); how many went."""
        gone = await self.session.execute(
            text("SELECT sc_tool_calls_prune(:before, :limit)"), {"before": before, "limit": limit}
        )
        return int(gone.scalar_one())

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(ToolCall), rows)

    async def recent(
        self,
        org_id: UUID,
        *,
        caller_id: str | None,
        caller_user_id: UUID | None = None,
        source: str | None,
        server_id: UUID | None,
        before: tuple[datetime, int] | None,
        limit: int,
    ) -> list[ToolCall]:
        stmt = select(ToolCall).where(ToolCall.org_id == org_id)
        if caller_user_id is not None:
            stmt = stmt.where(ToolCall.caller_user_id == caller_user_id)
        elif caller_id is not None:
            stmt = stmt.where(ToolCall.caller_id == caller_id)
        if source is not None:
            stmt = stmt.where(ToolCall.source == source)
        if server_id is not None:
            stmt = stmt.where(ToolCall.server_id == server_id)
        if before is not None:
            stmt = stmt.where(func.row(ToolCall.at, ToolCall.id) < func.row(*before))
        stmt = stmt.order_by(ToolCall.at.desc(), ToolCall.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
