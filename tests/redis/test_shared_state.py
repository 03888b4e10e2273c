"""State two app processes share through one Redis: rate limits, the search cache, egress."""

from __future__ import annotations

import uuid

import pytest

from sprintconnect.egress._errors import EgressRateLimited
from sprintconnect.egress._policy import EgressPolicy
from sprintconnect.egress._ratelimit import spend
from tests.conftest import AppClientFactory, TenantFactory, assert_problem
from tests.redis.server import OwnRedis

SEARCH = "/api/v1/discovery/servers"


async def test_a_keys_budget_spent_on_one_instance_counts_on_the_other(
    own_redis: OwnRedis, app_client: AppClientFactory, make_tenant: TenantFactory
) -> None:
    first = await app_client(redis_url=own_redis.url, api_key_rate_limit="4/minute")
    second = await app_client(redis_url=own_redis.url, api_key_rate_limit="4/minute")
    tenant = await make_tenant()
    for client in (first, second, first, second):
        assert (await client.get("/api/v1/me", headers=tenant.headers)).status_code == 200
    for client in (first, second):
        refused = assert_problem(
            await client.get("/api/v1/me", headers=tenant.headers), 429, "rate-limited"
        )
        assert int(refused["retry_after"]) >= 1


async def test_an_organizations_budget_is_shared_across_instances(
    own_redis: OwnRedis, app_client: AppClientFactory, make_tenant: TenantFactory
) -> None:
    first = await app_client(redis_url=own_redis.url, org_rate_limit="3/minute")
    second = await app_client(redis_url=own_redis.url, org_rate_limit="3/minute")
    tenant = await make_tenant()
    assert (await first.get("/api/v1/me", headers=tenant.headers)).status_code == 200
    assert (await second.get("/api/v1/me", headers=tenant.headers)).status_code == 200
    assert (await second.get("/api/v1/me", headers=tenant.headers)).status_code == 200
    assert_problem(await first.get("/api/v1/me", headers=tenant.headers), 429, "org-rate-limited")


async def test_a_search_cached_by_one_instance_is_served_by_the_other(
    own_redis: OwnRedis, app_client: AppClientFactory, make_tenant: TenantFactory
) -> None:
    first = await app_client(redis_url=own_redis.url)
    second = await app_client(redis_url=own_redis.url)
    tenant = await make_tenant()
    params = {"capability": "weather"}
    computed = await first.get(SEARCH, params=params, headers=tenant.headers)
    assert computed.status_code == 200, computed.text
    assert computed.json()["search"]["cached"] is False
    served = await second.get(SEARCH, params=params, headers=tenant.headers)
    assert served.status_code == 200, served.text
    assert served.json()["search"]["cached"] is True
    assert served.json()["items"] == computed.json()["items"]


async def test_the_egress_budget_is_kept_in_redis_and_falls_back_when_it_fails(
    own_redis: OwnRedis,
) -> None:
    org = str(uuid.uuid4())
    # A limit text of the test's own, so this process's windows start empty.
    limit = f"3/{60 + uuid.uuid4().int % 1000} seconds"
    policy = EgressPolicy(org_id=org, rate_limit=limit, rate_limit_storage=own_redis.url)
    other_process = EgressPolicy(
        org_id=org, rate_limit=limit, rate_limit_storage=f"redis://127.0.0.1:{own_redis.port}"
    )
    await spend(policy)
    await spend(other_process)  # a separate window object, the same Redis keys
    await spend(policy)
    with pytest.raises(EgressRateLimited):
        await spend(other_process)
    own_redis.stop()
    await spend(policy)  # per-process window while Redis is away: no Redis error escapes
    own_redis.start()  # back, empty (no persistence): the shared window starts again
    for _ in range(3):
        await spend(other_process)
    with pytest.raises(EgressRateLimited):
        await spend(policy)
