"""Where browser sessions live: PostgreSQL (default) or Redis (``SESSION_STORE=redis``).

The browser holds a random token; stores keep its HMAC digest, never the token. The
provider's refresh and ID tokens are sealed with AES-256-GCM under a key derived from the key
ring, with the session's id as associated data (a sealed value moved to another row does not
open).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.config import Settings
from sprintconnect.identity.session.repository import SessionRepository
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.models.sign_in import BrowserSession

SEAL_PURPOSE = "session-token-seal"
DIGEST_PURPOSE = "session-token"


def token_digest(keyring: KeyRing, token: str) -> bytes:
    return keyring.hmac(DIGEST_PURPOSE, token.encode())


def seal(keyring: KeyRing, session_id: UUID, value: str | None) -> bytes | None:
    if value is None:
        return None
    nonce = os.urandom(12)
    aead = AESGCM(keyring.derive(SEAL_PURPOSE, 32))
    return nonce + aead.encrypt(nonce, value.encode(), session_id.bytes)


def unseal(keyring: KeyRing, session_id: UUID, sealed: bytes | None) -> str | None:
    if not sealed or len(sealed) < 13:
        return None
    aead = AESGCM(keyring.derive(SEAL_PURPOSE, 32))
    try:
        return aead.decrypt(sealed[:12], sealed[12:], session_id.bytes).decode()
    except InvalidTag:
        return None


@dataclass(frozen=True)
class SessionRecord:
    id: UUID
    org_id: UUID
    user_id: UUID
    token_digest: bytes
    issuer: str
    created_at: datetime
    authenticated_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    acr: str | None = None
    amr: list[str] = field(default_factory=list)
    refresh_sealed: bytes | None = None
    id_token_sealed: bytes | None = None
    access_expires_at: datetime | None = None
    ip: str | None = None
    user_agent: str | None = None
    ended_at: datetime | None = None


_FIELDS = frozenset(SessionRecord.__dataclass_fields__)


class SessionStore(Protocol):
    async def create(self, db: AsyncSession, record: SessionRecord) -> None: ...

    async def find(self, db: AsyncSession, digest: bytes) -> SessionRecord | None: ...

    async def change(self, db: AsyncSession, record: SessionRecord, **values: Any) -> None:
        """Store ``values`` on ``record``'s session (the database session is bound)."""
        ...

    async def end(self, db: AsyncSession, record: SessionRecord, now: datetime) -> None: ...

    async def aclose(self) -> None: ...


class PostgresSessionStore:
    """Sessions as rows of ``browser_sessions`` (row-level security by organization)."""

    async def create(self, db: AsyncSession, record: SessionRecord) -> None:
        sessions = SessionRepository(db)
        # Sessions over for a day are of no use (the audit log keeps their story).
        await sessions.prune(record.org_id, record.created_at - timedelta(days=1))
        await sessions.add(BrowserSession(**asdict(record)))

    async def find(self, db: AsyncSession, digest: bytes) -> SessionRecord | None:
        row = await SessionRepository(db).lookup(digest)
        if row is None:
            return None
        return SessionRecord(**{k: v for k, v in row.items() if k in _FIELDS})

    async def change(self, db: AsyncSession, record: SessionRecord, **values: Any) -> None:
        await SessionRepository(db).change(record.id, **values)

    async def end(self, db: AsyncSession, record: SessionRecord, now: datetime) -> None:
        await SessionRepository(db).change(record.id, ended_at=now)

    async def aclose(self) -> None:
        return None


def _encode(record: SessionRecord) -> str:
    data: dict[str, Any] = {}
    for name, value in asdict(record).items():
        if isinstance(value, datetime):
            data[name] = value.isoformat()
        elif isinstance(value, UUID):
            data[name] = str(value)
        elif isinstance(value, bytes):
            data[name] = value.hex()
        else:
            data[name] = value
    return json.dumps(data)


def _decode(raw: str | bytes) -> SessionRecord:
    data = json.loads(raw)
    for name in ("id", "org_id", "user_id"):
        data[name] = UUID(data[name])
    for name in ("token_digest", "refresh_sealed", "id_token_sealed"):
        if data.get(name) is not None:
            data[name] = bytes.fromhex(data[name])
    for name in (
        "created_at",
        "authenticated_at",
        "last_seen_at",
        "expires_at",
        "access_expires_at",
        "ended_at",
    ):
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name])
    return SessionRecord(**{k: v for k, v in data.items() if k in _FIELDS})


class RedisSessionStore:
    """Sessions as Redis strings keyed by the token's digest, expiring with the session."""

    def __init__(self, url: str, *, idle_seconds: int) -> None:
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url)
        self._idle = idle_seconds

    @staticmethod
    def _key(digest: bytes) -> str:
        return f"sc:session:{digest.hex()}"

    async def _put(self, record: SessionRecord) -> None:
        ttl = max(1, int((record.expires_at - record.last_seen_at).total_seconds()))
        await self._redis.set(self._key(record.token_digest), _encode(record), ex=ttl)

    async def create(self, db: AsyncSession, record: SessionRecord) -> None:
        await self._put(record)

    async def find(self, db: AsyncSession, digest: bytes) -> SessionRecord | None:
        raw = await self._redis.get(self._key(digest))
        return _decode(raw) if raw is not None else None

    async def change(self, db: AsyncSession, record: SessionRecord, **values: Any) -> None:
        current = await self.find(db, record.token_digest)
        if current is not None:
            await self._put(replace(current, **values))

    async def end(self, db: AsyncSession, record: SessionRecord, now: datetime) -> None:
        await self._redis.delete(self._key(record.token_digest))

    async def aclose(self) -> None:
        await self._redis.aclose()


def session_store(state: Any, settings: Settings) -> SessionStore:
    """The process's store, kept on ``app.state`` (made on first use)."""
    found: SessionStore | None = getattr(state, "session_store", None)
    if found is None:
        if settings.session_store == "redis" and settings.redis_url is not None:
            found = RedisSessionStore(
                settings.redis_url.get_secret_value(), idle_seconds=settings.session_idle_seconds
            )
        else:
            found = PostgresSessionStore()
        state.session_store = found
    return found
