"""Verified API keys remembered for a few seconds in process, so a hot key is not read again.

What an entry holds: for the HMAC digest of a presented key that verified (never the
plaintext, never a refusal), the key's id, organization, scopes, kind, expiry and owner, and
the owner's access facts (roles, policy version, time zone) as read then.

How long it can be wrong:

- In this process, never after a commit that changed what it holds: a revocation (``api_key``
  service, any caller) and every committed mutating request that a key of an organization
  made (role, membership, policy changes...) drop that organization's entries when their
  transaction commits (a platform operator's drops every entry). A reader that started
  before such a commit cannot put its older answer back (a generation check).
- In other processes (other replicas, the CLI), until the entry's age reaches
  ``SPRINTCONNECT_API_KEY_CACHE_SECONDS``: the bound on how long a revocation or a role change
  made elsewhere can take to apply here.
- A key in use is checked again in the background once its entry is half that old
  (``REFRESH_AFTER``): a pass renews the entry from the check's start, a refusal drops it, so
  hot keys never wait for a full check on the request path and changes made elsewhere
  usually show within half the bound.
- Expiry is checked against the clock on every hit; what the key's check does on a miss
  (prefix lookup, HMAC comparison, revocation, expiry, owner membership, audit of a refusal)
  is unchanged, and throttling and rate limits still run on every request.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from sprintconnect.authz.repository import AccessFacts

# Each entry is small (about a kilobyte); the bound keeps a flood of distinct valid keys cheap.
MAX_ENTRIES = 10_000
_PENDING = "sprintconnect.auth_cache.pending"
_UNSTAMP = "sprintconnect.auth_cache.unstamp"
_EVERY_ORG = "*"


@dataclass(frozen=True)
class VerifiedKey:
    """What a successful key check found, and when."""

    key_id: UUID
    org_id: UUID
    scopes: frozenset[str]
    created_by_user_id: UUID | None
    expires_at: datetime | None
    last_used_at: datetime | None
    facts: AccessFacts
    checked_at: datetime
    # Fingerprints of the clients the key was last used from (``identity.auth_events``).
    recent_clients: tuple[str, ...] = ()


# A key in use is checked again in the background once its entry is this share of ``ttl`` old,
# so that hot keys never wait for a full check on the request path.
REFRESH_AFTER = 0.5


class PrincipalCache:
    """Digest of a verified key -> ``VerifiedKey``, for ``ttl`` at most; see the module doc."""

    def __init__(self, ttl_seconds: float, *, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, VerifiedKey] = OrderedDict()
        self._generation = 0
        self._refreshing: set[bytes] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        _LIVE.add(self)

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0)

    def generation(self) -> int:
        """Taken before reading the database; ``put`` refuses an answer older than a drop."""
        return self._generation

    def get(self, digest: bytes, now: datetime) -> VerifiedKey | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        age = now - entry.checked_at
        expired = entry.expires_at is not None and entry.expires_at <= now
        if age >= self.ttl or age < timedelta(0) or expired:
            del self._entries[digest]
            return None
        return entry

    def put(self, digest: bytes, entry: VerifiedKey, generation: int) -> None:
        if not self.enabled or generation != self._generation:
            return
        self._entries[digest] = entry
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def used(self, digest: bytes, at: datetime, recent_clients: tuple[str, ...]) -> None:
        """The key's use was stamped at ``at`` (so the next stamp waits its debounce) by a
        client now among ``recent_clients``."""
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = replace(entry, last_used_at=at, recent_clients=recent_clients)

    def unstamp(
        self, digest: bytes, previous: datetime | None, recent_clients: tuple[str, ...]
    ) -> None:
        """The stamp at ``used`` rolled back: the next request stamps (and audits) again."""
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = replace(
                entry, last_used_at=previous, recent_clients=recent_clients
            )

    def refresh_due(self, digest: bytes, now: datetime) -> bool:
        """Whether to check this (cached, served) key again in the background now; claims
        the refresh, so one runs per key at a time."""
        entry = self._entries.get(digest)
        if entry is None or digest in self._refreshing:
            return False
        if now - entry.checked_at < self.ttl * REFRESH_AFTER:
            return False
        self._refreshing.add(digest)
        return True

    def refreshed(
        self,
        digest: bytes,
        generation: int,
        *,
        scopes: frozenset[str],
        expires_at: datetime | None,
        facts: AccessFacts,
        checked_at: datetime,
    ) -> None:
        """The background check passed: the entry holds what it read, as of ``checked_at``
        (its start). Dropped meanwhile (a change committed), it stays dropped."""
        self._refreshing.discard(digest)
        entry = self._entries.get(digest)
        if entry is None or generation != self._generation:
            return
        self._entries[digest] = replace(
            entry, scopes=scopes, expires_at=expires_at, facts=facts, checked_at=checked_at
        )

    def refused(self, digest: bytes) -> None:
        """The background check refused the key (revoked, expired, owner gone): forget it,
        so that the next request is checked in full and gets the refusal."""
        self._refreshing.discard(digest)
        self._entries.pop(digest, None)

    def refresh_failed(self, digest: bytes) -> None:
        """The background check could not run (database away): the entry ages out as before."""
        self._refreshing.discard(digest)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a background check, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self) -> None:
        """Wait for the background checks running now (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop(self, org_ids: set[str]) -> None:
        """Forget the entries of these organizations (``"*"``: all of them)."""
        self._generation += 1
        if _EVERY_ORG in org_ids:
            self._entries.clear()
            return
        for digest, entry in list(self._entries.items()):
            if str(entry.org_id) in org_ids:
                del self._entries[digest]

    def __len__(self) -> int:
        return len(self._entries)


_LIVE: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


def forget_now(org_ids: set[str]) -> None:
    """Drop these organizations' entries from every cache of this process."""
    for cache in list(_LIVE):
        cache.drop(org_ids)


def forget_after_commit(session: AsyncSession, org_id: UUID | None) -> None:
    """Drop ``org_id``'s entries (None: every organization's) once ``session`` commits.

    After, not before: a request that read the old rows before the commit could otherwise
    put them back. What is pending stays pending through a rollback: dropping once too often
    costs a lookup, once too few would be the bug.
    """
    pending: set[str] = session.sync_session.info.setdefault(_PENDING, set())
    pending.add(_EVERY_ORG if org_id is None else str(org_id))


def unstamp_after_rollback(
    session: AsyncSession,
    cache: PrincipalCache,
    digest: bytes,
    previous: datetime | None,
    recent_clients: tuple[str, ...],
) -> None:
    """Should ``session`` roll back, the key's stamp (and its audit entry) did not happen:
    put the cached last use back to ``previous`` so that a later request stamps it."""
    pending = session.sync_session.info.setdefault(_UNSTAMP, [])
    pending.append((cache, digest, previous, recent_clients))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_UNSTAMP, None)
    pending = session.info.pop(_PENDING, None)
    if pending:
        forget_now(pending)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without a commit (rolled back, or closed unfinished): its
    stamps did not happen (a commit took them away first)."""
    if transaction.parent is not None:
        return
    for cache, digest, previous, recent_clients in session.info.pop(_UNSTAMP, ()):
        cache.unstamp(digest, previous, recent_clients)
