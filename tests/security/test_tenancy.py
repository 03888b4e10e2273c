"""Organization B can neither see nor change organization A's objects."""

from __future__ import annotations

import httpx

from tests.conftest import TenantFactory, assert_problem


async def test_other_org_key_ids_are_404_and_unchanged(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a = await make_tenant()
    org_b = await make_tenant()
    a_key = f"/api/v1/api-keys/{org_a.key_id}"
    assert_problem(await client.get(a_key, headers=org_b.headers), 404, "api-key-not-found")
    assert_problem(
        await client.post(f"{a_key}/revoke", headers=org_b.headers), 404, "api-key-not-found"
    )
    # Org A's key still works and is still active.
    assert (await client.get("/api/v1/me", headers=org_a.headers)).status_code == 200
    assert (await client.get(a_key, headers=org_a.headers)).json()["status"] == "active"


async def test_lists_show_only_the_callers_org(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a = await make_tenant()
    org_b = await make_tenant()
    listed = (await client.get("/api/v1/api-keys", headers=org_b.headers)).json()["items"]
    assert [item["id"] for item in listed] == [str(org_b.key_id)]
    assert str(org_a.key_id) not in str(listed)


async def test_me_names_the_keys_own_org(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a = await make_tenant()
    me = (await client.get("/api/v1/me", headers=org_a.headers)).json()
    assert me["org_id"] == str(org_a.org_id)
    assert me["org_slug"] == org_a.slug
