"""The token service's signing keys: ES256, sealed at rest, rotated with overlap.

A key's life: created and *published* (``/.well-known/jwks.json``) ``PUBLISH_LEAD`` before it
*signs* (``activates_at``), so that every client's cached JWKS knows it before the first token
it signs arrives; it signs until its successor activates (``retires_at``), and stays published
until every token it signed has expired (``retires_at`` + the access-token lifetime +
``LEEWAY``). ``withdraw`` ends a key at once (a compromise): tokens it signed are refused as
soon as each process reloads (at most ``RELOAD_SECONDS``, or on the first unknown ``kid``).

Private keys are sealed with AES-256-GCM under a key derived from the master key ring, the key
id as associated data, as the audit ledger's keys are (``audit.ledger.signing``).

Each process keeps the live keys in memory (``SigningKeys``), reloaded every
``RELOAD_SECONDS`` and, on a ``kid`` it does not know, at most once per
``UNKNOWN_KID_INTERVAL`` seconds.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwk import ECKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.identity.tokens.repository import SigningKeyRepository
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.models.token import TokenSigningKey

ALG = "ES256"
SEAL_PURPOSE = "token-signing-key:v1"
PUBLISH_LEAD = timedelta(minutes=10)
ROTATE_AFTER = timedelta(days=30)
LEEWAY = timedelta(seconds=60)
RELOAD_SECONDS = 60.0
UNKNOWN_KID_INTERVAL = 5.0


def _aead(keyring: KeyRing) -> AESGCM:
    return AESGCM(keyring.derive(SEAL_PURPOSE, 32))


def new_key(keyring: KeyRing, now: datetime, activates_at: datetime) -> TokenSigningKey:
    """A fresh P-256 key; its id is its RFC 7638 thumbprint."""
    private = ECKey.generate_key("P-256", private=True)
    kid = private.thumbprint()
    public = dict(private.as_dict(private=False))
    public.update({"kid": kid, "use": "sig", "alg": ALG})
    nonce = os.urandom(12)
    sealed = _aead(keyring).encrypt(nonce, private.as_pem(private=True), kid.encode())
    return TokenSigningKey(
        kid=kid,
        alg=ALG,
        public_jwk=public,
        private_nonce=nonce,
        private_sealed=sealed,
        created_at=now,
        activates_at=activates_at,
    )


def unseal(keyring: KeyRing, key: TokenSigningKey) -> ECKey:
    pem = _aead(keyring).decrypt(key.private_nonce, key.private_sealed, key.kid.encode())
    return ECKey.import_key(pem, {"kid": key.kid, "alg": ALG, "use": "sig"})


def signing_key(keys: list[TokenSigningKey], now: datetime) -> TokenSigningKey | None:
    """The key that signs at ``now``: the latest activated one that is not retired."""
    active = [
        k
        for k in keys
        if k.activates_at <= now
        and (k.retires_at is None or k.retires_at > now)
        and k.withdrawn_at is None
    ]
    return max(active, key=lambda k: (k.activates_at, k.kid)) if active else None


def published(
    keys: list[TokenSigningKey], now: datetime, lifetime: timedelta
) -> list[TokenSigningKey]:
    """Keys a verifier accepts at ``now``: pending, signing, or retired with tokens alive."""
    return [
        k
        for k in keys
        if k.withdrawn_at is None
        and (k.retires_at is None or k.retires_at + lifetime + LEEWAY > now)
    ]


async def ensure_key(session: AsyncSession, keyring: KeyRing, now: datetime) -> None:
    """Create the first key (signing at once) when no key signs at ``now``."""
    repo = SigningKeyRepository(session)
    await repo.lock()
    live = list(await repo.live(now))
    if signing_key(live, now) is None:
        # Signs at once; a successor already scheduled still takes over when it activates.
        await repo.add(new_key(keyring, now, now))


async def rotate(
    session: AsyncSession,
    keyring: KeyRing,
    now: datetime,
    *,
    lead: timedelta = PUBLISH_LEAD,
) -> TokenSigningKey:
    """Schedule a successor: published now, signing from ``now + lead``; the current key
    retires then. ``lead`` 0 switches at once (tokens of the old key stay valid)."""
    repo = SigningKeyRepository(session)
    await repo.lock()
    live = list(await repo.live(now))
    activates = now + lead
    for key in live:
        if key.retires_at is None and key.activates_at <= activates:
            await repo.retire(key.kid, activates)
    successor = new_key(keyring, now, activates)
    await repo.add(successor)
    return successor


async def rotate_if_due(
    session: AsyncSession,
    keyring: KeyRing,
    now: datetime,
    *,
    rotate_after: timedelta = ROTATE_AFTER,
) -> TokenSigningKey | None:
    """The periodic task's step: a first key when none, a successor once the key is old."""
    repo = SigningKeyRepository(session)
    await repo.lock()
    live = list(await repo.live(now))
    current = signing_key(live, now)
    if current is None:
        await ensure_key(session, keyring, now)
        return None
    if any(k.activates_at > now for k in live):
        return None  # a successor is already on its way
    if now - current.activates_at < rotate_after:
        return None
    return await rotate(session, keyring, now)


async def withdraw(session: AsyncSession, kid: str, now: datetime) -> bool:
    """Stop publishing ``kid`` at once: every token it signed is refused from now on."""
    return await SigningKeyRepository(session).withdraw(kid, now)


@dataclass(frozen=True)
class Signer:
    kid: str
    key: ECKey


class SigningKeys:
    """The live keys of this process: signing, JWKS and the verifier's ``KeySource``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        keyring: KeyRing,
        clock: Clock,
        *,
        token_seconds: int,
        reload_seconds: float = RELOAD_SECONDS,
        unknown_kid_interval: float = UNKNOWN_KID_INTERVAL,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._keyring = keyring
        self._clock = clock
        self._lifetime = timedelta(seconds=token_seconds)
        self._reload_seconds = reload_seconds
        self._unknown_interval = unknown_kid_interval
        self._keys: list[TokenSigningKey] = []
        self._public: dict[str, ECKey] = {}
        self._private: dict[str, ECKey] = {}
        self._loaded_at: float | None = None
        self._unknown_at = -1e18
        self._lock = asyncio.Lock()

    async def _load(self, *, create: bool = False) -> None:
        now = self._clock.now()
        async with self._sessionmaker() as session, session.begin():
            if create:
                await ensure_key(session, self._keyring, now)
            rows = list(await SigningKeyRepository(session).live(now - self._lifetime - LEEWAY))
        self._keys = rows
        self._public = {k.kid: ECKey.import_key(dict(k.public_jwk)) for k in rows}
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        if self._loaded_at is None or time.monotonic() - self._loaded_at > self._reload_seconds:
            async with self._lock:
                if (
                    self._loaded_at is None
                    or time.monotonic() - self._loaded_at > self._reload_seconds
                ):
                    await self._load()

    def forget(self) -> None:
        """Reload on next use (after a rotation or a withdrawal in this process)."""
        self._loaded_at = None

    async def signer(self) -> Signer:
        """The key that signs now; the first key is created on first use."""
        await self._fresh()
        now = self._clock.now()
        current = signing_key(self._keys, now)
        if current is None:
            async with self._lock:
                await self._load(create=True)
            current = signing_key(self._keys, self._clock.now())
            if current is None:  # pragma: no cover - ensure_key just made one
                raise RuntimeError("no token signing key")
        private = self._private.get(current.kid)
        if private is None:
            private = unseal(self._keyring, current)
            self._private[current.kid] = private
        return Signer(current.kid, private)

    def _accepted(self, now: datetime) -> dict[str, ECKey]:
        kids = {k.kid for k in published(self._keys, now, self._lifetime)}
        return {kid: key for kid, key in self._public.items() if kid in kids}

    async def key_for(self, kid: str | None, alg: str) -> ECKey | None:
        """``KeySource``: the published key ``kid`` (ES256 only); an unknown one reloads the
        set at most once per ``unknown_kid_interval``."""
        if kid is None or alg != ALG:
            return None
        await self._fresh()
        key = self._accepted(self._clock.now()).get(kid)
        if key is None and time.monotonic() - self._unknown_at > self._unknown_interval:
            self._unknown_at = time.monotonic()
            async with self._lock:
                await self._load()
            key = self._accepted(self._clock.now()).get(kid)
        return key

    async def jwks(self) -> dict[str, Any]:
        """The JWKS document: every published key (pending, signing, overlapping)."""
        await self._fresh()
        if not self._keys:
            await self.signer()
        now = self._clock.now()
        return {"keys": [dict(k.public_jwk) for k in published(self._keys, now, self._lifetime)]}
