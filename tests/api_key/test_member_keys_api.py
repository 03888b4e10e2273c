"""Keys for members: an admin issues one, it acts with the member's live roles (issue 10, 4)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import Member, MemberFactory, Tenant, TenantFactory, assert_problem
from tests.integration.processes import cli_env, run_cli


async def add_member(client: httpx.AsyncClient, tenant: Tenant, roles: list[str]) -> str:
    email = f"m-{uuid.uuid4().hex[:10]}@example.com"
    added = await client.post(
        "/api/v1/users", json={"email": email, "roles": roles}, headers=tenant.headers
    )
    assert added.status_code == 201, added.text
    return str(added.json()["user_id"])


async def key_for(
    client: httpx.AsyncClient,
    caller: Tenant | Member,
    user_id: str,
    scopes: list[str],
    **extra: Any,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/users/{user_id}/api-keys",
        json={"name": "handed over", "scopes": scopes, **extra},
        headers=caller.headers,
    )


def bearer(created: httpx.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {created.json()['key']}"}


async def test_an_admin_issues_a_member_a_key_that_acts_as_the_member(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    user_id = await add_member(client, tenant, ["viewer"])
    created = await key_for(client, tenant, user_id, ["admin"], expires_in_days=7)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith(f"sc_{body['api_key']['prefix']}_")
    assert body["api_key"]["kind"] == "user"
    assert body["api_key"]["created_by_user_id"] == user_id
    assert body["api_key"]["status"] == "active"
    assert body["api_key"]["expires_at"] is not None
    me = await client.get("/api/v1/me", headers=bearer(created))
    assert me.status_code == 200, me.text
    assert me.json()["user_id"] == user_id
    # An admin-scoped key of a viewer acts as a viewer: reading yes, managing members no.
    assert (await client.get("/api/v1/servers", headers=bearer(created))).status_code == 200
    assert_problem(await client.get("/api/v1/users", headers=bearer(created)), 403)
    # The key is shown once: the listing never carries it.
    listed = await client.get(f"/api/v1/api-keys/{body['api_key']['id']}", headers=tenant.headers)
    assert "key" not in listed.json()


async def test_role_changes_and_removal_apply_on_the_next_request(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    user_id = await add_member(client, tenant, ["viewer"])
    created = await key_for(client, tenant, user_id, ["admin"])
    assert created.status_code == 201, created.text
    assert_problem(await client.get("/api/v1/api-keys", headers=bearer(created)), 403)
    promoted = await client.put(f"/api/v1/users/{user_id}/roles/engineer", headers=tenant.headers)
    assert promoted.status_code == 200, promoted.text
    assert (await client.get("/api/v1/api-keys", headers=bearer(created))).status_code == 200
    demoted = await client.delete(f"/api/v1/users/{user_id}/roles/engineer", headers=tenant.headers)
    assert demoted.status_code == 200, demoted.text
    assert_problem(await client.get("/api/v1/api-keys", headers=bearer(created)), 403)
    removed = await client.delete(f"/api/v1/users/{user_id}", headers=tenant.headers)
    assert removed.status_code == 204
    assert_problem(
        await client.get("/api/v1/me", headers=bearer(created)), 401, "credentials-revoked"
    )


async def test_the_key_may_not_reach_past_the_callers_permissions(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    role = f"people-{uuid.uuid4().hex[:8]}"
    made = await client.post(
        "/api/v1/roles",
        json={
            "name": role,
            "permissions": ["users:read", "users:write", "api_keys:write", "servers:read"],
        },
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    manager = await make_member(tenant, [role])
    engineer_id = await add_member(client, tenant, ["engineer"])
    # The engineer acts with servers:write; the manager does not hold it.
    problem = assert_problem(
        await key_for(client, manager, engineer_id, ["write"]), 403, "key-reach-above-granter"
    )
    assert "servers:write" in problem["missing_permissions"]
    # Within the manager's permissions it works; what the engineer holds beyond is cut off.
    narrow = await key_for(client, manager, engineer_id, ["servers:read"])
    assert narrow.status_code == 201, narrow.text
    assert narrow.json()["api_key"]["scopes"] == ["servers:read"]
    # Scopes the caller's own key lacks are refused as for the caller's own keys.
    reader_key = (
        await client.post(
            "/api/v1/api-keys",
            json={"name": "people", "scopes": ["users:write", "api_keys:write"]},
            headers=manager.headers,
        )
    ).json()["key"]
    reader = Member(user_id=manager.user_id, key_id=uuid.uuid4(), key=reader_key)
    assert_problem(
        await key_for(client, reader, engineer_id, ["servers:read"]), 403, "scope-above-granter"
    )


async def test_both_permissions_are_needed(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    user_id = await add_member(client, tenant, ["viewer"])
    engineer = await make_member(tenant, ["engineer"])  # api_keys:write, no users:write
    assert_problem(await key_for(client, engineer, user_id, ["read"]), 403)
    only_users = (
        await client.post(
            "/api/v1/api-keys",
            json={"name": "users", "scopes": ["users:write"]},
            headers=tenant.headers,
        )
    ).json()["key"]
    caller = Member(user_id=tenant.user_id, key_id=uuid.uuid4(), key=only_users)
    problem = assert_problem(await key_for(client, caller, user_id, ["read"]), 403)
    assert "api_keys:write" in json.dumps(problem)


async def test_a_platform_operators_key_is_not_an_organizations_to_mint(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    from tests.jobs.conftest import make_super_admin

    user_id = await add_member(client, tenant, ["viewer"])
    await make_super_admin(runtime, uuid.UUID(user_id))
    problem = assert_problem(
        await key_for(client, tenant, user_id, ["read"]), 403, "key-reach-above-granter"
    )
    assert "platform operator" in problem["detail"]


async def test_other_organizations_members_and_strangers_are_404(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    theirs = await add_member(client, other, ["viewer"])
    for user_id in (theirs, str(other.user_id), str(uuid.uuid4())):
        assert_problem(await key_for(client, tenant, user_id, ["read"]), 404, "member-not-found")
    assert_problem(await key_for(client, tenant, "not-a-uuid", ["read"]), 422)
    assert_problem(await key_for(client, tenant, theirs, ["fly"]), 422)


async def test_issuing_is_audited_with_the_member_as_owner_and_the_caller_as_actor(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    user_id = await add_member(client, tenant, ["analyst"])
    created = await key_for(client, tenant, user_id, ["read"])
    assert created.status_code == 201, created.text
    key_id = created.json()["api_key"]["id"]
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        (event,) = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.tag == "org:api_key:created", AuditEvent.target_id == key_id
                )
            )
        ).all()
    assert event.actor_type == "api_key"
    assert event.actor_id == str(tenant.key_id)
    assert event.details["owner_user_id"] == user_id
    assert event.details["issued_by_user_id"] == str(tenant.user_id)
    assert event.details["kind"] == "user"
    assert created.json()["key"] not in json.dumps(event.details)


def test_the_cli_issues_a_members_key_with_user(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, database_url)
    org = f"Member Keys {uuid.uuid4().hex[:8]}"
    boot = run_cli("admin", "bootstrap", "--org", org, "--email", "own@example.com", env=env)
    assert boot.returncode == 0, boot.stderr
    printed = json.loads(boot.stdout)
    slug = printed["organization"]["slug"]
    made = run_cli(
        "admin",
        "create-api-key",
        "--org",
        slug,
        "--name",
        "laptop",
        "--scope",
        "read",
        "--user",
        "own@EXAMPLE.com",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["api_key"]
    assert key["kind"] == "user"
    assert key["created_by_user_id"] == printed["user"]["id"]
    service = json.loads(
        run_cli("admin", "create-api-key", "--org", slug, "--name", "svc", env=env).stdout
    )["api_key"]
    assert service["kind"] == "service"
    assert service["created_by_user_id"] is None
    stranger = run_cli(
        "admin",
        "create-api-key",
        "--org",
        slug,
        "--name",
        "x",
        "--user",
        "nobody@example.com",
        env=env,
    )
    assert stranger.returncode == 1
    assert stranger.stderr.startswith("error:")
    assert "nobody@example.com" in stranger.stderr
    assert "Traceback" not in stranger.stderr
