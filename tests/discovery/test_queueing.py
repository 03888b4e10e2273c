"""Queueing many discoveries on one connection (prepared statements must keep working)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.service import queue_discovery
from sprintconnect.identity.principal import Actor
from sprintconnect.models import Discovery, McpServer
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant


async def test_twenty_queued_discoveries_on_one_connection(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    for index in range(20):
        response = await client.post(
            "/api/v1/servers",
            json={
                "name": f"q-{index}",
                "url": "https://mcp.example.com/mcp",
                "auto_discover": False,
            },
            headers=tenant.headers,
        )
        assert response.status_code == 201
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        servers = (await session.scalars(select(McpServer))).all()
        # psycopg prepares a statement after a few runs; the partial-index ON CONFLICT must
        # still find its index then.
        for server in servers:
            _, created = await queue_discovery(
                session, server, force_refresh=False, requested_by=None, actor=Actor("system")
            )
            assert created
        for server in servers:
            _, created = await queue_discovery(
                session, server, force_refresh=False, requested_by=None, actor=Actor("system")
            )
            assert not created
        count = await session.scalar(select(func.count()).select_from(Discovery))
    assert count == 20
