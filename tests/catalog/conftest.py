"""Catalog test helpers: servers with a catalogued snapshot of given tools, and the search call."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from sprintconnect.catalog.repository import CatalogRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.repository import SnapshotRepository
from sprintconnect.models import CapabilityItem, CapabilitySnapshot, McpServer
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant

Seed = Callable[..., Awaitable[str]]
URL = "https://mcp.example.com/mcp"


@pytest.fixture
def seed(client: httpx.AsyncClient, runtime: Runtime) -> Seed:
    """Register a server and give it a catalogued snapshot of the given tools."""

    async def make(
        tenant: Tenant,
        name: str,
        tools: dict[str, str],
        *,
        environment: str = "staging",
        tags: list[str] | None = None,
        prompts: dict[str, str] | None = None,
    ) -> str:
        response = await client.post(
            "/api/v1/servers",
            json={
                "name": name,
                "url": URL,
                "environment": environment,
                "tags": tags or [],
                "auto_discover": False,
            },
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        server_id = uuid.UUID(response.json()["server"]["id"])
        snapshot_id = uuid.uuid4()
        entries = [("tool", n, d) for n, d in tools.items()]
        entries += [("prompt", n, d) for n, d in (prompts or {}).items()]
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            await SnapshotRepository(session).add(
                CapabilitySnapshot(
                    id=snapshot_id,
                    org_id=tenant.org_id,
                    server_id=server_id,
                    version=1,
                    digest="d" * 64,
                    protocol_version="2025-11-25",
                    server_info={"name": name},
                    capabilities={},
                    counts={},
                    diff=None,
                    truncation={},
                    last_confirmed_at=datetime.now(UTC),
                ),
                [
                    CapabilityItem(
                        org_id=tenant.org_id,
                        snapshot_id=snapshot_id,
                        server_id=server_id,
                        kind=kind,
                        name=item,
                        title=None,
                        description=text,
                        body={
                            "name": item,
                            "description": text,
                            "inputSchema": {"type": "object", "properties": {}},
                        },
                        digest=uuid.uuid4().hex,
                    )
                    for kind, item, text in entries
                ],
            )
            await CatalogRepository(session).replace_server(
                tenant.org_id, server_id, 1, snapshot_id
            )
            server = await session.get(McpServer, server_id)
            assert server is not None
            server.status, server.current_snapshot_version = "active", 1
        return str(server_id)

    return make


async def search(client: httpx.AsyncClient, who: object, **params: object) -> httpx.Response:
    return await client.get(
        "/api/v1/discovery/servers",
        params=params,
        headers=who.headers,  # type: ignore[attr-defined]
    )
