"""`discovery_id` in registration and discovery answers, and a server's discovery history."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import update

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import Discovery
from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem

SERVERS = "/api/v1/servers"


async def _register(
    client: httpx.AsyncClient, tenant: Tenant, *, auto_discover: bool, environment: str = "dev"
) -> dict[str, Any]:
    response = await client.post(
        SERVERS,
        json={
            "name": f"srv-{uuid.uuid4().hex[:8]}",
            "url": "https://mcp.example.com/mcp",
            "environment": environment,
            "auto_discover": auto_discover,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _finish(runtime: Runtime, tenant: Tenant, discovery_id: str) -> None:
    """End a queued discovery (no worker runs here), so that another one can be queued."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            update(Discovery)
            .where(Discovery.id == uuid.UUID(discovery_id))
            .values(status="failed", reason="unknown")
        )


async def test_registration_answers_the_queued_discovery_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    registered = await _register(client, tenant, auto_discover=True)
    discovery_id = registered["discovery_id"]
    assert discovery_id is not None
    assert any(discovery_id in step for step in registered["next_steps"])
    shown = await client.get(f"/api/v1/discoveries/{discovery_id}", headers=tenant.headers)
    assert shown.status_code == 200
    assert shown.json()["server_id"] == registered["server"]["id"]

    quiet = await _register(client, tenant, auto_discover=False)
    assert quiet["discovery_id"] is None


async def test_requesting_a_discovery_answers_discovery_id(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    server_id = (await _register(client, tenant, auto_discover=False))["server"]["id"]
    first = await client.post(f"{SERVERS}/{server_id}/discoveries", headers=tenant.headers)
    assert first.status_code == 202
    assert first.json()["discovery_id"] == first.json()["id"]
    reused = await client.post(f"{SERVERS}/{server_id}/discoveries", headers=tenant.headers)
    assert reused.headers["x-discovery-reused"] == "true"
    assert reused.json()["discovery_id"] == first.json()["discovery_id"]


async def test_a_servers_discoveries_newest_first_in_pages(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    registered = await _register(client, tenant, auto_discover=True)
    server_id = registered["server"]["id"]
    other = (await _register(client, tenant, auto_discover=True))["server"]["id"]
    ids = [registered["discovery_id"]]
    for _ in range(2):
        await _finish(runtime, tenant, ids[-1])
        queued = await client.post(f"{SERVERS}/{server_id}/discoveries", headers=tenant.headers)
        assert queued.status_code == 202
        ids.append(queued.json()["discovery_id"])

    path = f"{SERVERS}/{server_id}/discoveries"
    first = (await client.get(path, params={"limit": 2}, headers=tenant.headers)).json()
    assert [d["id"] for d in first["items"]] == [ids[2], ids[1]]
    assert first["items"][0]["status"] == "queued"
    assert first["items"][1]["status"] == "failed"
    assert first["next_cursor"]
    rest = (
        await client.get(
            path, params={"limit": 2, "cursor": first["next_cursor"]}, headers=tenant.headers
        )
    ).json()
    assert [d["id"] for d in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    # Another server's discoveries are not among them.
    others = (await client.get(f"{SERVERS}/{other}/discoveries", headers=tenant.headers)).json()
    assert len(others["items"]) == 1
    assert others["items"][0]["server_id"] == other


async def test_discoveries_of_a_server_the_caller_cannot_see_are_404(
    client: httpx.AsyncClient,
    tenant: Tenant,
    make_tenant: TenantFactory,
    make_member: MemberFactory,
) -> None:
    production = (await _register(client, tenant, auto_discover=True, environment="production"))[
        "server"
    ]["id"]
    stranger = await make_tenant()
    viewer = await make_member(tenant, ["viewer"])
    for headers in (stranger.headers, viewer.headers):
        hidden = await client.get(f"{SERVERS}/{production}/discoveries", headers=headers)
        assert_problem(hidden, 404, "server-not-found")
    unknown = await client.get(f"{SERVERS}/{uuid.uuid4()}/discoveries", headers=tenant.headers)
    assert_problem(unknown, 404, "server-not-found")
    assert (
        await client.get(f"{SERVERS}/{production}/discoveries", headers=tenant.headers)
    ).status_code == 200
