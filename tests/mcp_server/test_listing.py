"""Listing servers: filters, sorting, cursor pagination, and what roles and policies hide."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import MemberFactory, Tenant, assert_problem
from tests.mcp_server.support import SERVERS, list_all, register


async def _ids(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[str]:
    return [item["id"] for item in await list_all(client, tenant.headers, **params)]


@pytest.fixture
async def fleet(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """Five servers differing in environment, tags, names and descriptions; ids by key."""
    specs = {
        "alpha": {
            "name": "Alpha Weather",
            "environment": "staging",
            "tags": ["alpha", "beta"],
            "description": "Forecasts and radar",
        },
        "beta": {"name": "beta-maps", "environment": "staging", "tags": ["beta"]},
        "gamma": {
            "name": "Gamma",
            "environment": "production",
            "tags": ["alpha", "beta", "gamma"],
        },
        "delta": {
            "name": "delta_search",
            "environment": "development",
            "description": "Finds 100% of matches",
        },
        "epsilon": {"name": "epsilon", "environment": "production", "tags": ["beta"]},
    }
    return {
        key: (await register(client, tenant, url=f"https://{key}.example.com/mcp", **spec))[
            "server"
        ]["id"]
        for key, spec in specs.items()
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"alpha", "beta", "gamma", "delta", "epsilon"}),
        ({"environment": "staging"}, {"alpha", "beta"}),
        ({"environment": "production"}, {"gamma", "epsilon"}),
        ({"environment": "nowhere"}, set()),
        ({"tag": "beta"}, {"alpha", "beta", "gamma", "epsilon"}),
        ({"tag": ["alpha", "beta"]}, {"alpha", "gamma"}),
        ({"tag": ["alpha", "gamma"]}, {"gamma"}),
        ({"tag": ["alpha", "alpha"]}, {"alpha", "gamma"}),
        ({"tag": ["alpha", "zeta"]}, set()),
        ({"tag": "beta", "environment": "production"}, {"gamma", "epsilon"}),
        ({"status": "pending_discovery"}, {"alpha", "beta", "gamma", "delta", "epsilon"}),
        ({"status": "active"}, set()),
        ({"q": "WEATHER"}, {"alpha"}),
        ({"q": "radar"}, {"alpha"}),  # descriptions are searched too
        ({"q": "a"}, {"alpha", "beta", "gamma", "delta"}),
        ({"q": "%"}, {"delta"}),  # LIKE wildcards are matched literally
        ({"q": "_"}, {"delta"}),
        ({"q": "\\"}, set()),
        ({"q": "beta", "environment": "staging"}, {"beta"}),
    ],
)
async def test_filters(
    client: httpx.AsyncClient,
    tenant: Tenant,
    fleet: dict[str, str],
    params: dict[str, Any],
    expected: set[str],
) -> None:
    by_id = {v: k for k, v in fleet.items()}
    assert {by_id[i] for i in await _ids(client, tenant, **params)} == expected


@pytest.mark.parametrize(
    "params",
    [
        {"tag": "Beta"},
        {"tag": "has space"},
        {"environment": "Staging"},
        {"status": "deleted"},
        {"sort": "url"},
        {"limit": 0},
        {"limit": 10_000},
        {"q": ""},
        {"q": "x" * 201},
    ],
)
async def test_bad_filters_are_422(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any]
) -> None:
    assert_problem(
        await client.get(SERVERS, params=params, headers=tenant.headers), 422, "validation-failed"
    )


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "a" * 1024])
async def test_a_forged_cursor_is_422(
    client: httpx.AsyncClient, tenant: Tenant, fleet: dict[str, str], cursor: str
) -> None:
    assert_problem(
        await client.get(SERVERS, params={"cursor": cursor}, headers=tenant.headers),
        422,
    )


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "name", "-name"])
async def test_sorting_and_pagination_are_stable_and_complete(
    client: httpx.AsyncClient, tenant: Tenant, sort: str
) -> None:
    # Names that tie once case is ignored, in several environments, so the id breaks ties.
    names = ["same", "Same", "SAME", "b", "A", "c", "same-2"]
    environments = ["staging", "production", "development", "staging", "staging", "qa", "qa"]
    created = [
        (await register(client, tenant, name=name, environment=env))["server"]
        for name, env in zip(names, environments, strict=True)
    ]
    if sort.endswith("created_at"):
        expected = sorted(created, key=lambda s: (s["created_at"], s["id"]))
    else:
        expected = sorted(created, key=lambda s: (s["name"].lower(), s["id"]))
    if sort.startswith("-"):
        expected.reverse()
    whole = await client.get(SERVERS, params={"sort": sort}, headers=tenant.headers)
    assert [s["id"] for s in whole.json()["items"]] == [s["id"] for s in expected]
    for limit in (1, 2, 3, 7):
        pages: list[list[str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": limit}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get(SERVERS, params=params, headers=tenant.headers)).json()
            pages.append([s["id"] for s in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [i for page in pages for i in page] == [s["id"] for s in expected], limit
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages) == -(-len(expected) // limit)


async def test_pages_stay_consistent_when_servers_are_added_meanwhile(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    first = [(await register(client, tenant, name=f"s{i}"))["server"]["id"] for i in range(4)]
    page = (
        await client.get(SERVERS, params={"sort": "created_at", "limit": 2}, headers=tenant.headers)
    ).json()
    added = (await register(client, tenant, name="late"))["server"]["id"]
    rest = await list_all(
        client, tenant.headers, sort="created_at", limit=2, cursor=page["next_cursor"]
    )
    seen = [s["id"] for s in page["items"]] + [s["id"] for s in rest]
    assert seen == [*first, added]


async def test_default_page_size_and_next_cursor(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for i in range(3):
        await register(client, tenant, name=f"p{i}")
    page = (await client.get(SERVERS, params={"limit": 3}, headers=tenant.headers)).json()
    assert len(page["items"]) == 3
    assert page["next_cursor"] is None
    assert page["removed_by_policy"] == 0


# --- what roles and policies hide ---


async def test_production_is_hidden_from_a_member_without_servers_production(
    client: httpx.AsyncClient,
    tenant: Tenant,
    fleet: dict[str, str],
    make_member: MemberFactory,
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    engineer = await make_member(tenant, ["engineer"])
    seen = {s["id"] for s in await list_all(client, viewer.headers)}
    assert seen == {fleet["alpha"], fleet["beta"], fleet["delta"]}
    page = (await client.get(SERVERS, headers=viewer.headers)).json()
    assert page["removed_by_policy"] == 0  # left out by role, before any policy
    # Even asking for production by name finds nothing.
    assert await list_all(client, viewer.headers, environment="production") == []
    # Nor by id: a server the viewer may not read is not found, like an unknown id.
    denied = await client.get(f"{SERVERS}/{fleet['gamma']}", headers=viewer.headers)
    assert_problem(denied, 404, "server-not-found")
    assert (
        await client.get(f"{SERVERS}/{fleet['alpha']}", headers=viewer.headers)
    ).status_code == 200
    # The viewer may read but not change anything.
    assert (
        await client.patch(
            f"{SERVERS}/{fleet['alpha']}", json={"description": "x"}, headers=viewer.headers
        )
    ).status_code == 403
    assert (
        await client.delete(f"{SERVERS}/{fleet['beta']}", headers=viewer.headers)
    ).status_code == 403
    assert (
        await client.post(f"{SERVERS}/{fleet['alpha']}/connection-check", headers=viewer.headers)
    ).status_code == 403
    # An engineer holds servers:production and sees everything.
    assert {s["id"] for s in await list_all(client, engineer.headers)} == set(fleet.values())


RESTRICTED_TAG_POLICY = """@id("no-restricted")
forbid (principal, action, resource is Server)
when { resource.tags.contains("restricted") };"""


async def test_a_policy_forbidding_a_tag_hides_those_servers_and_counts_them(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    open_ids = [(await register(client, tenant, tags=["public"]))["server"]["id"] for _ in range(2)]
    hidden_ids = [
        (await register(client, tenant, tags=["restricted", "public"]))["server"]["id"]
        for _ in range(3)
    ]
    published = await client.post(
        "/api/v1/policies",
        json={"text": RESTRICTED_TAG_POLICY, "comment": "test"},
        headers=tenant.headers,
    )
    assert published.status_code == 201, published.text
    page = (await client.get(SERVERS, headers=tenant.headers)).json()
    assert {s["id"] for s in page["items"]} == set(open_ids)
    assert page["removed_by_policy"] == 3
    # Across small pages the hidden ones are counted where they fall, never shown.
    total_removed, shown = 0, []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "created_at"}
        if cursor:
            params["cursor"] = cursor
        small = (await client.get(SERVERS, params=params, headers=tenant.headers)).json()
        total_removed += small["removed_by_policy"]
        shown += [s["id"] for s in small["items"]]
        cursor = small["next_cursor"]
        if cursor is None:
            break
    assert (total_removed, shown) == (3, open_ids)
    # What the policy hides does not exist for the caller, by id either.
    assert_problem(
        await client.get(f"{SERVERS}/{hidden_ids[0]}", headers=tenant.headers),
        404,
        "server-not-found",
    )
    assert_problem(
        await client.patch(
            f"{SERVERS}/{hidden_ids[0]}", json={"tags": ["public"]}, headers=tenant.headers
        ),
        404,
        "server-not-found",
    )
    assert_problem(
        await client.delete(f"{SERVERS}/{hidden_ids[0]}", headers=tenant.headers),
        404,
        "server-not-found",
    )
    # Registering a server the policy forbids is refused too.
    assert_problem(
        await client.post(
            SERVERS,
            json={"name": "new", "url": "https://a.example/", "tags": ["restricted"]},
            headers=tenant.headers,
        ),
        403,
        "policy-denied",
    )
    # A tag added later by PATCH hides a server that was visible.
    assert_problem(
        await client.patch(
            f"{SERVERS}/{open_ids[0]}", json={"tags": ["restricted"]}, headers=tenant.headers
        ),
        403,
        "policy-denied",
    )
    assert (await client.get(f"{SERVERS}/{open_ids[0]}", headers=tenant.headers)).status_code == 200
