"""Every list endpoint answers one page shape, `{items, next_cursor}`, honouring `limit` and
`cursor`."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from sprintconnect.authz.permissions import BUILT_IN_ROLES
from tests.conftest import Tenant, assert_problem

ROLES = "/api/v1/roles"
VERSIONS = "/api/v1/policies/versions"


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


async def _walk(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], limit: int
) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    for _ in range(50):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) >= {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("the list never ended")


# One snapshot's items: a single object's parts, bounded by the discovery limits, not a list.
NOT_LISTS = {"/api/v1/servers/{server_id}/capabilities"}


def test_no_get_route_answers_a_bare_array(app: FastAPI) -> None:
    spec = app.openapi()
    lists = 0
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or path in NOT_LISTS:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        schema = _resolve(content.get("application/json", {}).get("schema", {}), spec)
        assert schema.get("type") != "array", f"GET {path} answers a bare array"
        if "items" in schema.get("properties", {}):
            lists += 1
            assert "next_cursor" in schema["properties"], path
            params = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
            assert {"limit", "cursor"} <= params, (path, params)
    assert lists >= 8  # keys, members, roles, versions, servers, snapshots, discoveries, search…


async def test_roles_page_with_limit_and_cursor(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for name in ("pg-c", "pg-a", "pg-b"):
        created = await client.post(ROLES, json={"name": name}, headers=tenant.headers)
        assert created.status_code == 201, created.text
    pages = await _walk(client, ROLES, tenant.headers, limit=2)
    assert all(len(page) <= 2 for page in pages)
    names = [role["name"] for page in pages for role in page]
    # Built-in roles first, then custom roles by name; each exactly once.
    assert names == [*BUILT_IN_ROLES, "pg-a", "pg-b", "pg-c"]
    whole = (await client.get(ROLES, headers=tenant.headers)).json()
    assert [r["name"] for r in whole["items"]] == names
    assert whole["next_cursor"] is None


async def test_a_deleted_role_does_not_break_its_cursor(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for name in ("gone-a", "gone-b", "gone-c"):
        await client.post(ROLES, json={"name": name}, headers=tenant.headers)
    first = (
        await client.get(ROLES, params={"limit": len(BUILT_IN_ROLES) + 1}, headers=tenant.headers)
    ).json()
    assert first["items"][-1]["name"] == "gone-a"
    assert (await client.delete(f"{ROLES}/gone-a", headers=tenant.headers)).status_code == 204
    rest = (
        await client.get(ROLES, params={"cursor": first["next_cursor"]}, headers=tenant.headers)
    ).json()
    assert [r["name"] for r in rest["items"]] == ["gone-b", "gone-c"]


async def test_policy_versions_page_with_limit_and_cursor(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for n in range(3):
        published = await client.post(
            "/api/v1/policies", json={"text": "", "comment": f"v{n}"}, headers=tenant.headers
        )
        assert published.status_code == 201, published.text
    pages = await _walk(client, VERSIONS, tenant.headers, limit=2)
    assert [[v["version"] for v in page] for page in pages] == [[3, 2], [1]]


async def test_a_foreign_cursor_is_422_naming_the_parameter(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for path in (ROLES, VERSIONS, f"/api/v1/servers/{uuid.uuid4()}/discoveries"):
        problem = assert_problem(
            await client.get(path, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=tenant.headers),
            422,
            "invalid-cursor",
        )
        assert problem["errors"][0]["loc"] == ["query", "cursor"], path


async def test_limit_is_bounded(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for path in (ROLES, VERSIONS):
        for limit in (0, 201):
            problem = assert_problem(
                await client.get(path, params={"limit": limit}, headers=tenant.headers), 422
            )
            assert problem["errors"][0]["loc"] == ["query", "limit"]
