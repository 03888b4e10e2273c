"""SQL for discoveries and capability snapshots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.discovery.snapshot import Item
from sprintconnect.models import CapabilityItem, CapabilitySnapshot, Discovery, McpServer

ACTIVE = ("queued", "in_progress")

_INSERT_ITEMS = text(
    """
    INSERT INTO capability_items
        (id, org_id, snapshot_id, server_id, kind, name, title, description, body, digest)
    SELECT gen_random_uuid(), :org_id, :snapshot_id, :server_id,
           r.kind, r.name, r.title, r.description, r.body, r.digest
    FROM json_to_recordset(CAST(:items AS json))
        AS r(kind text, name text, title text, description text, body jsonb, digest text)
    """
)


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

    async def add(self, snapshot: CapabilitySnapshot, items: Sequence[Item]) -> None:
        """The snapshot, then all its items in one statement.

        One ``INSERT ... SELECT`` from one JSON parameter whatever the number of items: its
        text never changes, so the driver parses it once and the server can keep it prepared,
        where a multi-row ``VALUES`` list is a new statement of 10 parameters per row each
        time (and arrays as parameters cost the driver a regex per element).
        ``COPY`` would be cheaper still, but PostgreSQL refuses ``COPY FROM`` into a table with
        row-level security, and this one has it.
        """
        self.session.add(snapshot)
        await self.session.flush()
        if not items:
            return
        await self.session.execute(
            _INSERT_ITEMS,
            {
                "org_id": snapshot.org_id,
                "snapshot_id": snapshot.id,
                "server_id": snapshot.server_id,
                "items": json.dumps(
                    [
                        {
                            "kind": i.kind,
                            "name": i.name,
                            "title": i.title,
                            "description": i.description,
                            "body": i.body,
                            "digest": i.digest,
                        }
                        for i in items
                    ]
                ),
            },
        )

    async def confirm(self, snapshot_id: UUID, at: datetime) -> None:
        await self.session.execute(
            update(CapabilitySnapshot)
            .where(CapabilitySnapshot.id == snapshot_id)
            .values(last_confirmed_at=at)
        )
