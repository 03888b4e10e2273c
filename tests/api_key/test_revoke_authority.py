"""Who may revoke which key: the grant limit, applied to revocation (issue 9, Medium)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text

from sprintconnect.api_key.service import ApiKeyService
from sprintconnect.db.owner import owner_transaction
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from sprintconnect.runtime import Runtime
from tests.conftest import Member, MemberFactory, Tenant, TenantFactory, assert_problem


async def revoke(
    client: httpx.AsyncClient, key_id: uuid.UUID, caller: Tenant | Member
) -> httpx.Response:
    return await client.post(f"/api/v1/api-keys/{key_id}/revoke", headers=caller.headers)


async def service_key(runtime: Runtime, tenant: Tenant, scopes: list[str]) -> Member:
    """A key no member owns, as ``sprintconnect admin create-api-key`` issues it."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        issued = await ApiKeyService(session, runtime.keyring, runtime.clock).issue(
            org_id=tenant.org_id,
            name="deploy",
            description=None,
            scopes=scopes,
            expires_at=None,
            created_by_user_id=None,
            actor=Actor("system", "cli"),
        )
    return Member(user_id=uuid.UUID(int=0), key_id=issued.record.id, key=issued.plaintext)


async def test_engineer_cannot_revoke_the_admins_bootstrap_key(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    problem = assert_problem(
        await revoke(client, tenant.key_id, engineer), 403, "key-above-revoker"
    )
    assert "users:write" in problem["missing_permissions"]
    assert (await client.get("/api/v1/me", headers=tenant.headers)).status_code == 200
    item = await client.get(f"/api/v1/api-keys/{tenant.key_id}", headers=engineer.headers)
    assert item.json()["status"] == "active"


async def test_a_member_may_revoke_their_own_keys(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    response = await revoke(client, engineer.key_id, engineer)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"


async def test_revoking_another_members_key_needs_every_permission_it_acts_with(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    # An admin-scoped key of an analyst acts with the analyst's permissions only.
    analyst = await make_member(tenant, ["analyst"])
    problem = assert_problem(
        await revoke(client, analyst.key_id, engineer), 403, "key-above-revoker"
    )
    assert problem["missing_permissions"] == ["audit:read", "exports:read", "exports:write"]
    # A viewer's key acts with less than the engineer holds: revocable.
    viewer = await make_member(tenant, ["viewer"])
    assert (await revoke(client, viewer.key_id, engineer)).status_code == 200
    # The admin holds everything.
    assert (await revoke(client, analyst.key_id, tenant)).status_code == 200


async def test_the_callers_own_key_scopes_bound_what_it_may_revoke(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    narrow = (
        await client.post(
            "/api/v1/api-keys",
            json={"name": "rotator", "scopes": ["api_keys:write"]},
            headers=tenant.headers,
        )
    ).json()
    caller = Member(tenant.user_id, uuid.UUID(narrow["api_key"]["id"]), narrow["key"])
    viewer = await make_member(tenant, ["viewer"])
    assert_problem(await revoke(client, viewer.key_id, caller), 403, "key-above-revoker")
    # Its owner's other keys are its own: the admin may always revoke their own.
    assert (await revoke(client, tenant.key_id, caller)).status_code == 200


async def test_service_keys_are_revoked_only_by_admins(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    deploy = await service_key(runtime, tenant, ["servers:read"])
    engineer = await make_member(tenant, ["engineer"])
    problem = assert_problem(
        await revoke(client, deploy.key_id, engineer), 403, "key-above-revoker"
    )
    assert problem["operator_key"] is True
    listed = await client.get(f"/api/v1/api-keys/{deploy.key_id}", headers=engineer.headers)
    assert listed.json()["kind"] == "service"
    assert listed.json()["created_by_user_id"] is None
    assert (await revoke(client, deploy.key_id, tenant)).status_code == 200
    # A service key may still revoke itself.
    other = await service_key(runtime, tenant, ["api_keys:write"])
    assert (await revoke(client, other.key_id, other)).status_code == 200


async def test_a_super_admins_key_is_revoked_only_by_admins(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    operator = await make_member(tenant, ["viewer"], ["read"])
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("UPDATE users SET is_super_admin = true WHERE id = :id"), {"id": operator.user_id}
        )
    engineer = await make_member(tenant, ["engineer"])
    problem = assert_problem(
        await revoke(client, operator.key_id, engineer), 403, "key-above-revoker"
    )
    assert problem["operator_key"] is True
    assert (await revoke(client, operator.key_id, tenant)).status_code == 200


async def test_a_refused_revocation_changes_nothing_and_audits_nothing(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    assert_problem(await revoke(client, tenant.key_id, engineer), 403, "key-above-revoker")
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        revoked = (
            await session.execute(
                text(
                    "SELECT count(*) FROM audit_events WHERE tag = 'org:api_key:revoked' "
                    "AND target_id = :id"
                ),
                {"id": str(tenant.key_id)},
            )
        ).scalar_one()
    assert revoked == 0


async def test_another_orgs_key_is_404_not_403(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    assert_problem(await revoke(client, other.key_id, tenant), 404, "api-key-not-found")


async def test_a_caller_who_cannot_read_keys_learns_nothing_from_a_refusal(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    role = {"name": "key-killer", "permissions": ["api_keys:write"], "extends": []}
    assert (await client.post("/api/v1/roles", json=role, headers=tenant.headers)).is_success
    caller = await make_member(tenant, ["key-killer"])
    assert_problem(await revoke(client, tenant.key_id, caller), 404, "api-key-not-found")
    assert (await revoke(client, caller.key_id, caller)).status_code == 200
