"""Requesting discoveries and reading what they found."""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.discovery.repository import DiscoveryRepository, SnapshotRepository
from sprintconnect.discovery.snapshot import Item, diff, server_meta
from sprintconnect.errors import NotFound
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.jobs.outbox import emit
from sprintconnect.kit.pagination import (
    cut,
    decode_cursor,
    encode_cursor,
    encode_key,
    version_cursor,
)
from sprintconnect.mcp_server.failures import GUIDANCE
from sprintconnect.mcp_server.service import Deps, McpServerService
from sprintconnect.models import CapabilityItem, CapabilitySnapshot, Discovery, McpServer

DEFAULT_ESTIMATE = timedelta(seconds=10)


class DiscoveryNotFound(NotFound):
    slug = "discovery-not-found"
    title = "Discovery not found"


class SnapshotNotFound(NotFound):
    slug = "snapshot-not-found"
    title = "Capability snapshot not found"


async def queue_discovery(
    session: AsyncSession,
    server: McpServer,
    *,
    force_refresh: bool,
    requested_by: UUID | None,
    actor: Actor,
) -> tuple[Discovery, bool]:
    """Queue a discovery unless one already waits or runs for the server; (discovery, new)."""
    repo = DiscoveryRepository(session)
    discovery_id = uuid.uuid4()
    created = await repo.create_if_idle(
        Discovery(
            id=discovery_id,
            org_id=server.org_id,
            server_id=server.id,
            status="queued",
            force_refresh=force_refresh,
            attempts=0,
            requested_by_user_id=requested_by,
        )
    )
    if not created:
        existing = await repo.active_for(server.org_id, server.id)
        if existing is not None:
            return existing, False
        # It finished between our insert and our read: queue a fresh one.
        return await queue_discovery(
            session, server, force_refresh=force_refresh, requested_by=requested_by, actor=actor
        )
    await emit(
        session,
        org_id=server.org_id,
        topic="discovery.requested",
        payload={"discovery_id": str(discovery_id), "server_id": str(server.id)},
        key=f"discovery:{discovery_id}",
    )
    await audit.record(
        session,
        audit.AuditTag.DISCOVERY_REQUESTED,
        org_id=server.org_id,
        actor=actor,
        target=audit.Target("mcp_server", server.id),
        details={"discovery_id": str(discovery_id), "force_refresh": force_refresh},
    )
    found = await repo.get(server.org_id, discovery_id)
    assert found is not None
    return found, True


@dataclass
class DiscoveryView:
    discovery: Discovery
    estimated_completion_at: datetime | None
    guidance: str | None


def to_item(row: CapabilityItem) -> Item:
    return Item(row.kind, row.name, row.title, row.description, row.body, row.digest)


class DiscoveryService:
    def __init__(self, session: AsyncSession, principal: Principal, deps: Deps) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.deps = deps
        self.discoveries = DiscoveryRepository(session)
        self.snapshots = SnapshotRepository(session)
        self.servers = McpServerService(session, principal, deps)

    async def request(self, server_id: UUID, *, force_refresh: bool) -> tuple[Discovery, bool]:
        server = await self.servers.get(server_id, action="servers:write")
        return await queue_discovery(
            self.session,
            server,
            force_refresh=force_refresh,
            requested_by=self.principal.user_id,
            actor=self.principal.actor,
        )

    async def view(self, discovery: Discovery) -> DiscoveryView:
        estimate = None
        if discovery.status in ("queued", "in_progress"):
            durations = await self.discoveries.recent_durations(discovery.server_id)
            typical = (
                timedelta(seconds=statistics.median(durations)) if durations else DEFAULT_ESTIMATE
            )
            estimate = (discovery.started_at or self.deps.clock.now()) + typical
        guidance = GUIDANCE.get(discovery.reason or "") if discovery.reason else None
        return DiscoveryView(discovery, estimate, guidance)

    async def get(self, discovery_id: UUID) -> DiscoveryView:
        missing = DiscoveryNotFound(f"No discovery has the id {discovery_id} here.")
        discovery = await self.discoveries.get(self.org_id, discovery_id)
        if discovery is None:
            raise missing
        # The caller must see the server; if it may not, the discovery does not exist for it.
        await self.servers.get(discovery.server_id, missing=missing)
        return await self.view(discovery)

    async def snapshot(
        self, server_id: UUID, version: int | None
    ) -> tuple[CapabilitySnapshot, list[CapabilityItem]]:
        await self.servers.get(server_id)
        row = (
            await self.snapshots.latest(self.org_id, server_id)
            if version is None
            else await self.snapshots.by_version(self.org_id, server_id, version)
        )
        if row is None:
            raise SnapshotNotFound(
                "This server has no capability snapshot yet; request a discovery first."
                if version is None
                else f"This server has no snapshot version {version}."
            )
        return row, list(await self.snapshots.items(self.org_id, row.id))

    async def snapshots_page(
        self, server_id: UUID, *, cursor: str | None, limit: int
    ) -> tuple[list[CapabilitySnapshot], str | None]:
        """Newest version first; the cursor holds the last version shown."""
        before = version_cursor(cursor) if cursor else None
        await self.servers.get(server_id)
        rows = await self.snapshots.page(self.org_id, server_id, before=before, limit=limit + 1)
        return cut(rows, limit, lambda row: encode_key(row.version))

    async def history(
        self, server_id: UUID, *, cursor: str | None, limit: int
    ) -> tuple[list[DiscoveryView], str | None]:
        """The server's discoveries, newest first; 404 when the caller may not read the server."""
        after = decode_cursor(cursor) if cursor else None
        await self.servers.get(server_id)
        rows = await self.discoveries.page_for_server(
            self.org_id, server_id, after=after, limit=limit + 1
        )
        page, next_cursor = cut(rows, limit, lambda row: encode_cursor(row.created_at, row.id))
        return [await self.view(d) for d in page], next_cursor

    async def diff(self, server_id: UUID, a: int, b: int) -> dict[str, Any]:
        old, old_items = await self.snapshot(server_id, a)
        new, new_items = await self.snapshot(server_id, b)
        return diff(
            [to_item(i) for i in old_items],
            [to_item(i) for i in new_items],
            before_meta=snapshot_meta(old),
            after_meta=snapshot_meta(new),
        )


def snapshot_meta(snapshot: CapabilitySnapshot) -> dict[str, Any]:
    return server_meta(snapshot.protocol_version, snapshot.server_info, snapshot.capabilities)
