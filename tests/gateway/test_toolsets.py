"""Toolsets: what they expose under which names, and every way a body can be wrong."""

from __future__ import annotations

import httpx

from sprintconnect.audit import AuditTag
from tests.conftest import TenantFactory, assert_problem
from tests.discovery.conftest import Waiter
from tests.gateway.conftest import Registered, register_and_discover
from tests.gateway.upstream import Upstream

TOOLSETS = "/api/v1/toolsets"


async def test_create_read_list_change_delete(
    wclient: httpx.AsyncClient, registered: Registered
) -> None:
    headers = registered.tenant.headers
    body = {
        "name": "support",
        "description": "Support agent",
        "servers": [
            {
                "server_id": registered.server_id,
                "tools": ["echo", "add", "gone"],
                "prefix": "s_",
                "rename": {"add": "sum"},
                "classes": {"echo": "expensive"},
            }
        ],
        "timeout_seconds": 12,
    }
    created = await wclient.post(TOOLSETS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    toolset = created.json()
    assert created.headers["location"] == f"{TOOLSETS}/{toolset['id']}"
    assert toolset["endpoint"] == f"/mcp/{registered.tenant.slug}/support"
    assert toolset["servers"][0]["server_name"] == registered.server_name
    exposed = (await wclient.get(f"{TOOLSETS}/{toolset['id']}/tools", headers=headers)).json()
    assert {(t["name"], t["upstream_name"], t["capability_class"]) for t in exposed["tools"]} == {
        ("s_echo", "echo", "expensive"),
        ("sum", "add", "read"),
    }
    assert exposed["missing"] == [{"server_id": registered.server_id, "tool": "gone"}]
    listed = (await wclient.get(TOOLSETS, headers=headers)).json()
    assert [t["name"] for t in listed["items"]] == ["support"]
    changed = await wclient.patch(
        f"{TOOLSETS}/{toolset['id']}",
        json={"servers": [{"server_id": registered.server_id}], "description": None},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["servers"][0]["tools"] is None
    assert changed.json()["description"] is None
    exposed = (await wclient.get(f"{TOOLSETS}/{toolset['id']}/tools", headers=headers)).json()
    assert "echo" in {t["name"] for t in exposed["tools"]}
    deleted = await wclient.delete(f"{TOOLSETS}/{toolset['id']}", headers=headers)
    assert deleted.status_code == 204
    again = await wclient.get(f"{TOOLSETS}/{toolset['id']}", headers=headers)
    assert_problem(again, 404, "toolset-not-found")
    entries = (
        await wclient.get(
            "/api/v1/audit/events",
            params={"target_type": "toolset", "target_id": toolset["id"]},
            headers=headers,
        )
    ).json()["items"]
    assert sorted(e["action"] for e in entries) == sorted(
        [
            str(AuditTag.TOOLSET_CREATED),
            str(AuditTag.TOOLSET_UPDATED),
            str(AuditTag.TOOLSET_DELETED),
        ]
    )
    updated = next(e for e in entries if e["action"] == str(AuditTag.TOOLSET_UPDATED))
    assert updated["details"]["fields"] == ["description", "servers"]


async def test_names_collide_only_when_nothing_tells_them_apart(
    wclient: httpx.AsyncClient, registered: Registered, upstream: Upstream, settled: Waiter
) -> None:
    twin = await register_and_discover(
        wclient, registered.tenant, upstream.url, settled, name="twin"
    )
    headers = registered.tenant.headers
    both = [{"server_id": registered.server_id}, {"server_id": twin.server_id}]
    collided = await wclient.post(TOOLSETS, json={"name": "both", "servers": both}, headers=headers)
    problem = assert_problem(collided, 422, "validation-failed")
    assert problem["errors"][0]["loc"] == ["body", "servers", 1, "prefix"]
    assert problem["errors"][0]["type"] == "name_collision"
    both[1]["prefix"] = "twin_"
    fine = await wclient.post(TOOLSETS, json={"name": "both", "servers": both}, headers=headers)
    assert fine.status_code == 201, fine.text


async def test_bad_bodies_are_422_and_duplicates_409(
    wclient: httpx.AsyncClient, registered: Registered, make_tenant: TenantFactory
) -> None:
    headers = registered.tenant.headers
    server = {"server_id": registered.server_id}
    for name in ["", "UPPER", "-lead", "a" * 64, "with space", "dot.ted", "nul\u0000"]:
        answer = await wclient.post(
            TOOLSETS, json={"name": name, "servers": [server]}, headers=headers
        )
        assert answer.status_code == 422, (name, answer.text)
    for bad_server in [
        {"server_id": "not-a-uuid"},
        {"server_id": registered.server_id, "tools": ["bad name"]},
        {"server_id": registered.server_id, "rename": {"echo": "x y"}},
        {"server_id": registered.server_id, "classes": {"echo": "cheap"}},
        {"server_id": registered.server_id, "prefix": "bad prefix"},
        {"server_id": registered.server_id, "unknown": 1},
    ]:
        answer = await wclient.post(
            TOOLSETS, json={"name": "x", "servers": [bad_server]}, headers=headers
        )
        assert answer.status_code == 422, (bad_server, answer.text)
    stranger = await make_tenant()
    foreign = await wclient.post(
        TOOLSETS, json={"name": "x", "servers": [server]}, headers=stranger.headers
    )
    problem = assert_problem(foreign, 422, "validation-failed")
    assert problem["errors"][0]["loc"] == ["body", "servers", 0, "server_id"]
    twice = await wclient.post(
        TOOLSETS, json={"name": "x", "servers": [server, server]}, headers=headers
    )
    assert_problem(twice, 422, "validation-failed")
    first = await wclient.post(TOOLSETS, json={"name": "dup", "servers": [server]}, headers=headers)
    assert first.status_code == 201
    second = await wclient.post(
        TOOLSETS, json={"name": "dup", "servers": [server]}, headers=headers
    )
    assert_problem(second, 409, "toolset-name-taken")
    # Another organization's toolset is not found, whatever it tries.
    toolset_id = first.json()["id"]
    for method in ("GET", "PATCH", "DELETE"):
        answer = await wclient.request(
            method,
            f"{TOOLSETS}/{toolset_id}",
            json={} if method == "PATCH" else None,
            headers=stranger.headers,
        )
        assert_problem(answer, 404, "toolset-not-found")
    assert (await wclient.get(TOOLSETS, headers=stranger.headers)).json()["items"] == []
    assert_problem(
        await wclient.get(f"{TOOLSETS}?cursor=%%%", headers=headers), 422, "invalid-cursor"
    )


async def test_roles_decide_who_manages_and_who_calls(
    wclient: httpx.AsyncClient, registered: Registered, make_member: object
) -> None:
    viewer = await make_member(registered.tenant, ["viewer"])  # type: ignore[operator]
    listed = await wclient.get(TOOLSETS, headers=viewer.headers)
    assert listed.status_code == 200
    create = await wclient.post(
        TOOLSETS,
        json={"name": "v", "servers": [{"server_id": registered.server_id}]},
        headers=viewer.headers,
    )
    assert create.status_code == 403
    call = await wclient.post(
        f"/api/v1/servers/{registered.server_id}/tools/echo/invoke",
        json={"arguments": {"text": "x"}},
        headers=viewer.headers,
    )
    assert call.status_code == 403
