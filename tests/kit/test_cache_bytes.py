"""The in-process search cache stays within its byte budget, evicting least recently used."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import REGISTRY

from sprintconnect.config import Settings
from sprintconnect.kit.cache import MAX_ENTRY_FRACTION, MemoryCache, build_cache
from tests.conftest import AppClientFactory, TenantFactory

SEARCH = "/api/v1/discovery/servers"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _size(key: str, value: Any) -> int:
    return len(json.dumps(value).encode()) + len(key.encode())


def _evictions() -> float:
    return REGISTRY.get_sample_value("sprintconnect_search_cache_evictions_total") or 0.0


async def test_byte_budget_is_never_exceeded() -> None:
    cache = MemoryCache(max_bytes=4096)
    value = {"items": ["x" * 100], "note": "ü"}
    before = _evictions()
    for i in range(200):
        await cache.set(f"search:{i}", value, 60)
        assert 0 < cache.bytes <= cache.max_bytes
    kept = [i for i in range(200) if i >= 200 - len(cache._entries)]
    assert cache.bytes == sum(_size(f"search:{i}", value) for i in kept)
    assert _evictions() - before == 200 - len(kept)
    assert REGISTRY.get_sample_value("sprintconnect_search_cache_bytes") == cache.bytes
    # The newest answers are the ones kept.
    assert await cache.get("search:199") == value
    assert await cache.get("search:0") is None


async def test_replacing_a_key_counts_it_once() -> None:
    cache = MemoryCache(max_bytes=4096)
    await cache.set("k", {"a": "x" * 50}, 60)
    await cache.set("k", {"a": "y" * 10}, 60)
    assert cache.bytes == _size("k", {"a": "y" * 10})
    assert await cache.get("k") == {"a": "y" * 10}


async def test_least_recently_used_is_evicted_first() -> None:
    value = {"v": "z" * 80}
    keys = [f"k{i}" for i in range(MAX_ENTRY_FRACTION)]
    # Room for exactly MAX_ENTRY_FRACTION answers of this size, each at the largest cacheable size.
    cache = MemoryCache(max_bytes=_size("k0", value) * MAX_ENTRY_FRACTION)
    for key in keys:
        await cache.set(key, value, 60)
    assert cache.bytes == cache.max_bytes
    assert await cache.get("k0") == value  # k0 is now the most recently used; k1 the least
    await cache.set("k9", value, 60)
    assert await cache.get("k1") is None
    assert [await cache.get(k) for k in ["k0", *keys[2:], "k9"]] == [value] * MAX_ENTRY_FRACTION
    assert cache.bytes == cache.max_bytes


async def test_oversize_answers_are_not_cached() -> None:
    cache = MemoryCache(max_bytes=8192)
    small = {"v": "s"}
    await cache.set("small", small, 60)
    big = {"v": "b" * (cache.max_bytes // MAX_ENTRY_FRACTION)}
    await cache.set("big", big, 60)
    assert await cache.get("big") is None
    assert await cache.get("small") == small  # nothing was evicted to make room for it
    assert cache.bytes == _size("small", small)
    # An answer that grows past the limit replaces (drops) the older, smaller one for its key.
    await cache.set("small", big, 60)
    assert await cache.get("small") is None
    assert cache.bytes == 0


async def test_zero_turns_the_cache_off() -> None:
    cache = MemoryCache(max_bytes=0)
    await cache.set("k", {"v": 1}, 60)
    assert await cache.get("k") is None
    assert cache.bytes == 0
    off = build_cache(None, max_bytes=Settings(search_cache_max_bytes=0).search_cache_max_bytes)
    await off.set("k", {"v": 1}, 60)
    assert await off.get("k") is None


async def test_ttl_is_still_honoured() -> None:
    clock = Clock()
    cache = MemoryCache(max_bytes=4096, clock=clock)
    await cache.set("k", {"v": 1}, 60)
    clock.now += 60
    assert await cache.get("k") == {"v": 1}
    clock.now += 1
    assert await cache.get("k") is None
    assert cache.bytes == 0  # an expired answer gives its bytes back


async def test_entry_count_bound_still_applies() -> None:
    cache = MemoryCache(max_entries=2, max_bytes=4096)
    for key in ("a", "b", "c"):
        await cache.set(key, {"v": key}, 60)
    assert await cache.get("a") is None
    assert cache.bytes == _size("b", {"v": "b"}) + _size("c", {"v": "c"})


async def test_the_setting_reaches_the_apps_search_cache(
    app_client: AppClientFactory, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    params = {"capability": "weather"}
    for budget, second_cached in ((32 * 1024 * 1024, True), (0, False)):
        client = await app_client(redis_url=None, search_cache_max_bytes=budget)
        for cached in (False, second_cached):
            response = await client.get(SEARCH, params=params, headers=tenant.headers)
            assert response.status_code == 200, response.text
            assert response.json()["search"]["cached"] is cached
