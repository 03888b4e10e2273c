"""Several limits in one go (``ratelimit.first_spent``): the same answers as one by one."""

from __future__ import annotations

import uuid

import pytest

from sprintconnect.identity.ratelimit import AuthenticationThrottled, RateLimiter, first_spent


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, redis_url: str | None) -> str | None:
    if request.param == "redis" and redis_url is None:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return redis_url if request.param == "redis" else None


def _limiter(limit: str, backend: str | None, **options: object) -> RateLimiter:
    return RateLimiter(limit, backend, namespace=f"gate-{uuid.uuid4().hex}", **options)  # type: ignore[arg-type]


async def test_checks_count_nothing_and_hits_count_until_one_is_spent(
    backend: str | None,
) -> None:
    failures = _limiter("2/minute", backend, error=AuthenticationThrottled)
    key, org = _limiter("3/minute", backend), _limiter("100/minute", backend)
    checks = [(failures, ("address", "192.0.2.1")), (failures, ("prefix", "abc"))]
    hits = [(key, ("k1",)), (org, ("o1",))]
    for _ in range(3):
        assert await first_spent(checks, hits) is None
    # The key's window is spent: that is the answer, and the organization's is not counted.
    spent = await first_spent(checks, hits)
    assert spent == ((key, ("k1",)), False)
    error = await key.refusal("k1")
    assert 1 <= int(error.headers["Retry-After"]) <= 60
    # The organization counted the three allowed requests only, not the refused one.
    assert org.item is not None
    item = org.item
    stats = await org.window.stats(item, org.namespace, "o1")
    assert stats.remaining == 100 - 3
    # Failures spend the address window; checking it counts nothing more.
    assert await failures.allows("address", "192.0.2.1")
    assert await failures.allows("address", "192.0.2.1")
    spent = await first_spent(checks, hits)
    assert spent == ((failures, ("address", "192.0.2.1")), True)
    assert await first_spent([(failures, ("prefix", "abc"))], []) is None


async def test_switched_off_limits_are_skipped(backend: str | None) -> None:
    off = _limiter("", backend)
    assert await first_spent([(off, ("a",))], [(off, ("b",))]) is None
