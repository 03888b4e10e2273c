"""Listing servers by current health and by exact name (what the console's filters and its
name check ask), and the time of the last discovery in every view of a server."""

from __future__ import annotations

from uuid import UUID

import httpx
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, assert_problem
from tests.mcp_server.support import SERVERS, list_all, registered_id, unique


async def _set_health(runtime: Runtime, tenant: Tenant, server_id: str, status: str) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            text("UPDATE server_health SET status = :status WHERE server_id = :s"),
            {"status": status, "s": UUID(server_id)},
        )


async def test_filter_by_health(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    ids = {status: await registered_id(client, tenant) for status in ("healthy", "degraded")}
    unknown = await registered_id(client, tenant)
    for status, server_id in ids.items():
        await _set_health(runtime, tenant, server_id, status)
    for status, server_id in ids.items():
        found = await list_all(client, tenant.headers, health=status)
        assert [s["id"] for s in found] == [server_id]
        assert found[0]["health"]["status"] == status
    assert unknown in {s["id"] for s in await list_all(client, tenant.headers, health="unknown")}
    assert await list_all(client, tenant.headers, health="unhealthy") == []
    assert_problem(
        await client.get(SERVERS, params={"health": "sick"}, headers=tenant.headers),
        422,
        "validation-failed",
    )


async def test_filter_by_exact_name(client: httpx.AsyncClient, tenant: Tenant) -> None:
    name = unique("Weather")
    staging = await registered_id(client, tenant, name=name, environment="staging")
    await registered_id(client, tenant, name=f"{name}-two", environment="staging")
    other_env = await registered_id(client, tenant, name=name, environment="development")

    found = await list_all(client, tenant.headers, name=name.upper(), environment="staging")
    assert [s["id"] for s in found] == [staging]  # any case, not a prefix or substring
    both = await list_all(client, tenant.headers, name=f"  {name} ")
    assert {s["id"] for s in both} == {staging, other_env}
    assert await list_all(client, tenant.headers, name=name[:-1]) == []
    assert_problem(
        await client.get(SERVERS, params={"name": ""}, headers=tenant.headers),
        422,
        "validation-failed",
    )


async def test_views_say_when_discovery_last_finished(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    server_id = await registered_id(client, tenant)
    one = (await client.get(f"{SERVERS}/{server_id}", headers=tenant.headers)).json()
    assert one["last_discovered_at"] is None
    listed = await list_all(client, tenant.headers, name=one["name"])
    assert listed[0]["last_discovered_at"] is None
