"""API key lifecycle through the HTTP API (story 1.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import ApiKey, AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import ShiftableClock, Tenant, assert_problem


async def create_key(client: httpx.AsyncClient, tenant: Tenant, **body: object) -> httpx.Response:
    payload = {"name": "ci", "scopes": ["servers:read"], **body}
    return await client.post("/api/v1/api-keys", json=payload, headers=tenant.headers)


async def test_created_key_is_shown_once_and_authenticates(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await create_key(client, tenant, description="pipeline", scopes=["read"])
    assert response.status_code == 201
    created = response.json()
    key = created["key"]
    assert key.startswith(f"sc_{created['api_key']['prefix']}_")
    assert created["api_key"]["status"] == "active"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["api_key_id"] == created["api_key"]["id"]
    assert me.json()["scopes"] == ["read"]
    # The key never appears again: not in the list, not in the item.
    listed = await client.get("/api/v1/api-keys", headers=tenant.headers)
    item = await client.get(f"/api/v1/api-keys/{created['api_key']['id']}", headers=tenant.headers)
    assert key not in listed.text
    assert key not in item.text
    assert "key_hash" not in item.text


async def test_only_an_hmac_of_the_key_is_stored(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    created = (await create_key(client, tenant)).json()
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        row = await session.scalar(
            select(ApiKey).where(ApiKey.prefix == created["api_key"]["prefix"])
        )
    assert row is not None
    assert len(row.key_hash) == 32
    assert created["key"].encode() not in row.key_hash
    # The secret may itself hold '_': cut the known "sc_<prefix>_" head, never split on '_'.
    secret_part = created["key"].removeprefix(f"sc_{created['api_key']['prefix']}_")
    assert len(secret_part) >= 32
    assert secret_part.encode() not in row.key_hash


async def test_default_lifetime_is_ninety_days(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = (await create_key(client, tenant)).json()["api_key"]
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)


@pytest.mark.parametrize(
    ("body", "expect_expiry"),
    [
        ({"expires_in_days": 7}, True),
        ({"expires_at": "2099-01-01T00:00:00Z"}, True),
        ({"never_expires": True}, False),
    ],
)
async def test_expiry_options(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object], expect_expiry: bool
) -> None:
    response = await create_key(client, tenant, **body)
    assert response.status_code == 201, response.text
    assert (response.json()["api_key"]["expires_at"] is not None) is expect_expiry


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "scopes": ["read"]},
        {"name": "x" * 101, "scopes": ["read"]},
        {"name": "bell\x07", "scopes": ["read"]},
        {"name": "k", "scopes": []},
        {"name": "k", "scopes": ["servers:fly"]},
        {"name": "k", "scopes": ["root"]},
        {"name": "k", "scopes": "read"},
        {"name": 5, "scopes": ["read"]},
        {"name": "k", "scopes": ["read"], "expires_in_days": 0},
        {"name": "k", "scopes": ["read"], "expires_in_days": 99999},
        {"name": "k", "scopes": ["read"], "expires_at": "2099-01-01T00:00:00"},
        {"name": "k", "scopes": ["read"], "expires_at": "not a date"},
        {"name": "k", "scopes": ["read"], "expires_at": "2000-01-01T00:00:00Z"},
        {"name": "k", "scopes": ["read"], "expires_in_days": 5, "never_expires": True},
        {"name": "k", "scopes": ["read"], "owner": "someone-else"},
        {"scopes": ["read"]},
    ],
)
async def test_invalid_create_is_422_and_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object]
) -> None:
    before = (await client.get("/api/v1/api-keys", headers=tenant.headers)).json()["items"]
    response = await client.post("/api/v1/api-keys", json=body, headers=tenant.headers)
    problem = assert_problem(response, 422)
    assert problem["detail"]
    after = (await client.get("/api/v1/api-keys", headers=tenant.headers)).json()["items"]
    assert len(after) == len(before)


async def test_unknown_field_is_named_in_errors(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await create_key(client, tenant, owner="x")
    problem = assert_problem(response, 422, "validation-failed")
    assert ["body", "owner"] in [e["loc"] for e in problem["errors"]]


async def test_key_cannot_grant_more_than_it_holds(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    narrow = (await create_key(client, tenant, scopes=["api_keys:write"])).json()["key"]
    headers = {"Authorization": f"Bearer {narrow}"}
    response = await client.post(
        "/api/v1/api-keys", json={"name": "wider", "scopes": ["admin"]}, headers=headers
    )
    problem = assert_problem(response, 403, "scope-above-granter")
    assert problem["missing_scopes"] == ["admin"]
    same = await client.post(
        "/api/v1/api-keys", json={"name": "same", "scopes": ["api_keys:read"]}, headers=headers
    )
    assert same.status_code == 201


async def test_list_paginates_newest_first_with_stable_cursor(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ids = [
        (await create_key(client, tenant, name=f"k{i}")).json()["api_key"]["id"] for i in range(5)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/api-keys", params=params, headers=tenant.headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:5] == list(reversed(ids))
    assert str(tenant.key_id) == seen[-1]
    assert len(seen) == len(set(seen)) == 6


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "eyJhIjoxfQ",
        "!!!",
        "W10",
        # ["2026-01-01T00:00:00", 5] and ["2026-01-01T00:00:00", null]: right shape, wrong types
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgNV0",
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgbnVsbF0",
    ],
)
async def test_bad_cursor_is_422(client: httpx.AsyncClient, tenant: Tenant, cursor: str) -> None:
    response = await client.get(
        "/api/v1/api-keys", params={"cursor": cursor}, headers=tenant.headers
    )
    assert_problem(response, 422, "invalid-cursor")


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten"])
async def test_bad_limit_is_422(client: httpx.AsyncClient, tenant: Tenant, limit: str) -> None:
    response = await client.get("/api/v1/api-keys", params={"limit": limit}, headers=tenant.headers)
    assert_problem(response, 422, "validation-failed")


async def test_revoked_key_is_refused_on_the_next_request(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    created = (await create_key(client, tenant, scopes=["read"])).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    revoke = await client.post(
        f"/api/v1/api-keys/{created['api_key']['id']}/revoke", headers=tenant.headers
    )
    assert revoke.status_code == 200
    assert revoke.json()["status"] == "revoked"
    assert_problem(await client.get("/api/v1/me", headers=headers), 401, "credentials-revoked")
    again = await client.post(
        f"/api/v1/api-keys/{created['api_key']['id']}/revoke", headers=tenant.headers
    )
    assert again.json()["revoked_at"] == revoke.json()["revoked_at"]
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = (
            await session.scalars(
                select(AuditEvent.tag).where(AuditEvent.target_id == created["api_key"]["id"])
            )
        ).all()
    assert tags.count("org:api_key:revoked") == 1
    assert "org:api_key:created" in tags
    assert "org:api_key:auth_revoked" in tags


async def test_a_key_can_revoke_itself(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(f"/api/v1/api-keys/{tenant.key_id}/revoke", headers=tenant.headers)
    assert response.status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=tenant.headers), 401)


async def test_expired_key_answers_401_saying_it_expired(
    client: httpx.AsyncClient, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    created = (await create_key(client, tenant, expires_in_days=7, scopes=["read"])).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    moved_clock.offset = timedelta(days=8)
    problem = assert_problem(
        await client.get("/api/v1/me", headers=headers), 401, "credentials-expired"
    )
    assert "expired" in problem["detail"]
    assert problem["expired_at"] == created["api_key"]["expires_at"].replace("Z", "+00:00")
    listed = await client.get(
        f"/api/v1/api-keys/{created['api_key']['id']}", headers=tenant.headers
    )
    assert listed.json()["status"] == "expired"


async def test_last_used_is_recorded_and_debounced(
    client: httpx.AsyncClient, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    created = (await create_key(client, tenant, scopes=["read"])).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    url = f"/api/v1/api-keys/{created['api_key']['id']}"
    assert (await client.get(url, headers=tenant.headers)).json()["last_used_at"] is None
    await client.get("/api/v1/me", headers=headers)
    first = (await client.get(url, headers=tenant.headers)).json()["last_used_at"]
    assert first is not None
    await client.get("/api/v1/me", headers=headers)
    assert (await client.get(url, headers=tenant.headers)).json()["last_used_at"] == first
    moved_clock.offset = timedelta(minutes=2)
    await client.get("/api/v1/me", headers=headers)
    assert (await client.get(url, headers=tenant.headers)).json()["last_used_at"] > first


async def test_get_unknown_key_is_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(
        "/api/v1/api-keys/00000000-0000-4000-8000-000000000000", headers=tenant.headers
    )
    assert_problem(response, 404, "api-key-not-found")


@pytest.mark.parametrize("bad", ["nope", "1234", "00000000-0000-4000-8000-00000000000g", "%00"])
async def test_malformed_ids_are_422(client: httpx.AsyncClient, tenant: Tenant, bad: str) -> None:
    assert_problem(await client.get(f"/api/v1/api-keys/{bad}", headers=tenant.headers), 422)
    assert_problem(await client.post(f"/api/v1/api-keys/{bad}/revoke", headers=tenant.headers), 422)
