"""What the token service keeps per process: signing keys, the DPoP verifier, the list of
revoked access tokens and a short cache of subjects' access facts.

``token_state(app)`` builds it on first use and keeps it on ``app.state.token_state``; the app's
lifespan may build it up front with ``build_token_state`` and close it with ``aclose``.

Bounds, documented in docs/tokens.md:

- A revoked access token is refused at once by the process that revoked it, and by every other
  process within ``REVOCATION_REFRESH_SECONDS`` (each reloads the live revocations of every
  organization, one small query, at most that often).
- Roles, membership and a service account's disabled flag are read again at most
  ``SPRINTCONNECT_API_KEY_CACHE_SECONDS`` after they were last read for a subject (the same
  bound as API keys), and at once in this process after any committed change there.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from sprintconnect.authz.repository import AccessFacts
from sprintconnect.identity.jose import DpopVerifier, NonceSource, ReplayCache, build_replay_cache
from sprintconnect.identity.tokens.keys import SigningKeys
from sprintconnect.identity.tokens.repository import RevocationRepository
from sprintconnect.runtime import Runtime

REVOCATION_REFRESH_SECONDS = 5.0
NONCE_PURPOSE = "dpop-nonce:v1"
_AFTER_COMMIT = "sprintconnect.tokens.after_commit"


class RevocationList:
    """Revoked access tokens' ``jti`` with their expiry, reloaded every few seconds."""

    def __init__(self, runtime: Runtime, *, refresh_seconds: float = REVOCATION_REFRESH_SECONDS):
        self._runtime = runtime
        self._refresh = refresh_seconds
        self._revoked: dict[str, datetime] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def _load(self) -> None:
        now = self._runtime.clock.now()
        async with self._runtime.db.sessionmaker() as session, session.begin():
            rows = await RevocationRepository(session).live(now)
        self._revoked = dict(rows)
        self._loaded_at = time.monotonic()

    async def is_revoked(self, jti: str) -> bool:
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self._refresh:
            async with self._lock:
                if self._loaded_at is None or time.monotonic() - self._loaded_at > self._refresh:
                    await self._load()
        return jti in self._revoked

    def add(self, jti: str, expires_at: datetime) -> None:
        self._revoked[jti] = expires_at

    def add_after_commit(self, session: AsyncSession, jti: str, expires_at: datetime) -> None:
        """Refuse ``jti`` here as soon as the revocation commits."""
        pending: list[tuple[str, datetime]] = session.info.setdefault(_AFTER_COMMIT, [])
        pending.append((jti, expires_at))

        def after_commit(_: Session) -> None:
            for item in session.info.pop(_AFTER_COMMIT, []):
                self.add(*item)

        if len(pending) == 1:
            event.listen(session.sync_session, "after_commit", after_commit, once=True)


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    kid: str
    verified_at: float


class VerifiedTokens:
    """Claims of our own access tokens that this process verified, by the token's SHA-256.

    A client sends the same token on every request for its few minutes of life; checking its
    ES256 signature each time is most of what a token costs. An entry serves while the token
    has not expired (``exp``, by the platform clock), for at most ``max_age_seconds``, and
    only while its signing key is still accepted (a withdrawn key's tokens are refused again
    once this process has reloaded the keys). Revocation, binding (DPoP, certificate) and the
    subject's membership are checked on every request regardless.
    """

    def __init__(self, *, max_entries: int = 10_000, max_age_seconds: float = 30.0) -> None:
        self.max_entries = max_entries
        self.max_age = max_age_seconds
        self._entries: dict[bytes, Verified] = {}

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, token: str, now: datetime) -> Verified | None:
        key = self._key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        exp = entry.claims.get("exp")
        fresh = time.monotonic() - entry.verified_at < self.max_age
        if not fresh or not isinstance(exp, int | float) or now.timestamp() >= exp:
            del self._entries[key]
            return None
        return entry

    def put(self, token: str, claims: dict[str, Any], kid: str) -> None:
        if self.max_entries <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[self._key(token)] = Verified(claims, kid, time.monotonic())


@dataclass(frozen=True)
class Subject:
    facts: AccessFacts
    service_account_active: bool | None  # None: the token names no service account
    generation: int
    read_at: float


class SubjectCache:
    """(org, user, service account) -> facts, for ``ttl`` seconds and one cache generation."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[tuple[UUID, UUID, UUID | None], Subject] = {}

    def get(self, key: tuple[UUID, UUID, UUID | None], generation: int) -> Subject | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != generation or time.monotonic() - entry.read_at >= self.ttl:
            del self._entries[key]
            return None
        return entry

    def put(self, key: tuple[UUID, UUID, UUID | None], entry: Subject) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = entry


class TokenState:
    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.keys = SigningKeys(
            runtime.db.sessionmaker,
            runtime.keyring,
            runtime.clock,
            token_seconds=settings.access_token_seconds,
        )
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        self.replay: ReplayCache = build_replay_cache(redis_url)
        self.nonces = NonceSource(runtime.keyring.derive(NONCE_PURPOSE, 32))
        self.dpop = DpopVerifier(
            self.replay, self.nonces, require_nonce=settings.dpop_require_nonce
        )
        self.revocations = RevocationList(runtime)
        self.subjects = SubjectCache(float(settings.api_key_cache_seconds))
        self.verified = VerifiedTokens()

    async def aclose(self) -> None:
        close = getattr(self.replay, "aclose", None)
        if close is not None:
            await close()


def build_token_state(runtime: Runtime) -> TokenState:
    return TokenState(runtime)


def token_state(app: FastAPI) -> TokenState:
    state: TokenState | None = getattr(app.state, "token_state", None)
    if state is None:
        state = TokenState(app.state.runtime)
        app.state.token_state = state
    return state
