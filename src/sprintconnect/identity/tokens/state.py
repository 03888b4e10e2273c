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
import time
from dataclasses import dataclass
from datetime import datetime
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
