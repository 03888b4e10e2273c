"""With Redis configured but down: no 500s, per-process fallbacks, honest readiness, recovery."""

from __future__ import annotations

import uuid

import redis.asyncio as redis
from prometheus_client import REGISTRY

from sprintconnect.kit.cache import RedisCache
from sprintconnect.kit.outbound import RedisOutboundLimiter
from tests.conftest import AppClientFactory, TenantFactory, assert_problem
from tests.redis.server import OwnRedis

SEARCH = "/api/v1/discovery/servers"


def fallbacks(component: str) -> float:
    value = REGISTRY.get_sample_value(
        "sprintconnect_redis_fallback_total", {"component": component}
    )
    return value or 0.0


async def test_requests_survive_redis_going_away_and_use_it_again_when_back(
    own_redis: OwnRedis, app_client: AppClientFactory, make_tenant: TenantFactory
) -> None:
    client = await app_client(redis_url=own_redis.url, api_key_rate_limit="8/minute")
    tenant = await make_tenant()
    me = await client.get("/api/v1/me", headers=tenant.headers)
    assert me.status_code == 200, me.text
    ready = await client.get("/readyz")
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}

    own_redis.stop()
    found = await client.get(SEARCH, params={"capability": "echo"}, headers=tenant.headers)
    assert found.status_code == 200, found.text
    again = await client.get(SEARCH, params={"capability": "echo"}, headers=tenant.headers)
    assert again.json()["search"]["cached"] is False  # the cache is bypassed, not failing
    not_ready = assert_problem(await client.get("/readyz"), 503, "not-ready")
    assert not_ready["checks"] == {"database": "ok", "redis": "fail"}
    assert "redis" in not_ready["detail"]
    before = fallbacks("ratelimit:api")
    answers = [
        (await client.get("/api/v1/me", headers=tenant.headers)).status_code for _ in range(7)
    ]
    # A new window in process memory: the limit still holds, per process.
    assert answers == [200] * 6 + [429]
    assert fallbacks("ratelimit:api") >= before + 7

    own_redis.start()
    assert (await client.get("/readyz")).status_code == 200
    other = await make_tenant()
    counted = fallbacks("ratelimit:api")
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 200
    assert fallbacks("ratelimit:api") == counted  # served by Redis again
    inspect = redis.from_url(own_redis.url)
    try:
        assert await inspect.keys(f"*{other.key_id}*"), "the window lives in Redis again"
    finally:
        await inspect.aclose()
    await client.get(SEARCH, params={"capability": "echo"}, headers=other.headers)
    cached = await client.get(SEARCH, params={"capability": "echo"}, headers=other.headers)
    assert cached.json()["search"]["cached"] is True


async def test_cache_misses_and_outbound_cap_falls_back_while_redis_is_down(
    own_redis: OwnRedis,
) -> None:
    cache = RedisCache(own_redis.url, prefix=f"sc:test:{uuid.uuid4().hex}:")
    limiter = RedisOutboundLimiter(own_redis.url, 1)
    org = uuid.uuid4()
    try:
        await cache.set("k", {"v": 1}, 60)
        assert await cache.get("k") == {"v": 1}
        own_redis.stop()
        before = fallbacks("cache")
        await cache.set("k", {"v": 2}, 60)  # dropped, not raised
        assert await cache.get("k") is None
        assert fallbacks("cache") == before + 2
        slots = fallbacks("outbound")
        async with limiter.slot(org, seconds=5):
            pass
        assert fallbacks("outbound") == slots + 1
        own_redis.start()
        await cache.set("k", {"v": 3}, 60)
        assert await cache.get("k") == {"v": 3}
        async with limiter.slot(org, seconds=5):
            assert await limiter.client.zcard(limiter.key(org)) == 1
        assert fallbacks("outbound") == slots + 1
    finally:
        await cache.close()
        await limiter.close()
