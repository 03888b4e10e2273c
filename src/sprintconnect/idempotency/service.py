"""Claiming, completing, releasing and replaying idempotency keys.

The service never commits: the idempotency middleware owns the short transactions it runs in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.api_key.service import ApiKeyService, KeyFailure
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.idempotency.errors import IdempotencyInProgress, IdempotencyKeyReused
from sprintconnect.idempotency.repository import IdempotencyRepository
from sprintconnect.idempotency.request import Fingerprint
from sprintconnect.idempotency.sealing import seal, unseal
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.models import IdempotencyKey

# How long a claim may stay in progress before another request may take it over: longer than
# any request runs, short enough that a crashed process does not block a key for a day.
IN_PROGRESS_LEASE = timedelta(minutes=10)

# Answers that say nothing about the request itself (missing credentials, a spent rate limit,
# a timeout) are not kept, like 5xx: the key is released and a retry runs again.
UNCACHED_STATUSES = frozenset({401, 408, 429})


def cacheable(status: int) -> bool:
    return status < 500 and status not in UNCACHED_STATUSES


@dataclass(frozen=True)
class Identity:
    """Who a key belongs to: an API key's id, or the id of the user behind an access token
    or a browser session (``idempotency.callers``); and the rate-limit subject the caller's
    requests draw on (``identity.auth.charge``)."""

    org_id: UUID
    caller_id: UUID
    limit_subject: str


@dataclass(frozen=True)
class Claim:
    """A key this request holds while it runs."""

    identity: Identity
    key: str
    claim_id: UUID


@dataclass(frozen=True)
class StoredResponse:
    """An answer as it is replayed: status, the headers that matter, and the body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class IdempotencyService:
    def __init__(
        self, session: AsyncSession, keyring: KeyRing, clock: Clock, *, ttl: timedelta
    ) -> None:
        self.session = session
        self.keyring = keyring
        self.clock = clock
        self.ttl = ttl
        self.keys = IdempotencyRepository(session)

    async def identify(self, token: str, *, debounce: timedelta) -> Identity | None:
        """The credential behind a bearer token, or None when the route is to refuse it.

        The key is verified in full (secret, expiry, revocation), not only located by its
        prefix: prefixes are not secret, and a caller who knows one must not be able to claim
        or read keys in the name of that credential.
        """
        verified = await ApiKeyService(self.session, self.keyring, self.clock).verify(
            token, debounce=debounce
        )
        if isinstance(verified, KeyFailure):
            return None
        return Identity(
            org_id=verified.org_id, caller_id=verified.id, limit_subject=str(verified.id)
        )

    async def begin(
        self, identity: Identity, key: str, fingerprint: Fingerprint
    ) -> Claim | StoredResponse:
        """Claim the key for this request, or give the answer of the request that holds it.

        Raises ``IdempotencyKeyReused`` when the key was first used for another request, and
        ``IdempotencyInProgress`` while that first request still runs.
        """
        await bind_tenant(self.session, identity.org_id)
        now = self.clock.now()
        await self.keys.purge_expired(identity.org_id, now)
        record = IdempotencyKey(
            org_id=identity.org_id,
            caller_id=identity.caller_id,
            key=key,
            claim_id=uuid.uuid4(),
            method=fingerprint.method,
            path=fingerprint.target,
            body_sha256=fingerprint.body_sha256,
            created_at=now,
            expires_at=now + self.ttl,
            locked_until=now + IN_PROGRESS_LEASE,
            completed_at=None,
            status_code=None,
            response_headers=None,
            response_body=None,
        )
        if await self.keys.claim(record, now):
            return Claim(identity=identity, key=key, claim_id=record.claim_id)
        existing = await self.keys.get(identity.org_id, identity.caller_id, key)
        if existing is None:  # released between the conflict and the read: never held long
            raise IdempotencyInProgress()
        if (existing.method, existing.path, existing.body_sha256) != (
            fingerprint.method,
            fingerprint.target,
            fingerprint.body_sha256,
        ):
            raise IdempotencyKeyReused(existing.method, existing.path)
        if existing.status_code is None or existing.response_body is None:
            raise IdempotencyInProgress()
        body = unseal(
            self.keyring, identity.org_id, identity.caller_id, key, existing.response_body
        )
        headers = [(str(name), str(value)) for name, value in existing.response_headers or []]
        return StoredResponse(status=existing.status_code, headers=headers, body=body)

    async def finish(self, claim: Claim, response: StoredResponse) -> None:
        """Keep the answer for replays, or release the key when the answer is not final."""
        if not cacheable(response.status):
            await self.release(claim)
            return
        identity = claim.identity
        await bind_tenant(self.session, identity.org_id)
        await self.keys.complete(
            identity.org_id,
            identity.caller_id,
            claim.key,
            claim.claim_id,
            status_code=response.status,
            headers=[[name, value] for name, value in response.headers],
            body=seal(self.keyring, identity.org_id, identity.caller_id, claim.key, response.body),
            now=self.clock.now(),
        )

    async def release(self, claim: Claim) -> None:
        identity = claim.identity
        await bind_tenant(self.session, identity.org_id)
        await self.keys.release(identity.org_id, identity.caller_id, claim.key, claim.claim_id)
