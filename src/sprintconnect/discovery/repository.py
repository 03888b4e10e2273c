"""SQL for discoveries and capability snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import CapabilityItem, CapabilitySnapshot, Discovery, McpServer

ACTIVE = ("queued", "in_progress")


class DiscoveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: UUID, discovery_id: UUID) -> Discovery | None:
        return await self.session.scalar(
            select(Discovery).where(Discovery.org_id == org_id, Discovery.id == discovery_id)
        )

    async def active_for(self, org_id: UUID, server_id: UUID) -> Discovery | None:
        return await self.session.scalar(
            select(Discovery).where(
                Discovery.org_id == org_id,
                Discovery.server_id == server_id,
                Discovery.status.in_(ACTIVE),
            )
        )

    async def create_if_idle(self, discovery: Discovery) -> bool:
        """Insert unless one is already queued or running for the server (race-safe)."""
        values = {
            c.key: getattr(discovery, c.key)
            for c in Discovery.__table__.columns
            if getattr(discovery, c.key, None) is not None
        }
        result = await self.session.execute(
            insert(Discovery)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["server_id"],
                # A literal predicate: bound parameters here stop matching the partial index
                # once psycopg prepares the statement (after a few runs on one connection).
                index_where=text("status IN ('queued', 'in_progress')"),
            )
            .returning(Discovery.id)
        )
        return result.scalar_one_or_none() is not None

    async def page_for_server(
        self,
        org_id: UUID,
        server_id: UUID,
        *,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Discovery]:
        """A server's discoveries, newest first, after the keyset ``after``."""
        stmt = select(Discovery).where(Discovery.org_id == org_id, Discovery.server_id == server_id)
        if after is not None:
            stmt = stmt.where(tuple_(Discovery.created_at, Discovery.id) < tuple_(*after))
        stmt = stmt.order_by(Discovery.created_at.desc(), Discovery.id.desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def lock(self, org_id: UUID, discovery_id: UUID) -> Discovery | None:
        return await self.session.scalar(
            select(Discovery)
            .where(Discovery.org_id == org_id, Discovery.id == discovery_id)
            .with_for_update()
        )

    async def recent_durations(self, server_id: UUID, *, limit: int = 5) -> list[float]:
        seconds = func.extract("epoch", Discovery.finished_at - Discovery.started_at)
        stmt = (
            select(seconds)
            .where(Discovery.server_id == server_id, Discovery.status == "succeeded")
            .order_by(Discovery.finished_at.desc())
            .limit(limit)
        )
        return [float(v) for v in (await self.session.scalars(stmt)).all() if v is not None]

    async def set_phase(self, discovery_id: UUID, phase: str) -> None:
        await self.session.execute(
            update(Discovery).where(Discovery.id == discovery_id).values(phase=phase)
        )


class SnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_server(self, org_id: UUID, server_id: UUID) -> McpServer | None:
        return await self.session.scalar(
            select(McpServer)
            .where(McpServer.org_id == org_id, McpServer.id == server_id)
            .with_for_update()
        )

    async def latest(self, org_id: UUID, server_id: UUID) -> CapabilitySnapshot | None:
        return await self.session.scalar(
            select(CapabilitySnapshot)
            .where(CapabilitySnapshot.org_id == org_id, CapabilitySnapshot.server_id == server_id)
            .order_by(CapabilitySnapshot.version.desc())
            .limit(1)
        )

    async def by_version(
        self, org_id: UUID, server_id: UUID, version: int
    ) -> CapabilitySnapshot | None:
        return await self.session.scalar(
            select(CapabilitySnapshot).where(
                CapabilitySnapshot.org_id == org_id,
                CapabilitySnapshot.server_id == server_id,
                CapabilitySnapshot.version == version,
            )
        )

    async def page(
        self, org_id: UUID, server_id: UUID, *, before: int | None, limit: int
    ) -> Sequence[CapabilitySnapshot]:
        stmt = select(CapabilitySnapshot).where(
            CapabilitySnapshot.org_id == org_id, CapabilitySnapshot.server_id == server_id
        )
        if before is not None:
            stmt = stmt.where(CapabilitySnapshot.version < before)
        stmt = stmt.order_by(CapabilitySnapshot.version.desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def items(self, org_id: UUID, snapshot_id: UUID) -> Sequence[CapabilityItem]:
        stmt = (
            select(CapabilityItem)
            .where(CapabilityItem.org_id == org_id, CapabilityItem.snapshot_id == snapshot_id)
            .order_by(CapabilityItem.kind, CapabilityItem.name)
        )
        return (await self.session.scalars(stmt)).all()

    async def add(self, snapshot: CapabilitySnapshot, items: list[CapabilityItem]) -> None:
        self.session.add(snapshot)
        await self.session.flush()
        self.session.add_all(items)
        await self.session.flush()

    async def confirm(self, snapshot_id: UUID, at: datetime) -> None:
        await self.session.execute(
            update(CapabilitySnapshot)
            .where(CapabilitySnapshot.id == snapshot_id)
            .values(last_confirmed_at=at)
        )
