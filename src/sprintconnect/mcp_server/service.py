"""Registering, listing, changing and removing MCP servers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.decision import Resource
from sprintconnect.authz.enforcement import enforce
from sprintconnect.authz.service import Authorizer, authorize, request_for
from sprintconnect.catalog.repository import CatalogRepository
from sprintconnect.config import Settings
from sprintconnect.egress import (
    EgressDenied,
    EgressPolicy,
    check_url,
    org_policy,
)
from sprintconnect.errors import Conflict, FieldError, InvalidCursor, NotFound, PermissionDenied
from sprintconnect.health import config as health_config
from sprintconnect.health.repository import HealthRepository
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.pagination import decode_key, encode_key
from sprintconnect.mcp_server import credentials
from sprintconnect.mcp_server.repository import McpServerRepository, ServerFilter
from sprintconnect.mcp_server.schemas import ServerCreate, ServerUpdate
from sprintconnect.models import McpServer, Organization
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret import SecretStore


class ServerNotFound(NotFound):
    slug = "server-not-found"
    title = "MCP server not found"


class ServerNameTaken(Conflict):
    slug = "server-name-taken"
    title = "A server with this name exists in this environment"


class ServerQuotaExceeded(PermissionDenied):
    slug = "server-quota-exceeded"
    title = "The organization's server quota is used up"


def server_resource(server: McpServer) -> Resource:
    """The Cedar entity a decision about this server is made on."""
    return Resource(
        "Server",
        str(server.id),
        {"name": server.name, "environment": server.environment, "tags": list(server.tags)},
    )


@dataclass
class Deps:
    """What the service needs beyond the session and the caller."""

    settings: Settings
    clock: Clock
    secrets: SecretStore
    authorizer: Authorizer


class McpServerService:
    def __init__(self, session: AsyncSession, principal: Principal, deps: Deps) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.deps = deps
        self.servers = McpServerRepository(session)

    async def _org(self) -> Organization:
        org = await OrganizationRepository(self.session).get(self.org_id)
        assert org is not None  # the caller's own organization is always visible to it
        return org

    async def egress_policy(self) -> EgressPolicy:
        org = await self._org()
        return org_policy(self.deps.settings, org.egress_allowlist, org_id=self.org_id)

    async def _authorize(
        self, action: str, server: McpServer, *, hidden: NotFound | None = None
    ) -> None:
        await authorize(
            self.deps.authorizer,
            self.session,
            self.principal,
            action,
            server_resource(server),
            hidden=hidden,
        )

    async def _name_free(self, environment: str, name: str, excluding: UUID | None) -> None:
        clash = await self.servers.name_taken(self.org_id, environment, name, excluding=excluding)
        if clash is not None:
            raise ServerNameTaken(
                f"A server named '{clash.name}' already exists in environment "
                f"'{environment}' (id {clash.id}).",
                conflicting_server_id=str(clash.id),
            )

    async def register(self, data: ServerCreate) -> McpServer:
        """Validate everything first; only then store the credentials and the server."""
        org = await self._org()
        quota = (
            org.server_quota
            if org.server_quota is not None
            else self.deps.settings.default_server_quota
        )
        used = await self.servers.count(self.org_id)
        if used >= quota:
            raise ServerQuotaExceeded(
                f"The organization may register {quota} servers and has {used}.",
                limit=quota,
                used=used,
            )
        health = health_config.requested_changes(data.health, data.health_check_interval_seconds)
        health_config.check_minimum(health, org, self.deps.settings, loc=_interval_loc(data))
        policy = await self.egress_policy()
        check_url(data.url, policy)
        split = credentials.split(data.auth)
        if "token_url" in split.config:
            _check_token_url(split.config["token_url"], policy)
        server = McpServer(
            # Known before the decision, so that what it obliges applies to this server.
            id=uuid4(),
            org_id=self.org_id,
            name=data.name,
            description=data.description,
            url=data.url,
            transport=data.transport,
            environment=data.environment,
            tags=data.tags,
            status="pending_discovery",
            auth_type=split.type,
            auth_config=split.config,
            credentials_updated_at=self.deps.clock.now() if split.secret else None,
            auto_discover=data.auto_discover,
            created_by_user_id=self.principal.user_id,
        )
        await self._authorize("servers:write", server)
        await self._name_free(data.environment, data.name, None)
        server = await self.servers.add(server)
        await self._schedule(server, health, new=True)
        if split.secret:
            await self.deps.secrets.put(
                self.org_id, credentials.secret_path(server.id), split.secret
            )
        await self._audit(
            audit.AuditTag.SERVER_REGISTERED,
            server,
            {
                "name": server.name,
                "url": server.url,
                "environment": server.environment,
                "auth_type": server.auth_type,
            },
        )
        return server

    async def get(
        self, server_id: UUID, *, action: str = "servers:read", missing: NotFound | None = None
    ) -> McpServer:
        """The server, if the caller may ``action`` it; one the caller may not read is
        ``missing`` (by default ``ServerNotFound``), exactly like an unknown id."""
        missing = missing or ServerNotFound(
            f"No MCP server has the id {server_id} in this organization."
        )
        server = await self.servers.get(self.org_id, server_id)
        if server is None:
            raise missing
        await self._authorize(action, server, hidden=missing)
        return server

    async def page(
        self, filters: ServerFilter, *, sort: str, cursor: str | None, limit: int
    ) -> tuple[list[McpServer], str | None, int]:
        """A page filtered in SQL by role, then by the organization's policies in one batch."""
        after = None
        if cursor:
            key, last_id = decode_key(cursor, 2)
            after = _after(sort, key, last_id)
        filters = dataclasses.replace(
            filters, include_production="servers:production" in self.principal.permissions
        )
        rows = list(
            await self.servers.page(self.org_id, filters, sort=sort, after=after, limit=limit + 1)
        )
        more = len(rows) > limit
        rows = rows[:limit]
        authorizer = self.deps.authorizer
        text = await authorizer.policy_text(
            self.session, self.org_id, self.principal.policy_version
        )
        resources = [server_resource(s) for s in rows]
        decisions = await authorizer.decide_many(
            [request_for(self.principal, "servers:read", r) for r in resources], text
        )
        # Each item's redactions for ``server_out``; throttle and audit once for the request.
        await enforce(
            self.session,
            self.principal,
            "servers:read",
            list(zip(resources, decisions, strict=True)),
            throttles=authorizer.throttles,
        )
        visible = [s for s, d in zip(rows, decisions, strict=True) if d.allowed]
        next_cursor = None
        if more and rows:
            last = rows[-1]
            key_value = last.created_at if sort.endswith("created_at") else last.name.lower()
            next_cursor = encode_key(key_value, last.id)
        return visible, next_cursor, len(rows) - len(visible)

    async def update(self, server_id: UUID, data: ServerUpdate) -> McpServer:
        server = await self.get(server_id, action="servers:write")
        health = health_config.requested_changes(data.health, data.health_check_interval_seconds)
        health_config.check_minimum(
            health, await self._org(), self.deps.settings, loc=_interval_loc(data)
        )
        changes = data.model_dump(
            exclude_unset=True, exclude={"auth", "health", "health_check_interval_seconds"}
        )
        if "url" in changes and changes["url"] is not None:
            check_url(changes["url"], await self.egress_policy())
        for field in (
            "name",
            "url",
            "transport",
            "environment",
            "tags",
            "auto_discover",
        ):
            if field in changes and changes[field] is None:
                changes.pop(field)
        if "environment" in changes or "name" in changes:
            # Before anything changes: a query would autoflush a clashing row into the index.
            await self._name_free(
                changes.get("environment", server.environment),
                changes.get("name", server.name),
                server.id,
            )
        before = server_resource(server).attrs
        for field, value in changes.items():
            setattr(server, field, value)
        if server_resource(server).attrs != before:
            # Policies decide on name, environment and tags: may it become what it becomes?
            await self._authorize("servers:write", server)
        details: dict[str, object] = {"changed": sorted(changes)}
        if health:
            health_changed = await self._schedule(server, health, new=False)
            if health_changed:
                details["health"] = {field: health[field] for field in health_changed}
        if data.auth is not None:
            await self._replace_credentials(server, data)
            details["auth_type"] = server.auth_type
        server.updated_at = self.deps.clock.now()
        await self.session.flush()
        await self._audit(audit.AuditTag.SERVER_UPDATED, server, details)
        return server

    async def _schedule(
        self, server: McpServer, changes: dict[str, object], *, new: bool
    ) -> list[str]:
        """Apply health settings to the server's row (the database made it with the server);
        a new server is first due at a random point of its first interval."""
        row = await HealthRepository(self.session).lock(self.org_id, server.id)
        assert row is not None  # created by a trigger with every server
        now = self.deps.clock.now()
        changed = health_config.apply(row, changes, now)
        if new:
            row.next_check_at = health_config.first_due(now, row.interval_seconds)
        await self.session.flush()
        server.health = row
        return changed

    async def _replace_credentials(self, server: McpServer, data: ServerUpdate) -> None:
        assert data.auth is not None
        split = credentials.split(data.auth)
        if "token_url" in split.config:
            _check_token_url(split.config["token_url"], await self.egress_policy())
        path = credentials.secret_path(server.id)
        if split.secret:
            await self.deps.secrets.put(self.org_id, path, split.secret)
        else:
            await self.deps.secrets.delete(self.org_id, path)
        server.auth_type, server.auth_config = split.type, split.config
        server.credentials_updated_at = self.deps.clock.now() if split.secret else None
        await self._audit(
            audit.AuditTag.SERVER_CREDENTIALS_UPDATED, server, {"auth_type": split.type}
        )

    async def delete(self, server_id: UUID) -> None:
        server = await self.get(server_id, action="servers:write")
        await self.servers.remove(server)
        await self._audit(
            audit.AuditTag.SERVER_DELETED, server, {"name": server.name, "url": server.url}
        )
        await self.deps.secrets.delete(self.org_id, credentials.secret_path(server.id))

    async def _audit(
        self, tag: audit.AuditTag, server: McpServer, details: dict[str, object]
    ) -> None:
        # Every audited change to a server can change what a search finds.
        await CatalogRepository(self.session).bump(self.org_id)
        await audit.record(
            self.session,
            tag,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("mcp_server", server.id),
            details=details,
        )


def _after(sort: str, key: object, last_id: object) -> tuple[object, UUID]:
    try:
        value: object = datetime.fromisoformat(str(key)) if sort.endswith("created_at") else key
        if not isinstance(value, datetime | str):
            raise TypeError
        return value, UUID(str(last_id))
    except (TypeError, ValueError) as exc:
        raise InvalidCursor() from exc


def _interval_loc(data: ServerCreate | ServerUpdate) -> tuple[str, ...]:
    """Where the interval a request set is: the health block, or the deprecated alias."""
    if data.health is not None and data.health.interval_seconds is not None:
        return ("body", "health", "interval_seconds")
    return ("body", "health_check_interval_seconds")


def _check_token_url(url: str, policy: EgressPolicy) -> None:
    """``check_url`` for an OAuth ``token_url``: a refusal names that field, not ``url``."""
    try:
        check_url(url, policy)
    except EgressDenied as exc:
        exc.errors = [
            FieldError(
                loc=["body", "auth", "token_url"], msg=exc.detail or exc.title, type=exc.slug
            )
        ]
        raise
