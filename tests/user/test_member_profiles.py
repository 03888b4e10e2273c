"""What an organization sets about a member is its own (issue 9, Low 3)."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Tenant, TenantFactory


async def add(client: httpx.AsyncClient, tenant: Tenant, **body: object) -> httpx.Response:
    return await client.post(
        "/api/v1/users", json={"roles": ["viewer"], **body}, headers=tenant.headers
    )


async def test_adding_a_known_email_shows_nothing_another_org_set(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    email = f"dana-{uuid.uuid4().hex[:8]}@example.com"
    first = await add(client, org_a, email=email, display_name="Dana (Org A)")
    assert first.status_code == 201
    assert first.json()["display_name"] == "Dana (Org A)"
    second = await add(client, org_b, email=email)
    assert second.status_code == 201, second.text
    assert second.json()["display_name"] is None
    assert "Org A" not in second.text
    user_id = second.json()["user_id"]
    listed = (await client.get("/api/v1/users", headers=org_b.headers)).json()["items"]
    assert [m["display_name"] for m in listed if m["user_id"] == user_id] == [None]
    got = await client.get(f"/api/v1/users/{user_id}", headers=org_b.headers)
    assert got.json()["display_name"] is None


async def test_each_org_keeps_its_own_display_name(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    email = f"lee-{uuid.uuid4().hex[:8]}@example.com"
    user_id = (await add(client, org_a, email=email, display_name="Lee A")).json()["user_id"]
    assert (await add(client, org_b, email=email, display_name="Lee B")).json()[
        "display_name"
    ] == "Lee B"
    seen_a = await client.get(f"/api/v1/users/{user_id}", headers=org_a.headers)
    seen_b = await client.get(f"/api/v1/users/{user_id}", headers=org_b.headers)
    assert seen_a.json()["display_name"] == "Lee A"
    assert seen_b.json()["display_name"] == "Lee B"
    assert "Lee B" not in seen_a.text
