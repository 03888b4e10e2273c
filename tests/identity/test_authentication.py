"""Authenticating requests: missing, garbled, unknown, wrong, revoked keys; scopes; rate limits."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.ratelimit import RateLimiter
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, assert_problem


async def test_missing_authorization_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/api-keys")
    assert_problem(response, 401, "authentication-required")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "bearer a b",
        "Token sc_abc",
        "Bearer sc_short_x",
        "Bearer sc_ABCDEFGHIJKL_" + "a" * 43,
        "Bearer sc_abcdefghijkl_" + "a" * 42,
        "Bearer sc_abcdefghijkl_" + "a" * 43 + "'; DROP TABLE api_keys;--",
        "Bearer " + "x" * 5000,
        "Bearer \u00e9\u00e9",
    ],
)
async def test_garbled_or_unknown_credentials_are_401(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get(
        "/api/v1/api-keys", headers={"Authorization": header.encode("utf-8")}
    )
    body = assert_problem(response, 401)
    # A value that is not an API key is read as an access token and refused as one.
    assert body["type"] in (
        "/problems/invalid-credentials",
        "/problems/authentication-required",
        "/problems/invalid-token",
    )


async def test_unknown_well_formed_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/me", headers={"Authorization": "Bearer sc_abcdefghijkl_" + "a" * 43}
    )
    assert_problem(response, 401, "invalid-credentials")


async def test_wrong_secret_for_a_real_prefix_is_401_and_audited(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    prefix = tenant.key.split("_")[1]
    forged = f"sc_{prefix}_" + "A" * 43
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "invalid-credentials")
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.tag == "org:api_key:auth_failed")
            )
        ).all()
    assert [e.details["reason"] for e in events] == ["secret_mismatch"]
    assert events[0].target_id == str(tenant.key_id)
    assert events[0].request_id == response.headers["x-request-id"]
    assert forged not in str(events[0].details)


async def test_insufficient_scope_is_403_naming_the_scope(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/v1/api-keys", json={"name": "ro", "scopes": ["servers:read"]}, headers=tenant.headers
    )
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    response = await client.get("/api/v1/api-keys", headers=headers)
    problem = assert_problem(response, 403, "insufficient-scope")
    assert problem["required_scopes"] == ["api_keys:read"]
    assert problem["granted_scopes"] == ["servers:read"]
    assert "api_keys:read" in problem["detail"]


async def test_read_scope_cannot_write(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        "/api/v1/api-keys", json={"name": "ro", "scopes": ["read"]}, headers=tenant.headers
    )
    headers = {"Authorization": f"Bearer {created.json()['key']}"}
    assert (await client.get("/api/v1/api-keys", headers=headers)).status_code == 200
    response = await client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["read"]}, headers=headers
    )
    assert_problem(response, 403, "insufficient-scope")


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_rate_limit_per_key_answers_429_with_retry_after(
    client: httpx.AsyncClient,
    make_tenant: Callable[..., object],
    swap_rate_limiter: Callable[[RateLimiter], None],
    redis_url: str | None,
    backend: str,
) -> None:
    if backend == "redis" and redis_url is None:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    first: Tenant = await make_tenant()  # type: ignore[misc]
    second: Tenant = await make_tenant()  # type: ignore[misc]
    swap_rate_limiter(RateLimiter("3/minute", redis_url if backend == "redis" else None))
    for _ in range(3):
        assert (await client.get("/api/v1/me", headers=first.headers)).status_code == 200
    limited = await client.get("/api/v1/me", headers=first.headers)
    problem = assert_problem(limited, 429, "rate-limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert problem["retry_after"] == int(limited.headers["retry-after"])
    # Limits are per key: another key is unaffected.
    assert (await client.get("/api/v1/me", headers=second.headers)).status_code == 200
