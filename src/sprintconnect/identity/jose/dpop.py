"""DPoP proofs (RFC 9449): verification of every section 4.3 check, replay cache and nonces.

The checks are written here (no library covers them); the JWK import, thumbprint and signature
algorithms are joserfc's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from joserfc.jwk import ECKey, JWKRegistry, Key, OKPKey, RSAKey

from sprintconnect.identity.jose.verify import (
    ALLOWED_ALGORITHMS,
    TokenRejected,
    b64url_encode,
    key_fits,
    split_compact,
    verify_signature,
)
from sprintconnect.kit.fallback import REDIS_ERRORS, RedisFallback, redis_client_options

DPOP_TYPE = "dpop+jwt"
MAX_PROOF_BYTES = 8_192
MAX_JTI_LENGTH = 256
# Members that only a private key has (RFC 7518 section 6, RFC 8037 section 2).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

_DESCRIPTIONS = {
    "missing": "A single DPoP proof header is required.",
    "malformed": "The DPoP proof is not a well-formed signed JWT.",
    "type": "The DPoP proof's typ must be dpop+jwt.",
    "algorithm": "The DPoP proof's signing algorithm is not accepted.",
    "jwk": "The DPoP proof must carry a public JWK that fits its algorithm.",
    "signature": "The DPoP proof's signature is not valid.",
    "missing_claim": "The DPoP proof lacks a required claim.",
    "htm": "The DPoP proof is for another HTTP method.",
    "htu": "The DPoP proof is for another URL.",
    "nonce": "The DPoP proof must carry the server's current nonce.",
    "iat": "The DPoP proof is too old or issued in the future.",
    "ath": "The DPoP proof is not bound to this access token.",
    "jkt": "The DPoP proof is signed with a key the access token is not bound to.",
    "replay": "The DPoP proof has been used before.",
    "header": "The DPoP proof's header is not accepted.",
}


class DpopRejected(Exception):
    """A DPoP proof failed; ``use_nonce`` is set when the client must retry with that nonce."""

    def __init__(
        self, reason: str, description: str | None = None, *, use_nonce: str | None = None
    ) -> None:
        self.reason = reason
        self.description = description or _DESCRIPTIONS.get(reason, "The DPoP proof is not valid.")
        self.use_nonce = use_nonce
        super().__init__(f"{reason}: {self.description}")


@dataclass(frozen=True)
class DpopProof:
    """A verified proof: the key's thumbprint and the proof's claims (``htu`` normalized)."""

    jkt: str
    jti: str
    iat: int
    htm: str
    htu: str


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) of a public JWK; ValueError if it is not one."""
    try:
        key = JWKRegistry.import_key(dict(jwk))
    except Exception as exc:  # joserfc raises several types for a bad key
        raise ValueError("not a valid JWK") from exc
    return key.thumbprint()


def _normalize_percent(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT.sub(fix, text)


def normalize_htu(url: str) -> str:
    """Scheme and host lowercase, default port dropped, no query or fragment (RFC 9449 4.3).

    Percent-encodings are normalized (RFC 3986 section 6.2.2); an empty path becomes "/".
    ValueError for anything that is not an absolute http(s) URL without userinfo.
    """
    if not isinstance(url, str) or len(url) > 4096 or _CONTROL.search(url):
        raise ValueError("not a URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        raise ValueError("not an absolute http(s) URL")
    host = parts.hostname.lower()  # urlsplit strips the brackets of an IPv6 literal
    if ":" in host:
        host = f"[{host}]"
    port = parts.port  # ValueError for a port out of range
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _normalize_percent(parts.path) or "/"
    return urlunsplit((scheme, netloc, path, "", ""))


def access_token_hash(access_token: str) -> str:
    """The ``ath`` value: base64url SHA-256 of the access token's ASCII form."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii", "strict")).digest())


# --- replay ----------------------------------------------------------------------------------


class ReplayCache(Protocol):
    """Remembers keys for a while; ``first_use`` is True only the first time a key is seen."""

    async def first_use(self, key: str, ttl_seconds: int) -> bool: ...


class MemoryReplayCache:
    """In-process, bounded and expiring; for one process (tests, a single replica)."""

    def __init__(
        self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    async def first_use(self, key: str, ttl_seconds: int) -> bool:
        now = self._clock()
        expires = self._seen.get(key)
        if expires is not None and expires > now:
            return False
        self._seen.pop(key, None)
        # Entries are in insertion order, which is expiry order for one TTL: drop expired
        # ones from the front, then the oldest while full (the nearest to expiring anyway).
        while self._seen:
            oldest, expiry = next(iter(self._seen.items()))
            if expiry > now and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        self._seen[key] = now + ttl_seconds
        return True

    def seen(self, key: str) -> bool:
        """Whether ``key`` was used and has not expired (without recording it)."""
        expires = self._seen.get(key)
        return expires is not None and expires > self._clock()

    async def aclose(self) -> None:
        self._seen.clear()


class RedisReplayCache:
    """Shared by every replica: ``SET key 1 NX EX ttl`` answers whether the key is new.

    While Redis fails, each process falls back to its own memory cache (as every Redis user
    here does, see ``kit.fallback``): a replay to the same process is still refused; a replay
    to another replica during the outage is not.
    """

    PREFIX = "sc:dpop:jti:"

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url, **redis_client_options())
        self._fallback = MemoryReplayCache()
        self._health = RedisFallback("dpop_replay", instead="per-process replay cache")

    async def first_use(self, key: str, ttl_seconds: int) -> bool:
        name = self.PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()
        try:
            created = await self._redis.set(name, b"1", nx=True, ex=max(1, int(ttl_seconds)))
        except REDIS_ERRORS as exc:
            self._health.failed(exc)
            return await self._fallback.first_use(key, ttl_seconds)
        self._health.answered()
        if not created:
            return False
        # A proof first seen during an outage is in the fallback: refuse its replay too.
        return not self._fallback.seen(key)

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_replay_cache(redis_url: str | None) -> ReplayCache:
    """Redis when a URL is configured (many replicas share it), memory otherwise."""
    if redis_url:
        return RedisReplayCache(redis_url)
    return MemoryReplayCache()


# --- nonces ----------------------------------------------------------------------------------


class NonceSource:
    """Server nonces that need no storage: HMAC(key, time window), so any replica accepts them."""

    def __init__(self, key: bytes, *, window_seconds: int = 300) -> None:
        if len(key) < 16:
            raise ValueError("the nonce key must have at least 16 bytes")
        self._key = key
        self._window = window_seconds

    def _for_window(self, window: int) -> str:
        mac = hmac.new(self._key, b"sprintconnect-dpop-nonce:%d" % window, hashlib.sha256)
        return b64url_encode(mac.digest()[:24])

    def current(self, now: datetime) -> str:
        return self._for_window(int(now.timestamp()) // self._window)

    def valid(self, nonce: str, now: datetime) -> bool:
        """Whether ``nonce`` is this window's or the previous window's."""
        if not isinstance(nonce, str) or len(nonce) > 64:
            return False
        window = int(now.timestamp()) // self._window
        candidates = (self._for_window(window), self._for_window(window - 1))
        given = nonce.encode("ascii", "replace")
        # Compare with both, always, so the timing does not say which window matched.
        return bool(sum(hmac.compare_digest(given, c.encode("ascii")) for c in candidates))


# --- verification ----------------------------------------------------------------------------


def _embedded_key(header: Mapping[str, Any], alg: str) -> Key:
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise DpopRejected("jwk")
    if _PRIVATE_MEMBERS.intersection(jwk) or jwk.get("kty") not in ("RSA", "EC", "OKP"):
        raise DpopRejected("jwk")
    try:
        key = JWKRegistry.import_key(jwk)
    except Exception as exc:  # any import failure is a bad key
        raise DpopRejected("jwk") from exc
    if not isinstance(key, RSAKey | ECKey | OKPKey) or key.is_private or not key_fits(key, alg):
        raise DpopRejected("jwk")
    return key


class DpopVerifier:
    """Checks a ``DPoP`` header against the request it came with (RFC 9449 section 4.3)."""

    def __init__(
        self,
        replay: ReplayCache,
        nonces: NonceSource,
        *,
        require_nonce: bool = False,
        max_age_seconds: int = 300,
        leeway_seconds: int = 30,
        algorithms: frozenset[str] = ALLOWED_ALGORITHMS,
    ) -> None:
        self.replay = replay
        self.nonces = nonces
        self.require_nonce = require_nonce
        self.max_age_seconds = max_age_seconds
        self.leeway_seconds = leeway_seconds
        self.algorithms = algorithms & ALLOWED_ALGORITHMS

    async def verify(
        self,
        proof: str | None,
        *,
        method: str,
        url: str,
        now: datetime,
        access_token: str | None = None,
        expected_jkt: str | None = None,
    ) -> DpopProof:
        """The verified proof, or DpopRejected. Pass ``proof=None`` when the header is absent
        or repeated."""
        if proof is None or not isinstance(proof, str):
            raise DpopRejected("missing")
        try:
            parts = split_compact(proof, max_bytes=MAX_PROOF_BYTES)
        except TokenRejected as exc:
            raise DpopRejected("malformed") from exc
        header, claims = parts.header, parts.claims
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != DPOP_TYPE:
            raise DpopRejected("type")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise DpopRejected("algorithm")
        if "crit" in header or "b64" in header:
            raise DpopRejected("header")
        key = _embedded_key(header, alg)
        if not verify_signature(parts, key, alg):
            raise DpopRejected("signature")

        jti, htm, htu, iat = (claims.get(n) for n in ("jti", "htm", "htu", "iat"))
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
            raise DpopRejected("missing_claim", "The DPoP proof needs a 'jti' claim.")
        if not isinstance(htm, str):
            raise DpopRejected("missing_claim", "The DPoP proof needs an 'htm' claim.")
        if not isinstance(htu, str):
            raise DpopRejected("missing_claim", "The DPoP proof needs an 'htu' claim.")
        if isinstance(iat, bool) or not isinstance(iat, int | float):
            raise DpopRejected("missing_claim", "The DPoP proof needs a numeric 'iat' claim.")
        if htm != method:
            raise DpopRejected("htm")
        try:
            normalized = normalize_htu(htu)
            matches = normalized == normalize_htu(url)
        except ValueError:
            matches = False
        if not matches:
            raise DpopRejected("htu")

        nonce = claims.get("nonce")
        if (self.require_nonce or nonce is not None) and (
            not isinstance(nonce, str) or not self.nonces.valid(nonce, now)
        ):
            raise DpopRejected("nonce", use_nonce=self.nonces.current(now))

        moment = now.timestamp()
        if (
            iat > moment + self.leeway_seconds
            or iat < moment - self.max_age_seconds - self.leeway_seconds
        ):
            # No nonce offered here: a nonce does not widen the window (the replay cache keeps
            # a jti only for the window), so a client with a skewed clock would retry forever.
            raise DpopRejected("iat")

        if access_token is not None:
            ath = claims.get("ath")
            try:
                expected_ath = access_token_hash(access_token)
            except UnicodeEncodeError:
                expected_ath = ""
            if (
                not isinstance(ath, str)
                or not expected_ath
                or not hmac.compare_digest(ath, expected_ath)
            ):
                raise DpopRejected("ath")

        jkt = key.thumbprint()
        if expected_jkt is not None and not hmac.compare_digest(jkt, expected_jkt):
            raise DpopRejected("jkt")

        # Last, so that a proof failing another check does not use up its jti.
        ttl = self.max_age_seconds + 2 * self.leeway_seconds
        if not await self.replay.first_use(f"{jkt}\n{normalized}\n{jti}", ttl):
            raise DpopRejected("replay")
        return DpopProof(jkt=jkt, jti=jti, iat=int(iat), htm=htm, htu=normalized)


__all__ = [
    "DpopProof",
    "DpopRejected",
    "DpopVerifier",
    "MemoryReplayCache",
    "NonceSource",
    "RedisReplayCache",
    "ReplayCache",
    "access_token_hash",
    "build_replay_cache",
    "jwk_thumbprint",
    "normalize_htu",
]
