"""An object the caller may not read answers 404, as if it did not exist; 403 is for the
objects the caller can read but may not act on this way."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import MemberFactory, Tenant, assert_problem

SERVERS = "/api/v1/servers"


async def _server(
    client: httpx.AsyncClient, tenant: Tenant, environment: str, tags: list[str] | None = None
) -> str:
    created = await client.post(
        SERVERS,
        json={
            "name": f"srv-{uuid.uuid4().hex[:8]}",
            "url": "https://mcp.example.com/mcp",
            "environment": environment,
            "tags": tags or [],
            "auto_discover": False,
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    server_id: str = created.json()["server"]["id"]
    return server_id


def _same_as_unknown(hidden: httpx.Response, unknown: httpx.Response, real_id: str) -> None:
    """The two answers differ only in the id asked for and the per-request fields."""
    a, b = hidden.json(), unknown.json()
    for body in (a, b):
        body.pop("request_id")
        body.pop("instance")
    unknown_id = unknown.request.url.path.split("/")[4]
    assert a == {
        k: (v.replace(unknown_id, real_id) if isinstance(v, str) else v) for k, v in b.items()
    }


@pytest.fixture
async def production(client: httpx.AsyncClient, tenant: Tenant) -> str:
    return await _server(client, tenant, "production")


async def test_a_viewer_cannot_tell_a_production_server_from_an_unknown_id(
    client: httpx.AsyncClient, tenant: Tenant, production: str, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    unknown = str(uuid.uuid4())
    for suffix in ("", "/snapshots", "/capabilities", "/snapshots/1/diff/2"):
        hidden = await client.get(f"{SERVERS}/{production}{suffix}", headers=viewer.headers)
        absent = await client.get(f"{SERVERS}/{unknown}{suffix}", headers=viewer.headers)
        assert_problem(hidden, 404, "server-not-found")
        assert_problem(absent, 404, "server-not-found")
        _same_as_unknown(hidden, absent, production)
    # Changes a viewer may make to no server at all are refused alike, before any lookup.
    for method, suffix, body in (
        ("PATCH", "", {"description": "x"}),
        ("DELETE", "", None),
        ("POST", "/discoveries", {}),
        ("POST", "/connection-check", None),
    ):
        kwargs: dict[str, Any] = {"headers": viewer.headers}
        if body is not None:
            kwargs["json"] = body
        hidden = await client.request(method, f"{SERVERS}/{production}{suffix}", **kwargs)
        absent = await client.request(method, f"{SERVERS}/{unknown}{suffix}", **kwargs)
        assert hidden.status_code == absent.status_code == 403
        assert hidden.json()["type"] == absent.json()["type"]
    # The admin still reaches it: it was hidden, not gone.
    assert (await client.get(f"{SERVERS}/{production}", headers=tenant.headers)).status_code == 200


async def test_a_discovery_of_a_hidden_server_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, production: str, make_member: MemberFactory
) -> None:
    queued = await client.post(f"{SERVERS}/{production}/discoveries", headers=tenant.headers)
    assert queued.status_code == 202, queued.text
    discovery_id = queued.json()["id"]
    viewer = await make_member(tenant, ["viewer"])
    hidden = await client.get(f"/api/v1/discoveries/{discovery_id}", headers=viewer.headers)
    absent = await client.get(f"/api/v1/discoveries/{uuid.uuid4()}", headers=viewer.headers)
    assert_problem(hidden, 404, "discovery-not-found")
    assert_problem(absent, 404, "discovery-not-found")


async def test_what_the_caller_can_read_but_not_change_is_still_403(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    staging = await _server(client, tenant, "staging")
    viewer = await make_member(tenant, ["viewer"])
    changed = await client.patch(
        f"{SERVERS}/{staging}", json={"description": "x"}, headers=viewer.headers
    )
    assert_problem(changed, 403)


async def test_a_writer_without_production_gets_404_for_production_servers(
    client: httpx.AsyncClient, tenant: Tenant, production: str, make_member: MemberFactory
) -> None:
    role = await client.post(
        "/api/v1/roles",
        json={
            "name": f"w-{uuid.uuid4().hex[:6]}",
            "permissions": ["servers:read", "servers:write"],
        },
        headers=tenant.headers,
    )
    assert role.status_code == 201, role.text
    writer = await make_member(tenant, [role.json()["name"]])
    staging = await _server(client, tenant, "staging")
    for method, suffix in (
        ("DELETE", ""),
        ("PATCH", ""),
        ("POST", "/discoveries"),
        ("POST", "/connection-check"),
    ):
        kwargs: dict[str, Any] = {"headers": writer.headers}
        if method == "PATCH":
            kwargs["json"] = {"description": "x"}
        hidden = await client.request(method, f"{SERVERS}/{production}{suffix}", **kwargs)
        absent = await client.request(method, f"{SERVERS}/{uuid.uuid4()}{suffix}", **kwargs)
        assert_problem(hidden, 404, "server-not-found")
        assert_problem(absent, 404, "server-not-found")
    patched = await client.patch(
        f"{SERVERS}/{staging}", json={"description": "mine"}, headers=writer.headers
    )
    assert patched.status_code == 200, patched.text
    # Moving a server it can read into production is refused as a 403: it knows the server.
    assert_problem(
        await client.patch(
            f"{SERVERS}/{staging}", json={"environment": "production"}, headers=writer.headers
        ),
        403,
        "policy-denied",
    )


LOCKED = """@id("locked")
forbid (principal, action == Action::"servers:write", resource is Server)
when { resource.tags.contains("locked") };"""


async def test_a_policy_that_forbids_only_writing_answers_403(
    client: httpx.AsyncClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    locked = await _server(client, tenant, "staging", tags=["locked"])
    published = await client.post(
        "/api/v1/policies", json={"text": LOCKED, "comment": "lock"}, headers=tenant.headers
    )
    assert published.status_code == 201, published.text
    assert (await client.get(f"{SERVERS}/{locked}", headers=tenant.headers)).status_code == 200
    assert_problem(
        await client.patch(
            f"{SERVERS}/{locked}", json={"description": "x"}, headers=tenant.headers
        ),
        403,
        "policy-denied",
    )


HIDDEN = """@id("hidden")
forbid (principal, action, resource is Server)
when { resource.tags.contains("hidden") };"""


async def test_a_policy_that_hides_a_server_answers_404_for_every_action(
    client: httpx.AsyncClient, make_tenant: Any
) -> None:
    tenant = await make_tenant()
    hidden = await _server(client, tenant, "staging", tags=["hidden"])
    published = await client.post(
        "/api/v1/policies", json={"text": HIDDEN, "comment": "hide"}, headers=tenant.headers
    )
    assert published.status_code == 201, published.text
    for method in ("GET", "DELETE"):
        assert_problem(
            await client.request(method, f"{SERVERS}/{hidden}", headers=tenant.headers),
            404,
            "server-not-found",
        )


async def test_a_role_the_caller_may_not_read_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    role = await client.post(
        "/api/v1/roles",
        json={"name": f"m-{uuid.uuid4().hex[:6]}", "permissions": ["users:read", "users:write"]},
        headers=tenant.headers,
    )
    assert role.status_code == 201, role.text
    secret = await client.post(
        "/api/v1/roles",
        json={"name": f"s-{uuid.uuid4().hex[:6]}", "permissions": ["audit:read"]},
        headers=tenant.headers,
    )
    assert secret.status_code == 201, secret.text
    manager = await make_member(tenant, [role.json()["name"]])
    target = await make_member(tenant, ["viewer"])
    existing = await client.put(
        f"/api/v1/users/{target.user_id}/roles/{secret.json()['name']}", headers=manager.headers
    )
    absent = await client.put(
        f"/api/v1/users/{target.user_id}/roles/no-such-role", headers=manager.headers
    )
    assert_problem(absent, 404, "role-not-found")
    assert_problem(existing, 404, "role-not-found")
