"""The JWKS cache: TTL, background refresh, rotation, rate-limited unknown-kid refetch, outages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from joserfc.jwk import Key

from sprintconnect.identity.jose import Expectations, JwksCache, TokenRejected, verify_jwt
from sprintconnect.identity.jose.jwks import parse_key_set
from tests.identity.jose import support as s

ACCESS = Expectations(
    issuer=s.ISSUER, audiences=frozenset({s.AUDIENCE}), token_types=frozenset({"at+jwt"})
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Issuer:
    """What a JWKS endpoint would serve; counts fetches; can fail or stall on demand."""

    def __init__(self, *keys: Key) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.failing = False
        self.gate: asyncio.Event | None = None

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise TokenRejected("keys_unavailable")
        return s.jwks_document(*self.keys)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def cache_for(issuer: Issuer, clock: Clock, ttl: float = 600, interval: float = 30) -> JwksCache:
    return JwksCache(issuer.fetch, ttl_seconds=ttl, refetch_interval_seconds=interval, clock=clock)


async def test_fetches_once_then_serves_from_cache() -> None:
    key = s.ec("a")
    issuer, clock = Issuer(key), Clock()
    cache = cache_for(issuer, clock)
    for _ in range(5):
        assert (await cache.key_for("a", "ES256")) is not None
        clock.now += 10
    assert issuer.fetches == 1


async def test_background_refresh_after_half_the_ttl_keeps_serving_the_old_set() -> None:
    old, new = s.ec("old"), s.ec("new")
    issuer, clock = Issuer(old), Clock()
    cache = cache_for(issuer, clock, ttl=100)
    assert await cache.key_for("old", "ES256")
    issuer.keys = [new]
    issuer.gate = asyncio.Event()
    clock.now += 60  # past half the TTL
    assert await cache.key_for("old", "ES256")  # answered at once, from the old set
    await settle()
    assert issuer.fetches == 2  # the background fetch started, and only one
    assert await cache.key_for("old", "ES256")
    assert issuer.fetches == 2
    issuer.gate.set()
    await settle()
    assert await cache.key_for("new", "ES256")
    assert issuer.fetches == 2
    await cache.aclose()


async def test_past_the_ttl_concurrent_callers_share_one_fetch() -> None:
    key = s.ec("a")
    issuer, clock = Issuer(key), Clock()
    cache = cache_for(issuer, clock, ttl=100)
    await cache.key_for("a", "ES256")
    clock.now += 150
    issuer.gate = asyncio.Event()
    waiting = [asyncio.create_task(cache.key_for("a", "ES256")) for _ in range(20)]
    await settle()
    assert issuer.fetches == 2
    issuer.gate.set()
    assert all(await asyncio.gather(*waiting))
    assert issuer.fetches == 2


async def test_first_use_concurrent_callers_share_one_fetch() -> None:
    issuer, clock = Issuer(s.ec("a")), Clock()
    cache = cache_for(issuer, clock)
    issuer.gate = asyncio.Event()
    waiting = [asyncio.create_task(cache.key_for("a", "ES256")) for _ in range(10)]
    await settle()
    issuer.gate.set()
    assert all(await asyncio.gather(*waiting))
    assert issuer.fetches == 1


async def test_unknown_kid_refetches_once_per_interval_then_rejects() -> None:
    known = s.ec("known")
    issuer, clock = Issuer(known), Clock()
    cache = cache_for(issuer, clock, interval=30)
    stranger = s.ec("stranger")
    token = s.sign(stranger, s.claims())
    for _ in range(10):
        with pytest.raises(TokenRejected) as info:
            await verify_jwt(token, cache, ACCESS, now=s.NOW)
        assert info.value.reason == "unknown_kid"
    assert issuer.fetches == 2  # the first load and one refetch, not one per token
    clock.now += 31
    with pytest.raises(TokenRejected):
        await verify_jwt(token, cache, ACCESS, now=s.NOW)
    assert issuer.fetches == 3


async def test_random_kids_do_not_multiply_fetches() -> None:
    issuer, clock = Issuer(s.ec("known")), Clock()
    cache = cache_for(issuer, clock)
    for n in range(50):
        assert await cache.key_for(f"random-{n}", "ES256") is None
    assert issuer.fetches == 2


async def test_rotation_new_key_found_by_refetch_and_retired_key_rejected() -> None:
    first, second = s.ec("2026-01"), s.ec("2026-02")
    issuer, clock = Issuer(first), Clock()
    cache = cache_for(issuer, clock)
    assert await verify_jwt(s.sign(first, s.claims()), cache, ACCESS, now=s.NOW)
    issuer.keys = [first, second]  # the issuer publishes the next key, then signs with it
    assert await verify_jwt(s.sign(second, s.claims()), cache, ACCESS, now=s.NOW)
    issuer.keys = [second]  # the old key is retired
    clock.now += 601  # the cached set expires
    with pytest.raises(TokenRejected) as info:
        await verify_jwt(s.sign(first, s.claims()), cache, ACCESS, now=s.NOW)
    assert info.value.reason == "unknown_kid"


async def test_failing_fetch_keeps_the_last_good_set_until_twice_the_ttl() -> None:
    issuer, clock = Issuer(s.ec("a")), Clock()
    cache = cache_for(issuer, clock, ttl=100, interval=30)
    await cache.key_for("a", "ES256")
    issuer.failing = True
    clock.now += 120
    assert await cache.key_for("a", "ES256")  # refresh failed, old set still serves
    fetches = issuer.fetches
    for _ in range(10):  # no fetch per request while the issuer is down
        assert await cache.key_for("a", "ES256")
    assert issuer.fetches == fetches
    clock.now += 81  # 201 s: past twice the TTL
    with pytest.raises(TokenRejected) as info:
        await cache.key_for("a", "ES256")
    assert info.value.reason == "keys_unavailable"
    issuer.failing = False
    clock.now += 31
    assert await cache.key_for("a", "ES256")  # recovers once the issuer is back


async def test_failing_first_fetch_is_keys_unavailable() -> None:
    issuer, clock = Issuer(s.ec("a")), Clock()
    issuer.failing = True
    cache = cache_for(issuer, clock)
    with pytest.raises(TokenRejected) as info:
        await verify_jwt(s.sign(s.ec("a"), s.claims()), cache, ACCESS, now=s.NOW)
    assert info.value.reason == "keys_unavailable"


async def test_fetch_raising_anything_is_keys_unavailable() -> None:
    async def broken() -> dict[str, Any]:
        raise OSError("connection reset")

    cache = JwksCache(broken, ttl_seconds=60, clock=Clock())
    with pytest.raises(TokenRejected) as info:
        await cache.key_for("a", "ES256")
    assert info.value.reason == "keys_unavailable"
    assert "reset" not in info.value.description


async def test_aclose_cancels_a_background_refresh() -> None:
    issuer, clock = Issuer(s.ec("a")), Clock()
    cache = cache_for(issuer, clock, ttl=100)
    await cache.key_for("a", "ES256")
    issuer.gate = asyncio.Event()  # never set: the refresh hangs
    clock.now += 60
    await cache.key_for("a", "ES256")
    await settle()
    assert issuer.fetches == 2
    await cache.aclose()
    assert cache._background is None


def test_parse_key_set_ignores_encryption_symmetric_private_and_broken_keys() -> None:
    sig, enc = s.ec("sig"), s.ec("enc")
    document = {
        "keys": [
            sig.as_dict(private=True),  # the private half is dropped, the key kept
            {**enc.as_dict(private=False), "use": "enc"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            {"kty": "PQC", "kid": "future"},
            "not a key",
        ]
    }
    keys = parse_key_set(document)
    assert [k.kid for k in keys] == ["sig"]
    assert not keys[0].is_private


@pytest.mark.parametrize("document", [{}, {"keys": "nope"}, {"keys": {"a": 1}}])
def test_parse_key_set_refuses_a_document_without_a_key_list(document: dict[str, Any]) -> None:
    with pytest.raises(TokenRejected):
        parse_key_set(document)
