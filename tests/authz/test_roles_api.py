"""Built-in roles across the API, custom roles, inheritance, the union rule and the grant limit."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.authz.permissions import BUILT_IN_ROLES
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem

# (method, path, body, permission it needs)
OPERATIONS: list[tuple[str, str, dict[str, object] | None, str]] = [
    ("GET", "/api/v1/api-keys", None, "api_keys:read"),
    ("POST", "/api/v1/api-keys", {"name": "k", "scopes": ["servers:read"]}, "api_keys:write"),
    ("GET", "/api/v1/users", None, "users:read"),
    ("POST", "/api/v1/users", {"email": "x-{n}@example.com", "roles": []}, "users:write"),
    ("GET", "/api/v1/roles", None, "roles:read"),
    ("POST", "/api/v1/roles", {"name": "r-{n}", "permissions": []}, "roles:write"),
    ("GET", "/api/v1/policies", None, "policies:read"),
    ("POST", "/api/v1/policies", {"text": ""}, "policies:write"),
    ("GET", "/api/v1/policies/versions", None, "policies:read"),
]


@pytest.mark.parametrize("role", sorted(BUILT_IN_ROLES))
async def test_each_built_in_role_can_do_exactly_what_it_grants(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory, role: str
) -> None:
    member = await make_member(tenant, [role])
    for n, (method, path, body, permission) in enumerate(OPERATIONS):
        payload = (
            {k: v.format(n=f"{role}{n}") if isinstance(v, str) else v for k, v in body.items()}
            if body
            else None
        )
        response = await client.request(method, path, json=payload, headers=member.headers)
        if permission in BUILT_IN_ROLES[role]:
            assert response.status_code in (200, 201), (role, method, path, response.text)
        else:
            problem = assert_problem(response, 403, "policy-denied")
            assert problem["decision_id"]
            assert problem["action"] == permission
            assert permission in problem["detail"]


async def test_roles_list_shows_built_ins_with_permissions(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    roles = {
        r["name"]: r
        for r in (await client.get("/api/v1/roles", headers=tenant.headers)).json()["items"]
    }
    assert set(BUILT_IN_ROLES) <= set(roles)
    assert roles["viewer"]["built_in"] is True
    assert set(roles["viewer"]["effective_permissions"]) == BUILT_IN_ROLES["viewer"]


async def test_custom_role_with_inheritance_and_union_of_roles(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    created = await client.post(
        "/api/v1/roles",
        json={"name": "key-reader", "permissions": ["api_keys:read"], "extends": ["viewer"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    effective = set(created.json()["effective_permissions"])
    assert effective == BUILT_IN_ROLES["viewer"] | {"api_keys:read"}
    second = await client.post(
        "/api/v1/roles",
        json={"name": "key-auditor", "permissions": ["audit:read"], "extends": ["key-reader"]},
        headers=tenant.headers,
    )
    assert set(second.json()["effective_permissions"]) == effective | {"audit:read"}

    member = await make_member(tenant, ["key-auditor"])
    assert (await client.get("/api/v1/api-keys", headers=member.headers)).status_code == 200
    assert_problem(await client.get("/api/v1/users", headers=member.headers), 403)
    # Union: a second role adds what the first lacks.
    assign = await client.put(
        f"/api/v1/users/{member.user_id}/roles/analyst", headers=tenant.headers
    )
    assert assign.status_code == 200
    assert sorted(assign.json()["roles"]) == ["analyst", "key-auditor"]
    assert (await client.get("/api/v1/users", headers=member.headers)).status_code == 200
    me = (await client.get("/api/v1/me", headers=member.headers)).json()
    assert "api_keys:read" in me["permissions"]
    assert "users:read" in me["permissions"]


async def test_role_removal_takes_effect_on_the_very_next_request(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["engineer"])
    assert (await client.get("/api/v1/api-keys", headers=member.headers)).status_code == 200
    removed = await client.delete(
        f"/api/v1/users/{member.user_id}/roles/engineer", headers=tenant.headers
    )
    assert removed.status_code == 200
    assert removed.json()["roles"] == []
    assert_problem(await client.get("/api/v1/api-keys", headers=member.headers), 403)
    await client.put(f"/api/v1/users/{member.user_id}/roles/engineer", headers=tenant.headers)
    assert (await client.get("/api/v1/api-keys", headers=member.headers)).status_code == 200


async def test_changing_a_custom_role_changes_its_holders_at_once(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    await client.post(
        "/api/v1/roles",
        json={"name": "keys", "permissions": ["api_keys:read"]},
        headers=tenant.headers,
    )
    member = await make_member(tenant, ["keys"])
    assert (await client.get("/api/v1/api-keys", headers=member.headers)).status_code == 200
    patched = await client.patch(
        "/api/v1/roles/keys", json={"permissions": ["users:read"]}, headers=tenant.headers
    )
    assert patched.status_code == 200
    assert_problem(await client.get("/api/v1/api-keys", headers=member.headers), 403)
    assert (await client.get("/api/v1/users", headers=member.headers)).status_code == 200


async def test_removed_member_keys_stop_working(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["engineer"])
    assert (
        await client.delete(f"/api/v1/users/{member.user_id}", headers=tenant.headers)
    ).status_code == 204
    # Removal revokes the member's keys in the same step (issue 9).
    assert_problem(
        await client.get("/api/v1/api-keys", headers=member.headers), 401, "credentials-revoked"
    )
    assert_problem(await client.get(f"/api/v1/users/{member.user_id}", headers=tenant.headers), 404)


async def test_grant_limit_names_the_missing_permission(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    await client.post(
        "/api/v1/roles",
        json={
            "name": "people",
            "permissions": ["users:read", "users:write"],
            "extends": ["viewer"],
        },
        headers=tenant.headers,
    )
    manager = await make_member(tenant, ["people"])
    target = await make_member(tenant, [])
    above = await client.put(
        f"/api/v1/users/{target.user_id}/roles/engineer", headers=manager.headers
    )
    problem = assert_problem(above, 403, "grant-above-granter")
    assert "api_keys:read" in problem["missing_permissions"]
    assert "api_keys:read" in problem["detail"]
    member = (await client.get(f"/api/v1/users/{target.user_id}", headers=tenant.headers)).json()
    assert member["roles"] == []
    within = await client.put(
        f"/api/v1/users/{target.user_id}/roles/viewer", headers=manager.headers
    )
    assert within.status_code == 200
    assert within.json()["roles"] == ["viewer"]
    add_above = await client.post(
        "/api/v1/users",
        json={"email": "new@example.com", "roles": ["admin"]},
        headers=manager.headers,
    )
    assert_problem(add_above, 403, "grant-above-granter")


async def test_custom_role_cannot_exceed_its_creator(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    await client.post(
        "/api/v1/roles",
        json={"name": "role-maker", "permissions": ["roles:read", "roles:write"]},
        headers=tenant.headers,
    )
    maker = await make_member(tenant, ["role-maker"])
    response = await client.post(
        "/api/v1/roles", json={"name": "sneaky", "extends": ["admin"]}, headers=maker.headers
    )
    problem = assert_problem(response, 403, "grant-above-granter")
    assert "policies:write" in problem["missing_permissions"]


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"name": "bad name", "permissions": []}, "validation-failed"),
        ({"name": "x", "permissions": []}, "validation-failed"),
        ({"name": "r1", "permissions": ["servers:fly"]}, "validation-failed"),
        ({"name": "r1", "permissions": [], "extends": ["nobody"]}, "validation-failed"),
        ({"name": "r1", "permissions": [], "extends": ["Bad Name"]}, "validation-failed"),
        ({"name": "r1", "permissions": [], "extends": ["r1"]}, "role-cycle"),
        ({"name": "r1", "permissions": [], "colour": "red"}, "validation-failed"),
    ],
)
async def test_invalid_roles_are_4xx_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object], slug: str
) -> None:
    before = (await client.get("/api/v1/roles", headers=tenant.headers)).json()
    assert_problem(await client.post("/api/v1/roles", json=body, headers=tenant.headers), 422, slug)
    assert (await client.get("/api/v1/roles", headers=tenant.headers)).json() == before


async def test_cycles_through_several_roles_are_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for name, parents in (("ra", []), ("rb", ["ra"]), ("rc", ["rb"])):
        created = await client.post(
            "/api/v1/roles", json={"name": name, "extends": parents}, headers=tenant.headers
        )
        assert created.status_code == 201
    looped = await client.patch(
        "/api/v1/roles/ra", json={"extends": ["rc"]}, headers=tenant.headers
    )
    problem = assert_problem(looped, 422, "role-cycle")
    assert problem["cycle"] == ["ra", "rc", "rb", "ra"]
    assert (await client.get("/api/v1/roles/ra", headers=tenant.headers)).json()["extends"] == []


async def test_reserved_duplicate_built_in_and_in_use_roles(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    for name in ("admin", "viewer", "super_admin"):
        assert_problem(
            await client.post("/api/v1/roles", json={"name": name}, headers=tenant.headers),
            409,
            "role-exists",
        )
    assert_problem(
        await client.patch(
            "/api/v1/roles/viewer", json={"permissions": []}, headers=tenant.headers
        ),
        409,
        "built-in-role",
    )
    assert_problem(await client.delete("/api/v1/roles/admin", headers=tenant.headers), 409)
    await client.post("/api/v1/roles", json={"name": "held"}, headers=tenant.headers)
    assert_problem(
        await client.post("/api/v1/roles", json={"name": "held"}, headers=tenant.headers), 409
    )
    holder = await make_member(tenant, ["held"])
    problem = assert_problem(
        await client.delete("/api/v1/roles/held", headers=tenant.headers), 409, "role-in-use"
    )
    assert problem["holders"] == 1
    await client.delete(f"/api/v1/users/{holder.user_id}/roles/held", headers=tenant.headers)
    assert (await client.delete("/api/v1/roles/held", headers=tenant.headers)).status_code == 204
    assert_problem(
        await client.get("/api/v1/roles/held", headers=tenant.headers), 404, "role-not-found"
    )


async def test_last_admin_cannot_be_removed(client: httpx.AsyncClient, tenant: Tenant) -> None:
    demote = await client.delete(
        f"/api/v1/users/{tenant.user_id}/roles/admin", headers=tenant.headers
    )
    assert_problem(demote, 409, "last-admin")
    assert_problem(
        await client.delete(f"/api/v1/users/{tenant.user_id}", headers=tenant.headers), 409
    )
    assert (await client.get("/api/v1/me", headers=tenant.headers)).json()["permissions"]


async def test_key_acts_with_scopes_intersected_with_creator_permissions(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    narrow = await make_member(tenant, ["admin"], scopes=["servers:read"])
    assert_problem(
        await client.get("/api/v1/api-keys", headers=narrow.headers), 403, "insufficient-scope"
    )
    engineer = await make_member(tenant, ["engineer"], scopes=["admin"])
    me = (await client.get("/api/v1/me", headers=engineer.headers)).json()
    assert set(me["permissions"]) == BUILT_IN_ROLES["engineer"]
    assert_problem(
        await client.post("/api/v1/roles", json={"name": "zz"}, headers=engineer.headers),
        403,
        "policy-denied",
    )


async def test_role_and_membership_changes_are_audited(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory, runtime: Runtime
) -> None:
    await client.post("/api/v1/roles", json={"name": "audited"}, headers=tenant.headers)
    await client.patch("/api/v1/roles/audited", json={"description": "d"}, headers=tenant.headers)
    member = await make_member(tenant, ["viewer"])
    await client.put(f"/api/v1/users/{member.user_id}/roles/audited", headers=tenant.headers)
    await client.delete(f"/api/v1/users/{member.user_id}/roles/audited", headers=tenant.headers)
    await client.delete("/api/v1/roles/audited", headers=tenant.headers)
    await client.delete(f"/api/v1/users/{member.user_id}", headers=tenant.headers)
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = list((await session.scalars(select(AuditEvent.tag).order_by(AuditEvent.seq))).all())
    for tag in (
        "org:role:created",
        "org:role:updated",
        "org:member:added",
        "org:role:assigned",
        "org:role:unassigned",
        "org:role:deleted",
        "org:member:removed",
    ):
        assert tag in tags, tag


async def test_other_orgs_members_and_roles_are_404(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a = await make_tenant()
    org_b = await make_tenant()
    await client.post("/api/v1/roles", json={"name": "a-only"}, headers=org_a.headers)
    assert_problem(await client.get("/api/v1/roles/a-only", headers=org_b.headers), 404)
    assert_problem(await client.get(f"/api/v1/users/{org_a.user_id}", headers=org_b.headers), 404)
    assert_problem(
        await client.put(f"/api/v1/users/{org_a.user_id}/roles/viewer", headers=org_b.headers), 404
    )
    assert_problem(
        await client.delete(f"/api/v1/users/{org_a.user_id}", headers=org_b.headers), 404
    )
    listed = (await client.get("/api/v1/users", headers=org_b.headers)).json()["items"]
    assert [m["user_id"] for m in listed] == [str(org_b.user_id)]
