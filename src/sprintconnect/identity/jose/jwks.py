"""A cached JSON Web Key Set with a TTL, background refresh and a rate-limited unknown-kid refetch.

The cache serves verifiers on the request path, so it never lets many requests fetch at once:
one fetch runs at a time and concurrent callers wait for its outcome. Past half the TTL the set
is refreshed in the background while the old set keeps serving; past the TTL callers wait for a
fresh set; if fetching fails the last good set serves until twice the TTL, then every caller is
told the keys are unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpcore
import httpx
from joserfc.jwk import JWKRegistry, Key

from sprintconnect.egress import EgressDenied, EgressPolicy, Resolver, build_httpx_client
from sprintconnect.identity.jose.verify import (
    TokenRejected,
    json_object,
    public_keys,
    select_key,
)

log = logging.getLogger(__name__)

MAX_KEYS = 100  # a set larger than this is not a key set anyone publishes


def parse_key_set(document: dict[str, Any]) -> list[Key]:
    """The usable public signing keys of a JWKS document; keys that do not parse are skipped."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise TokenRejected("keys_unavailable", "The issuer's key set is not valid.")
    keys: list[Key] = []
    for entry in entries[:MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC", "OKP"):  # symmetric or unknown: never ours
            continue
        try:
            keys.append(JWKRegistry.import_key(entry))
        except Exception as exc:  # an unknown kty or a broken key is skipped (RFC 7517 5)
            log.info("jwks: skipped a key (%s)", type(exc).__name__)
    return public_keys(keys)


class JwksCache:
    """A ``KeySource`` over a fetched key set; see the module docstring for the refresh rules."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[str, Any]]],
        *,
        ttl_seconds: float,
        refetch_interval_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._refetch_interval = refetch_interval_seconds
        self._clock = clock
        self._keys: list[Key] | None = None
        self._fetched_at = 0.0
        self._last_unknown_refetch: float | None = None
        self._lock = asyncio.Lock()
        self._generation = 0  # bumped after every fetch attempt, good or bad
        self._failure: TokenRejected | None = None
        self._failed_at = 0.0
        self._background: asyncio.Task[None] | None = None
        self.fetches = 0  # how many fetches were started (for operators' metrics and tests)

    async def key_for(self, kid: str | None, alg: str) -> Key | None:
        keys = await self._current()
        key = select_key(keys, kid, alg)
        if key is not None:
            return key
        now = self._clock()
        last = self._last_unknown_refetch
        if last is not None and now - last < self._refetch_interval:
            return None  # an unknown kid refetches at most once per interval
        self._last_unknown_refetch = now
        with contextlib.suppress(TokenRejected):  # keep serving the old set
            await self._refresh(self._generation)
        return select_key(self._keys or [], kid, alg)

    async def _current(self) -> list[Key]:
        now = self._clock()
        age = now - self._fetched_at
        # After a failed fetch, wait an interval before the next try: an issuer that is down
        # must not be asked once per request.
        backing_off = self._failure is not None and now - self._failed_at < self._refetch_interval
        if self._keys is None or age >= self._ttl:
            if not backing_off:
                with contextlib.suppress(TokenRejected):
                    await self._refresh(self._generation)
            age = self._clock() - self._fetched_at
            if self._keys is None or age >= 2 * self._ttl:
                raise self._failure or TokenRejected("keys_unavailable")
            if self._failure is not None:
                log.warning("jwks refresh failed; serving the previous key set")
        elif age >= self._ttl / 2 and not backing_off:
            self._start_background()
        return self._keys

    async def _refresh(self, seen: int) -> None:
        """Fetch unless a fetch finished since generation ``seen``; re-raise its failure."""
        async with self._lock:
            if self._generation != seen:  # someone fetched while we waited: use theirs
                if self._failure is not None:
                    raise self._failure
                return
            self.fetches += 1
            try:
                document = await self._fetch()
                keys = parse_key_set(document)
            except TokenRejected as exc:
                self._failure, self._failed_at = exc, self._clock()
                raise
            except Exception as exc:
                log.warning("jwks fetch failed: %s", type(exc).__name__)
                self._failure, self._failed_at = TokenRejected("keys_unavailable"), self._clock()
                raise self._failure from exc
            finally:
                self._generation += 1
            self._failure = None
            self._keys = keys
            self._fetched_at = self._clock()

    def _start_background(self) -> None:
        if self._background is not None and not self._background.done():
            return
        self._background = asyncio.get_running_loop().create_task(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        with contextlib.suppress(TokenRejected):
            await self._refresh(self._generation)

    async def aclose(self) -> None:
        """Cancel a background refresh."""
        task, self._background = self._background, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def fetch_json(
    url: str,
    policy: EgressPolicy,
    *,
    timeout: float = 5.0,  # noqa: ASYNC109 - the brief's signature; bounds connect and read
    max_bytes: int = 262_144,
    resolver: Resolver | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> dict[str, Any]:
    """One GET through the egress guard: a JSON object of at most ``max_bytes``.

    Raises TokenRejected("keys_unavailable") when the URL is refused, unreachable, slow, answers
    other than 200, or sends something that is not a JSON object.
    """
    client = build_httpx_client(
        policy,
        resolver=resolver,
        network_backend=network_backend,
        timeout=httpx.Timeout(timeout),
        headers={"accept": "application/json", "user-agent": "SprintConnect"},
        follow_redirects=True,
        max_redirects=3,
    )
    try:
        async with client, asyncio.timeout(timeout * 2), client.stream("GET", url) as response:
            if response.status_code != 200:
                raise TokenRejected(
                    "keys_unavailable", f"The key endpoint answered {response.status_code}."
                )
            raw = bytearray()
            async for chunk in response.aiter_bytes():
                raw += chunk
                if len(raw) > max_bytes:
                    raise TokenRejected(
                        "keys_unavailable", "The key endpoint's answer is too large."
                    )
    except TokenRejected:
        raise
    except EgressDenied as exc:
        raise TokenRejected(
            "keys_unavailable", "The key endpoint's address is not allowed."
        ) from exc
    except (httpx.InvalidURL, UnicodeError) as exc:  # e.g. a host name IDNA refuses
        raise TokenRejected("keys_unavailable", "The URL is not a valid address.") from exc
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        raise TokenRejected("keys_unavailable", "The key endpoint could not be reached.") from exc
    try:
        return json_object(bytes(raw))
    except ValueError as exc:
        raise TokenRejected(
            "keys_unavailable", "The key endpoint did not answer a JSON object."
        ) from exc


__all__ = ["JwksCache", "fetch_json", "parse_key_set"]
