"""Failed authentications are limited per address and per key prefix; an organization's keys
share one request budget."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.ratelimit import AuthenticationThrottled, OrgRateLimited, RateLimiter
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem

ME = "/api/v1/me"


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, redis_url: str | None) -> str | None:
    if request.param == "redis" and redis_url is None:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return redis_url if request.param == "redis" else None


@pytest.fixture
def failure_limit(app: FastAPI, backend: str | None) -> Iterator[None]:
    """Three failures per address or prefix, counted apart from every other test."""
    original = app.state.auth_failure_limiter
    app.state.auth_failure_limiter = RateLimiter(
        "3/minute",
        backend,
        namespace=f"auth-failures-{uuid.uuid4().hex}",
        error=AuthenticationThrottled,
    )
    yield
    app.state.auth_failure_limiter = original


@pytest.fixture
async def attacker(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, "203.0.113.7") as c:
        yield c


@pytest.fixture
async def bystander(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, "198.51.100.20") as c:
        yield c


def _wrong_secret(key: str) -> str:
    prefix = key.split("_")[1]
    return f"sc_{prefix}_" + "A" * 43


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_an_address_that_keeps_failing_is_refused_before_any_key_is_checked(
    attacker: httpx.AsyncClient,
    bystander: httpx.AsyncClient,
    tenant: Tenant,
    failure_limit: None,
) -> None:
    for _ in range(3):
        guess = f"sc_{uuid.uuid4().hex[:12]}_" + "b" * 43  # unknown prefixes, one address
        assert_problem(await attacker.get(ME, headers=_bearer(guess)), 401)
    # Now even a valid key from that address is not looked at.
    refused = await attacker.get(ME, headers=tenant.headers)
    problem = assert_problem(refused, 429, "authentication-throttled")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert problem["retry_after"] == int(refused.headers["retry-after"])
    # Another address is unaffected.
    assert (await bystander.get(ME, headers=tenant.headers)).status_code == 200


async def test_a_prefix_that_keeps_failing_is_refused_from_every_address(
    app: FastAPI,
    bystander: httpx.AsyncClient,
    make_tenant: TenantFactory,
    failure_limit: None,
    runtime: Runtime,
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    for number in range(3):  # a distributed guess at one key: a new address each time
        async with _client(app, f"192.0.2.{number + 1}") as one_off:
            assert_problem(
                await one_off.get(ME, headers=_bearer(_wrong_secret(tenant.key))),
                401,
                "invalid-credentials",
            )
    for _ in range(8):
        assert_problem(
            await bystander.get(ME, headers=_bearer(_wrong_secret(tenant.key))),
            429,
            "authentication-throttled",
        )
    # Other keys from the same address still work.
    assert (await bystander.get(ME, headers=other.headers)).status_code == 200
    # Refusals are audited in the key's organization, within the per-key bound.
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = list(
            await session.scalars(
                select(AuditEvent.tag).where(
                    AuditEvent.org_id == tenant.org_id, AuditEvent.target_id == str(tenant.key_id)
                )
            )
        )
    throttled = tags.count("org:api_key:auth_throttled")
    failed = tags.count("org:api_key:auth_failed")
    assert failed == 3
    assert throttled >= 1
    assert throttled + failed <= 5  # the failure audit's bound per key and minute


async def test_an_organizations_keys_share_one_budget(
    client: httpx.AsyncClient,
    app: FastAPI,
    make_tenant: TenantFactory,
    make_member: MemberFactory,
    backend: str | None,
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    second = await make_member(tenant, ["viewer"], scopes=["read"])
    third = await make_member(tenant, ["viewer"], scopes=["read"])
    original = app.state.org_rate_limiter
    app.state.org_rate_limiter = RateLimiter(
        "4/minute", backend, namespace=f"org-{uuid.uuid4().hex}", error=OrgRateLimited
    )
    try:
        for headers in (tenant.headers, tenant.headers, second.headers, second.headers):
            assert (await client.get(ME, headers=headers)).status_code == 200
        # A key that has not been used yet has no budget of its own.
        limited = await client.get(ME, headers=third.headers)
        assert_problem(limited, 429, "org-rate-limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert (await client.get(ME, headers=other.headers)).status_code == 200
    finally:
        app.state.org_rate_limiter = original


def test_an_empty_limit_switches_the_limiter_off() -> None:
    assert RateLimiter("", None).item is None
