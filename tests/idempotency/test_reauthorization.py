"""A replay is an answer to the caller of today: credentials and permissions are checked again."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Member, MemberFactory, Tenant, assert_problem
from tests.idempotency.support import KEYS, replayed


def _headers(member: Member, key: str) -> dict[str, str]:
    return {**member.headers, "Idempotency-Key": key}


async def _issue(client: httpx.AsyncClient, member: Member, key: str) -> httpx.Response:
    return await client.post(
        KEYS, json={"name": "mine", "scopes": ["servers:read"]}, headers=_headers(member, key)
    )


async def _set_roles(
    client: httpx.AsyncClient, tenant: Tenant, member: Member, add: str, remove: str
) -> None:
    base = f"/api/v1/users/{member.user_id}/roles"
    assert (await client.put(f"{base}/{add}", headers=tenant.headers)).status_code == 200
    assert (await client.delete(f"{base}/{remove}", headers=tenant.headers)).status_code == 200


async def test_no_replay_after_the_permission_is_taken_away(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    key = str(uuid.uuid4())
    first = await _issue(client, engineer, key)
    assert first.status_code == 201, first.text
    plaintext = first.json()["key"]
    await _set_roles(client, tenant, engineer, add="viewer", remove="engineer")
    again = await _issue(client, engineer, key)
    assert_problem(again, 403, "policy-denied")
    assert not replayed(again)
    assert plaintext not in again.text
    # Given the permission back, the member gets the same answer again, not a second key.
    await _set_roles(client, tenant, engineer, add="engineer", remove="viewer")
    restored = await _issue(client, engineer, key)
    assert replayed(restored)
    assert restored.content == first.content


async def test_no_replay_when_a_policy_now_forbids_the_action(
    client: httpx.AsyncClient, make_tenant: object, make_member: MemberFactory
) -> None:
    tenant: Tenant = await make_tenant()  # type: ignore[operator]
    engineer = await make_member(tenant, ["engineer"])
    key = str(uuid.uuid4())
    first = await _issue(client, engineer, key)
    assert first.status_code == 201, first.text
    policy = """@id("no-new-keys")
forbid (principal, action == Action::"api_keys:write", resource);"""
    published = await client.post(
        "/api/v1/policies", json={"text": policy, "comment": "freeze"}, headers=tenant.headers
    )
    assert published.status_code == 201, published.text
    again = await _issue(client, engineer, key)
    assert_problem(again, 403, "policy-denied")
    assert first.json()["key"] not in again.text


async def test_no_replay_for_a_revoked_key(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    engineer = await make_member(tenant, ["engineer"])
    key = str(uuid.uuid4())
    first = await _issue(client, engineer, key)
    assert first.status_code == 201, first.text
    revoked = await client.post(f"{KEYS}/{engineer.key_id}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200, revoked.text
    again = await _issue(client, engineer, key)
    assert_problem(again, 401, "credentials-revoked")
    assert first.json()["key"] not in again.text
