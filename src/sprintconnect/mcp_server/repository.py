"""SQL for MCP servers; every statement is scoped to the bound organization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import McpServer, ServerHealth


@dataclass(frozen=True)
class ServerFilter:
    environment: str | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None
    text: str | None = None
    name: str | None = None
    health: str | None = None
    include_production: bool = True


SORTS = {
    "created_at": (McpServer.created_at, McpServer.id),
    "-created_at": (McpServer.created_at.desc(), McpServer.id.desc()),
    "name": (func.lower(McpServer.name), McpServer.id),
    "-name": (func.lower(McpServer.name).desc(), McpServer.id.desc()),
}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class McpServerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _visible(self, org_id: UUID, filters: ServerFilter) -> Select[McpServer]:
        stmt = select(McpServer).where(McpServer.org_id == org_id)
        if not filters.include_production:
            stmt = stmt.where(McpServer.environment != "production")
        if filters.environment:
            stmt = stmt.where(McpServer.environment == filters.environment)
        if filters.tags:
            stmt = stmt.where(McpServer.tags.contains(list(filters.tags)))
        if filters.status:
            stmt = stmt.where(McpServer.status == filters.status)
        if filters.name:
            stmt = stmt.where(func.lower(McpServer.name) == filters.name.lower())
        if filters.health:
            stmt = stmt.where(McpServer.health.has(ServerHealth.status == filters.health))
        if filters.text:
            pattern = f"%{_escape_like(filters.text)}%"
            stmt = stmt.where(
                or_(
                    McpServer.name.ilike(pattern, escape="\\"),
                    McpServer.description.ilike(pattern, escape="\\"),
                )
            )
        return stmt

    async def get(self, org_id: UUID, server_id: UUID) -> McpServer | None:
        return await self.session.scalar(
            select(McpServer).where(McpServer.org_id == org_id, McpServer.id == server_id)
        )

    async def page(
        self,
        org_id: UUID,
        filters: ServerFilter,
        *,
        sort: str,
        after: tuple[object, UUID] | None,
        limit: int,
    ) -> Sequence[McpServer]:
        """One page in a stable order; ``after`` is the sort key and id of the previous last."""
        stmt = self._visible(org_id, filters)
        if after is not None:
            column = (
                McpServer.created_at if sort.endswith("created_at") else func.lower(McpServer.name)
            )
            keyset = tuple_(column, McpServer.id)
            bound = tuple_(*after)
            stmt = stmt.where(keyset < bound if sort.startswith("-") else keyset > bound)
        return (await self.session.scalars(stmt.order_by(*SORTS[sort]).limit(limit))).all()

    async def name_taken(
        self, org_id: UUID, environment: str, name: str, *, excluding: UUID | None = None
    ) -> McpServer | None:
        stmt = select(McpServer).where(
            McpServer.org_id == org_id,
            McpServer.environment == environment,
            func.lower(McpServer.name) == name.lower(),
        )
        if excluding is not None:
            stmt = stmt.where(McpServer.id != excluding)
        return await self.session.scalar(stmt)

    async def count(self, org_id: UUID) -> int:
        stmt = select(func.count()).select_from(McpServer).where(McpServer.org_id == org_id)
        return int(await self.session.scalar(stmt) or 0)

    async def add(self, server: McpServer) -> McpServer:
        self.session.add(server)
        await self.session.flush()
        await self.session.refresh(server)
        return server

    async def remove(self, server: McpServer) -> None:
        await self.session.delete(server)
        await self.session.flush()
