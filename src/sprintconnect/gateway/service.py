"""Toolsets: create, change, list, delete; and what each one exposes now."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.decision import PolicyDenied
from sprintconnect.authz.service import Authorizer, authorize
from sprintconnect.errors import FieldError, NotFound, ValidationFailed
from sprintconnect.gateway.errors import ToolsetNameTaken, ToolsetNotFound
from sprintconnect.gateway.exposure import Exposure, expose
from sprintconnect.gateway.repository import ToolsetRepository
from sprintconnect.gateway.schemas import ToolsetCreate, ToolsetServerIn, ToolsetUpdate
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.clock import Clock
from sprintconnect.mcp_server.service import server_resource
from sprintconnect.models import McpServer, Organization, Toolset, ToolsetServer
from sprintconnect.organization.repository import OrganizationRepository


async def exposure_now(
    repo: ToolsetRepository, toolset: Toolset
) -> tuple[Exposure, dict[UUID, McpServer]]:
    """What ``toolset`` exposes as of its servers' latest snapshots, and those servers."""
    servers = await repo.servers(toolset.org_id, [m.server_id for m in toolset.members])
    items = await repo.latest_items(toolset.org_id, list(servers))
    return expose(toolset, servers, items), servers


class ToolsetService:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        authorizer: Authorizer | None = None,
    ) -> None:
        self.session = session
        self.principal = principal
        # Given when servers are added: the caller must be able to read each one.
        self.authorizer = authorizer
        self.org_id = principal.org_id
        self.clock = clock
        self.repo = ToolsetRepository(session)

    async def get(self, toolset_id: UUID) -> Toolset:
        toolset = await self.repo.get(self.org_id, toolset_id)
        if toolset is None:
            raise ToolsetNotFound(f"No toolset {toolset_id} in your organization.")
        return toolset

    async def page(self, after: str | None, limit: int) -> list[Toolset]:
        return await self.repo.page(self.org_id, after=after, limit=limit)

    async def servers_of(self, toolsets: list[Toolset]) -> dict[UUID, McpServer]:
        ids = sorted({m.server_id for t in toolsets for m in t.members})
        return await self.repo.servers(self.org_id, ids)

    async def exposure(self, toolset: Toolset) -> tuple[Exposure, dict[UUID, McpServer]]:
        return await exposure_now(self.repo, toolset)

    async def _members(
        self, toolset: Toolset, wanted: list[ToolsetServerIn]
    ) -> list[ToolsetServer]:
        seen: set[UUID] = set()
        errors: list[FieldError] = []
        servers = await self.repo.servers(self.org_id, [w.server_id for w in wanted])
        for index, entry in enumerate(wanted):
            if entry.server_id in seen:
                errors.append(
                    _error(index, "server_id", "this server is listed twice", "duplicate")
                )
            elif entry.server_id not in servers or not await self._may_read(
                servers[entry.server_id]
            ):
                errors.append(
                    _error(index, "server_id", "no such server in your organization", "not_found")
                )
            seen.add(entry.server_id)
        if errors:
            raise ValidationFailed("The toolset's servers are not valid.", errors=errors)
        return [
            ToolsetServer(
                org_id=self.org_id,
                toolset_id=toolset.id,
                server_id=entry.server_id,
                position=index,
                tools=list(dict.fromkeys(entry.tools)) if entry.tools is not None else None,
                prefix=entry.prefix,
                prompts=entry.prompts,
                resources=entry.resources,
                renames=dict(entry.rename),
                classes=dict(entry.classes),
            )
            for index, entry in enumerate(wanted)
        ]

    async def _may_read(self, server: McpServer) -> bool:
        """Whether the caller may read ``server`` (a server it cannot see is one it cannot
        add: the toolset would name it)."""
        if self.authorizer is None:
            return True
        try:
            await authorize(
                self.authorizer,
                self.session,
                self.principal,
                "servers:read",
                server_resource(server),
                hidden=NotFound("hidden"),
            )
        except (NotFound, PolicyDenied):
            return False
        return True

    async def _check_collisions(self, toolset: Toolset) -> None:
        """Two servers exposing one name is refused while it can be fixed (prefix, rename)."""
        exposure, _ = await self.exposure(toolset)
        if not exposure.collisions:
            return
        index_of = {str(m.server_id): i for i, m in enumerate(toolset.members)}
        raise ValidationFailed(
            f"Two servers of the toolset expose '{exposure.collisions[0]['name']}': give one of "
            "them a `prefix` or a `rename`.",
            errors=[
                _error(
                    index_of[c["server_id"]],
                    "prefix",
                    f"'{c['name']}' is already exposed by another server of the toolset",
                    "name_collision",
                )
                for c in exposure.collisions[:20]
            ],
        )

    async def create(self, data: ToolsetCreate) -> Toolset:
        toolset = Toolset(
            org_id=self.org_id,
            name=data.name,
            description=data.description,
            timeout_seconds=data.timeout_seconds,
            created_by_user_id=self.principal.user_id,
            updated_at=self.clock.now(),
        )
        toolset.members = []
        if await self.repo.by_name(self.org_id, data.name) is not None:
            raise ToolsetNameTaken(f"Your organization has a toolset named '{data.name}'.")
        self.repo.add(toolset)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # created meanwhile by another request
            raise ToolsetNameTaken(f"Your organization has a toolset named '{data.name}'.") from exc
        toolset.members = await self._members(toolset, data.servers)
        await self.session.flush()
        await self._check_collisions(toolset)
        await self._audit(audit.AuditTag.TOOLSET_CREATED, toolset)
        return toolset

    async def update(self, toolset_id: UUID, data: ToolsetUpdate) -> Toolset:
        toolset = await self.get(toolset_id)
        changes = data.model_dump(exclude_unset=True)
        if "description" in changes:
            toolset.description = data.description
        if "timeout_seconds" in changes:
            toolset.timeout_seconds = data.timeout_seconds
        if data.servers is not None:
            members = await self._members(toolset, data.servers)
            await self.repo.replace_members(toolset, members)
            await self.session.flush()
            await self._check_collisions(toolset)
        toolset.updated_at = self.clock.now()
        await self.session.flush()
        await self._audit(audit.AuditTag.TOOLSET_UPDATED, toolset, sorted(changes))
        return toolset

    async def delete(self, toolset_id: UUID) -> None:
        toolset = await self.get(toolset_id)
        await self._audit(audit.AuditTag.TOOLSET_DELETED, toolset)
        await self.repo.delete(toolset)
        await self.session.flush()

    async def _audit(
        self, tag: audit.AuditTag, toolset: Toolset, fields: list[str] | None = None
    ) -> None:
        details: dict[str, object] = {
            "name": toolset.name,
            "servers": [str(m.server_id) for m in toolset.members],
        }
        if fields is not None:
            details["fields"] = fields
        await audit.record(
            self.session,
            tag,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("toolset", toolset.id),
            details=details,
        )


def _error(index: int, name: str, message: str, kind: str) -> FieldError:
    return FieldError(loc=["body", "servers", index, name], msg=message, type=kind)


@dataclass(frozen=True)
class Resolved:
    """A toolset as the MCP endpoint serves it, with what its organization's calls need."""

    toolset: Toolset
    exposure: Exposure
    org: Organization
    loaded_at: float


class ToolsetCache:
    """Resolved toolsets per (organization, name), reused for ``seconds`` in one process.

    A change made through this process applies at once (``forget``); one made through another
    replica within ``seconds``. Catalog changes (a new snapshot) likewise.
    """

    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[UUID, str], Resolved] = OrderedDict()

    def forget(self, org_id: UUID) -> None:
        for key in [k for k in self._entries if k[0] == org_id]:
            del self._entries[key]

    async def resolve(self, session: AsyncSession, org_id: UUID, name: str) -> Resolved | None:
        key = (org_id, name)
        hit = self._entries.get(key)
        if hit is not None and time.monotonic() - hit.loaded_at < self.seconds:
            return hit
        repo = ToolsetRepository(session)
        toolset = await repo.by_name(org_id, name)
        if toolset is None:
            self._entries.pop(key, None)
            return None
        org = await OrganizationRepository(session).get(org_id)
        assert org is not None
        exposure, _ = await exposure_now(repo, toolset)
        resolved = Resolved(toolset, exposure, org, time.monotonic())
        if self.seconds > 0:
            self._entries[key] = resolved
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return resolved
