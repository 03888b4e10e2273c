"""A member's keys end with the member: removal revokes, deletion cannot orphan (issue 9)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from sprintconnect.db.owner import owner_transaction
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.cache import forget_now
from sprintconnect.models import ApiKey, AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem


async def test_removing_a_member_revokes_their_keys_audited(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["engineer"])
    second = (
        await client.post(
            "/api/v1/api-keys", json={"name": "own", "scopes": ["read"]}, headers=member.headers
        )
    ).json()
    removed = await client.delete(f"/api/v1/users/{member.user_id}", headers=tenant.headers)
    assert removed.status_code == 204
    for key_id in (str(member.key_id), second["api_key"]["id"]):
        item = (await client.get(f"/api/v1/api-keys/{key_id}", headers=tenant.headers)).json()
        assert item["status"] == "revoked"
        assert item["kind"] == "user"
        assert item["created_by_user_id"] == str(member.user_id)
    assert_problem(
        await client.get("/api/v1/me", headers=member.headers), 401, "credentials-revoked"
    )
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        events = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.tag == "org:api_key:revoked",
                    AuditEvent.target_id.in_([str(member.key_id), second["api_key"]["id"]]),
                )
            )
        ).all()
    assert len(events) == 2
    assert {e.details["reason"] for e in events} == {"member_removed"}
    assert {e.actor_id for e in events} == {str(tenant.key_id)}


async def test_removal_revokes_keys_in_this_organization_only(
    client: httpx.AsyncClient,
    tenant: Tenant,
    make_tenant: TenantFactory,
    make_member: MemberFactory,
) -> None:
    member = await make_member(tenant, ["viewer"], ["read"])
    other = await make_tenant()
    # The same person in another organization keeps their key there.
    email = (await client.get(f"/api/v1/users/{member.user_id}", headers=tenant.headers)).json()[
        "email"
    ]
    joined = await client.post(
        "/api/v1/users", json={"email": email, "roles": ["viewer"]}, headers=other.headers
    )
    assert joined.status_code == 201
    kept = (
        await client.post(
            "/api/v1/api-keys", json={"name": "b", "scopes": ["read"]}, headers=other.headers
        )
    ).json()
    assert (
        await client.delete(f"/api/v1/users/{member.user_id}", headers=tenant.headers)
    ).status_code == 204
    item = await client.get(f"/api/v1/api-keys/{kept['api_key']['id']}", headers=other.headers)
    assert item.json()["status"] == "active"


async def test_deleting_a_user_never_leaves_an_ownerless_key(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    # A viewer holding an admin-scoped key acts as a viewer: no member list.
    viewer = await make_member(tenant, ["viewer"], ["admin"])
    assert_problem(await client.get("/api/v1/users", headers=viewer.headers), 403)
    async with owner_transaction(runtime.db) as session:
        await session.execute(text("DELETE FROM users WHERE id = :id"), {"id": viewer.user_id})
    forget_now({"*"})  # a write behind the app's back: past the key cache's bound
    # Before the fix the key lost its owner and acted with its scopes alone: a full admin.
    assert_problem(await client.get("/api/v1/users", headers=viewer.headers), 401)
    async with owner_transaction(runtime.db) as session:
        orphans = (
            await session.execute(
                text(
                    "SELECT count(*) FROM api_keys "
                    "WHERE kind = 'user' AND created_by_user_id IS NULL"
                )
            )
        ).scalar_one()
    assert orphans == 0


async def test_a_user_keys_owner_cannot_be_cleared(
    runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["viewer"], ["read"])
    with pytest.raises(IntegrityError, match="ck_api_keys_kind"):
        async with owner_transaction(runtime.db) as session:
            await session.execute(
                text("UPDATE api_keys SET created_by_user_id = NULL WHERE id = :id"),
                {"id": member.key_id},
            )


async def test_a_user_key_whose_member_is_gone_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["engineer"], ["read"])
    assert (await client.get("/api/v1/me", headers=member.headers)).status_code == 200
    # The membership vanishes without the API (and so without revoking the key).
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            text("DELETE FROM memberships WHERE org_id = :o AND user_id = :u"),
            {"o": tenant.org_id, "u": member.user_id},
        )
    forget_now({"*"})  # a write behind the app's back: past the key cache's bound
    assert_problem(
        await client.get("/api/v1/me", headers=member.headers), 401, "credentials-revoked"
    )
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        key = await session.scalar(select(ApiKey).where(ApiKey.id == member.key_id))
    assert key is not None
    assert key.created_by_user_id == member.user_id


async def test_a_service_key_cannot_mint_keys_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    from tests.api_key.test_revoke_authority import service_key

    deploy = await service_key(runtime, tenant, ["api_keys:write"])
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "child", "scopes": ["api_keys:read"]},
        headers=deploy.headers,
    )
    assert_problem(response, 403, "key-owner-required")
    assert uuid.UUID(str(deploy.key_id))


async def test_removing_a_super_admin_takes_every_permission(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    people = {"name": "people", "permissions": ["users:read", "users:write"], "extends": ["viewer"]}
    assert (await client.post("/api/v1/roles", json=people, headers=tenant.headers)).is_success
    manager = await make_member(tenant, ["people"])
    operator = await make_member(tenant, ["viewer"], ["read"])
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("UPDATE users SET is_super_admin = true WHERE id = :id"), {"id": operator.user_id}
        )
    refused = await client.delete(f"/api/v1/users/{operator.user_id}", headers=manager.headers)
    problem = assert_problem(refused, 403, "grant-above-granter")
    assert "super_admin" in problem["detail"]
    assert (await client.get("/api/v1/me", headers=operator.headers)).status_code == 200
    removed = await client.delete(f"/api/v1/users/{operator.user_id}", headers=tenant.headers)
    assert removed.status_code == 204
