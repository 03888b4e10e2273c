"""DPoP proofs: one failing test per RFC 9449 section 4.3 check, replay, htu normalization,
nonces, and the replay caches (memory and a real Redis)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from joserfc.jwk import Key

from sprintconnect.identity.jose import (
    DpopRejected,
    DpopVerifier,
    MemoryReplayCache,
    NonceSource,
    RedisReplayCache,
    build_replay_cache,
    jwk_thumbprint,
    normalize_htu,
)
from tests.identity.jose import support as s

URL = "https://api.sprintconnect.test/api/v1/me"
TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"
NONCE_KEY = b"n" * 32
KEY = s.ec("client")


def verifier(**options: Any) -> DpopVerifier:
    return DpopVerifier(MemoryReplayCache(), NonceSource(NONCE_KEY), **options)


async def check(proof: str | None, dv: DpopVerifier | None = None, **kwargs: Any) -> Any:
    params: dict[str, Any] = {"method": "GET", "url": URL, "now": s.NOW}
    params.update(kwargs)
    return await (dv or verifier()).verify(proof, **params)


async def rejected(
    proof: str | None, dv: DpopVerifier | None = None, **kwargs: Any
) -> DpopRejected:
    with pytest.raises(DpopRejected) as info:
        await check(proof, dv, **kwargs)
    return info.value


# --- controls --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "alg"),
    [
        (s.ec("e"), "ES256"),
        (s.ec("e3", "P-384"), "ES384"),
        (s.rsa("r"), "PS256"),
        (s.rsa("r2"), "RS256"),
        (s.ed("d"), "EdDSA"),
    ],
)
async def test_valid_proof(key: Key, alg: str) -> None:
    proof = s.dpop_proof(key, alg=alg, access_token=TOKEN)
    result = await check(proof, access_token=TOKEN, expected_jkt=key.thumbprint())
    assert result.jkt == jwk_thumbprint(key.as_dict(private=False))
    assert (result.htm, result.htu, result.iat) == ("GET", URL, s.T)


def test_thumbprint_matches_rfc_7638_example() -> None:
    # RFC 7638 section 3.1.
    jwk = {
        "kty": "RSA",
        "n": (
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
            "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
            "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
            "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
            "Cur-kEgU8awapJzKnqDKgw"
        ),
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert jwk_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


async def test_nonce_from_this_or_previous_window_is_accepted() -> None:
    nonces = NonceSource(NONCE_KEY, window_seconds=300)
    dv = DpopVerifier(MemoryReplayCache(), nonces, require_nonce=True)
    earlier = nonces.current(s.NOW - timedelta(seconds=300))
    assert await check(s.dpop_proof(KEY, nonce=nonces.current(s.NOW)), dv)
    assert await check(s.dpop_proof(KEY, nonce=earlier), dv)


def test_nonce_is_accepted_by_another_replica_with_the_same_key() -> None:
    one, two = NonceSource(NONCE_KEY), NonceSource(NONCE_KEY)
    assert two.valid(one.current(s.NOW), s.NOW)
    assert not NonceSource(b"x" * 32).valid(one.current(s.NOW), s.NOW)
    assert not one.valid(one.current(s.NOW - timedelta(seconds=601)), s.NOW)


# --- RFC 9449 section 4.3, one test per check ----------------------------------------------------


async def test_4_3_1_no_or_repeated_dpop_header() -> None:
    # The caller passes None when the header is absent or present more than once.
    assert (await rejected(None)).reason == "missing"


@pytest.mark.parametrize(
    "proof",
    [
        "",
        "not-a-jwt",
        "a.b.c",
        "a.b.c.d.e",
        s.b64('{"typ":"dpop+jwt","typ":"x"}') + ".e30.",
        "x" * 10_000,
    ],
)
async def test_4_3_2_not_a_well_formed_jwt(proof: str) -> None:
    assert (await rejected(proof)).reason == "malformed"


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "iat"])
async def test_4_3_3_required_claims(claim: str) -> None:
    assert (await rejected(s.dpop_proof(KEY, drop=(claim,)))).reason == "missing_claim"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("jti", ""),
        ("jti", 7),
        ("jti", "j" * 257),
        ("iat", "1"),
        ("iat", True),
        ("htm", 1),
        ("htu", ["x"]),
    ],
)
async def test_4_3_3_required_claims_of_the_wrong_type(claim: str, value: Any) -> None:
    assert (await rejected(s.dpop_proof(KEY, **{claim: value}))).reason == "missing_claim"


@pytest.mark.parametrize("typ", [None, "JWT", "at+jwt", "application/dpop+jwt", "dpop"])
async def test_4_3_4_typ_is_dpop_jwt(typ: str | None) -> None:
    assert (await rejected(s.dpop_proof(KEY, typ=typ))).reason == "type"


@pytest.mark.parametrize("alg", ["none", "HS256", "ES512", "RSA-OAEP"])
async def test_4_3_5_alg_asymmetric_and_allowed(alg: str) -> None:
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": KEY.as_dict(private=False)}
    payload = {"jti": "1", "htm": "GET", "htu": URL, "iat": s.T}
    assert (await rejected(s.unsigned(header, payload, b"sig"))).reason == "algorithm"


async def test_4_3_5_alg_outside_the_verifiers_narrowed_list() -> None:
    dv = verifier(algorithms=frozenset({"ES256"}))
    assert (await rejected(s.dpop_proof(s.rsa(), alg="PS256"), dv)).reason == "algorithm"


async def test_4_3_6_signature_by_another_key_than_the_embedded_one() -> None:
    other = s.ec("other")
    proof = s.dpop_proof(KEY, jwk=other.as_dict(private=False))
    assert (await rejected(proof)).reason == "signature"


async def test_4_3_6_tampered_claims() -> None:
    header, _payload, signature = s.dpop_proof(KEY).split(".")
    forged = s.b64(json.dumps({"jti": "x", "htm": "POST", "htu": URL, "iat": s.T}))
    assert (await rejected(f"{header}.{forged}.{signature}")).reason == "signature"


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        "a string",
        {"kty": "oct", "k": "c2VjcmV0c2VjcmV0c2VjcmV0"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "RSA", "n": "AQAB"},
    ],
)
async def test_4_3_6_jwk_header_missing_or_unusable(jwk: Any) -> None:
    assert (await rejected(s.dpop_proof(KEY, jwk=jwk))).reason == "jwk"


async def test_4_3_6_jwk_that_does_not_fit_the_alg() -> None:
    rsa = s.rsa("r")
    proof = s.dpop_proof(KEY, jwk=rsa.as_dict(private=False))  # ES256 header, RSA jwk
    assert (await rejected(proof)).reason == "jwk"


@pytest.mark.parametrize("key", [KEY, s.rsa("r"), s.ed("d")])
async def test_4_3_7_jwk_with_a_private_key(key: Key) -> None:
    alg = {"EC": "ES256", "RSA": "PS256", "OKP": "EdDSA"}[key.key_type]
    proof = s.dpop_proof(key, alg=alg, jwk=key.as_dict(private=True))
    assert (await rejected(proof)).reason == "jwk"


@pytest.mark.parametrize("htm", ["POST", "get", "GET ", ""])
async def test_4_3_8_htm_matches_the_method(htm: str) -> None:
    assert (await rejected(s.dpop_proof(KEY, method=htm))).reason == "htm"


@pytest.mark.parametrize(
    "htu",
    [
        "https://api.sprintconnect.test/api/v1/users",
        "http://api.sprintconnect.test/api/v1/me",
        "https://api.sprintconnect.test:8443/api/v1/me",
        "https://evil.example/api/v1/me",
        "https://api.sprintconnect.test.evil.example/api/v1/me",
        "https://user@api.sprintconnect.test/api/v1/me",
        "/api/v1/me",
        "https://api.sprintconnect.test/api/v1/me/",
        "https://api.sprintconnect.test/api/v1/%6De%2F",
        "ftp://api.sprintconnect.test/api/v1/me",
        "https://api.sprintconnect.test:99999/api/v1/me",
    ],
)
async def test_4_3_9_htu_matches_the_url(htu: str) -> None:
    assert (await rejected(s.dpop_proof(KEY, url=htu))).reason == "htu"


@pytest.mark.parametrize(
    "htu",
    [
        "https://api.sprintconnect.test/api/v1/me?x=1",
        "https://api.sprintconnect.test/api/v1/me#frag",
        "HTTPS://API.SprintConnect.TEST/api/v1/me",
        "https://api.sprintconnect.test:443/api/v1/me",
        "https://api.sprintconnect.test/api/v1/%6de",
    ],
)
async def test_4_3_9_htu_normalization_accepts_equivalent_urls(htu: str) -> None:
    assert await check(s.dpop_proof(KEY, url=htu), url=URL + "?page=2")


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("HTTP://Example.COM:80/a?b#c", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://[::1]:443/x", "https://[::1]/x"),
        ("https://[2001:DB8::1]:8080/", "https://[2001:db8::1]:8080/"),
        ("https://example.com/%7euser/%2f", "https://example.com/~user/%2F"),
        ("http://example.com:443/", "http://example.com:443/"),
    ],
)
def test_normalize_htu(given: str, normal: str) -> None:
    assert normalize_htu(given) == normal


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "example.com/x",
        "//example.com",
        "file:///x",
        "https://",
        "https://a b/",
        "https://u:p@h/",
        "https://h:x/",
    ],
)
def test_normalize_htu_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match=r"URL|[Pp]ort"):
        normalize_htu(bad)


async def test_4_3_10_nonce_required_and_missing() -> None:
    dv = verifier(require_nonce=True)
    error = await rejected(s.dpop_proof(KEY), dv)
    assert error.reason == "nonce"
    assert error.use_nonce == dv.nonces.current(s.NOW)
    assert await check(s.dpop_proof(KEY, nonce=error.use_nonce), dv)  # retry with it works


@pytest.mark.parametrize("nonce", ["wrong", "", 7, "a" * 100])
async def test_4_3_10_nonce_that_does_not_match(nonce: Any) -> None:
    error = await rejected(s.dpop_proof(KEY, nonce=nonce), verifier(require_nonce=True))
    assert error.reason == "nonce"
    assert error.use_nonce is not None


async def test_4_3_10_stale_nonce() -> None:
    dv = verifier(require_nonce=True)
    stale = dv.nonces.current(s.NOW - timedelta(seconds=700))
    assert (await rejected(s.dpop_proof(KEY, nonce=stale), dv)).reason == "nonce"


async def test_4_3_10_an_invalid_nonce_is_refused_even_when_not_required() -> None:
    assert (await rejected(s.dpop_proof(KEY, nonce="forged"))).reason == "nonce"


@pytest.mark.parametrize("offset", [-331, 31, 3600, -86400])
async def test_4_3_11_iat_outside_the_window(offset: int) -> None:
    error = await rejected(s.dpop_proof(KEY, iat=s.T + offset))
    assert error.reason == "iat"
    assert error.use_nonce is None  # a nonce would not help: no use_dpop_nonce retry loop


async def test_4_3_12_ath_missing() -> None:
    assert (await rejected(s.dpop_proof(KEY), access_token=TOKEN)).reason == "ath"


async def test_4_3_12_ath_of_another_token() -> None:
    proof = s.dpop_proof(KEY, access_token=TOKEN + "x")
    assert (await rejected(proof, access_token=TOKEN)).reason == "ath"


async def test_4_3_12_ath_of_wrong_type() -> None:
    proof = s.dpop_proof(KEY, ath=["x"])
    assert (await rejected(proof, access_token=TOKEN)).reason == "ath"


async def test_4_3_12_key_other_than_the_one_the_token_is_bound_to() -> None:
    proof = s.dpop_proof(KEY, access_token=TOKEN)
    other = s.ec("other").thumbprint()
    assert (await rejected(proof, access_token=TOKEN, expected_jkt=other)).reason == "jkt"


async def test_header_crit_refused() -> None:
    header = {
        "typ": "dpop+jwt",
        "alg": "ES256",
        "jwk": KEY.as_dict(private=False),
        "crit": ["x"],
        "x": 1,
    }
    payload = {"jti": "1", "htm": "GET", "htu": URL, "iat": s.T}
    assert (await rejected(s.raw_sign(KEY, header, payload))).reason == "header"


# --- replay ----------------------------------------------------------------------------------


async def test_replayed_jti_is_refused() -> None:
    dv = verifier()
    proof = s.dpop_proof(KEY)
    assert await check(proof, dv)
    assert (await rejected(proof, dv)).reason == "replay"


async def test_same_jti_from_another_key_or_url_is_not_a_replay() -> None:
    dv = verifier()
    assert await check(s.dpop_proof(KEY, jti="same"), dv)
    assert await check(s.dpop_proof(s.ec("k2"), jti="same"), dv)
    other_url = "https://api.sprintconnect.test/api/v1/servers"
    assert await check(s.dpop_proof(KEY, jti="same", url=other_url), dv, url=other_url)
    assert (await rejected(s.dpop_proof(KEY, jti="same"), dv)).reason == "replay"


async def test_a_rejected_proof_does_not_use_up_its_jti() -> None:
    dv = verifier()
    proof = s.dpop_proof(KEY, access_token=TOKEN)
    assert (await rejected(proof, dv, access_token="other")).reason == "ath"
    assert await check(proof, dv, access_token=TOKEN)


async def test_memory_replay_cache_expires_and_is_bounded() -> None:
    clock = [0.0]
    cache = MemoryReplayCache(max_entries=3, clock=lambda: clock[0])
    assert await cache.first_use("a", 10)
    assert not await cache.first_use("a", 10)
    clock[0] = 11
    assert await cache.first_use("a", 10)  # expired, so new again
    for key in "bcdef":
        assert await cache.first_use(key, 10)
    assert len(cache._seen) == 3


@pytest.fixture
async def redis_cache(redis_url: str | None) -> AsyncIterator[RedisReplayCache]:
    if redis_url is None:
        pytest.skip("no Redis on 127.0.0.1:6379")
    cache = RedisReplayCache(redis_url)
    yield cache
    await cache.aclose()


async def test_redis_replay_cache_is_shared_between_replicas(
    redis_cache: RedisReplayCache, redis_url: str
) -> None:
    other = RedisReplayCache(redis_url)
    try:
        dv1 = DpopVerifier(redis_cache, NonceSource(NONCE_KEY))
        dv2 = DpopVerifier(other, NonceSource(NONCE_KEY))
        proof = s.dpop_proof(KEY)
        assert await check(proof, dv1)
        assert (await rejected(proof, dv2)).reason == "replay"
    finally:
        await other.aclose()


async def test_redis_replay_cache_sets_an_expiry(redis_cache: RedisReplayCache) -> None:
    key = f"test-{s.b64(KEY.thumbprint().encode())}-{id(redis_cache)}"
    assert await redis_cache.first_use(key, 5)
    assert not await redis_cache.first_use(key, 5)
    name = RedisReplayCache.PREFIX + __import__("hashlib").sha256(key.encode()).hexdigest()
    ttl = await redis_cache._redis.ttl(name)
    assert 0 < ttl <= 5


def test_build_replay_cache_picks_the_backend() -> None:
    assert isinstance(build_replay_cache(None), MemoryReplayCache)
    assert isinstance(build_replay_cache("redis://127.0.0.1:6379/15"), RedisReplayCache)


async def test_redis_down_falls_back_to_the_process_cache() -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on: Redis is "down"
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = RedisReplayCache(f"redis://127.0.0.1:{port}/0")
    try:
        dv = DpopVerifier(cache, NonceSource(NONCE_KEY))
        proof = s.dpop_proof(KEY)
        assert await check(proof, dv)
        assert (await rejected(proof, dv)).reason == "replay"
    finally:
        await cache.aclose()
