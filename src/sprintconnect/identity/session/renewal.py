"""Renewing a session's provider tokens with its stored refresh token.

Once the provider's access token has expired, the request waits for the renewal (a refusal
ends the session); in its last minute, the renewal runs in the background. One renewal per
session at a time in this process (a refresh token is used once); ``settled`` waits for the
background ones at shutdown.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.session import bind_from_now, release_connection
from sprintconnect.identity.session.loading import load_provider
from sprintconnect.identity.session.provider import (
    ProviderUnavailable,
    directory,
    policy_for,
    token_request,
)
from sprintconnect.identity.session.store import SessionRecord, seal, session_store, unseal
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

# Sessions renewing in the background (one task per session at a time), and their tasks.
_renewing: set[object] = set()
_tasks: set[asyncio.Task[None]] = set()
_locks: dict[UUID, asyncio.Lock] = {}


async def renew(
    request: Request, runtime: Runtime, db: AsyncSession, record: SessionRecord
) -> SessionRecord | None:
    """Renew the provider's tokens with the stored refresh token; the updated record, or
    None when the provider refuses. ``db`` holds no connection across the call.

    One renewal per session at a time in this process: a caller that waited finds the
    session renewed already and uses that (a refresh token is used once).
    """
    await bind_from_now(db, record.org_id)
    lock = _locks.setdefault(record.id, asyncio.Lock())
    try:
        async with lock:
            store = session_store(request.app.state, runtime.settings)
            current = await store.find(db, record.token_digest)
            if current is None or current.ended_at is not None:
                return None
            if _due(current, runtime.clock.now()) == (False, False):
                return current  # renewed meanwhile
            return await _renew(request, runtime, db, current)
    finally:
        if not lock.locked():
            _locks.pop(record.id, None)


async def _renew(
    request: Request, runtime: Runtime, db: AsyncSession, record: SessionRecord
) -> SessionRecord | None:
    refresh = unseal(runtime.keyring, record.id, record.refresh_sealed)
    if refresh is None:
        return None
    try:
        loaded = await load_provider(request, db, record.org_id)
    except Exception:  # no provider any more: the session cannot be renewed
        return None
    await release_connection(db)
    provider = loaded.provider
    if provider.issuer != record.issuer:
        return None
    settings = runtime.settings
    policy = policy_for(settings, provider.issuer, loaded.allowlist, record.org_id)
    try:
        metadata = await directory(request.app.state, settings).metadata(
            record.org_id, provider.issuer, policy
        )
        answer = await token_request(
            metadata,
            policy,
            client_id=provider.client_id,
            client_secret=loaded.secret,
            form={"grant_type": "refresh_token", "refresh_token": refresh},
        )
    except ProviderUnavailable as exc:
        log.warning("session.renewal_failed", session_id=str(record.id), reason=exc.reason)
        return None
    now = runtime.clock.now()
    expires_in = answer.get("expires_in")
    lifetime = int(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 300
    new_refresh = answer.get("refresh_token")
    values: dict[str, object] = {"access_expires_at": now + timedelta(seconds=lifetime)}
    if isinstance(new_refresh, str):
        values["refresh_sealed"] = seal(runtime.keyring, record.id, new_refresh)
    if isinstance(answer.get("id_token"), str):
        values["id_token_sealed"] = seal(runtime.keyring, record.id, answer["id_token"])
    await session_store(request.app.state, settings).change(db, record, **values)
    return replace(record, **values)  # type: ignore[arg-type]


async def _renew_in_background(request: Request, runtime: Runtime, record: SessionRecord) -> None:
    try:
        async with runtime.db.sessionmaker() as db:
            try:
                await renew(request, runtime, db, record)
                await db.commit()
            except Exception as exc:
                log.warning("session.background_renewal_failed", error=type(exc).__name__)
                await db.rollback()
    finally:
        _renewing.discard(record.id)


def _due(record: SessionRecord, now: datetime) -> tuple[bool, bool]:
    """(must renew now, may renew in the background)."""
    if record.access_expires_at is None or record.refresh_sealed is None:
        return False, False
    if now >= record.access_expires_at:
        return True, False
    soon = record.access_expires_at - timedelta(seconds=60)
    return False, now >= soon


async def settled() -> None:
    """Wait for background renewals (at shutdown: they use the database pool)."""
    if _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


async def renew_when_due(
    request: Request, runtime: Runtime, db: AsyncSession, record: SessionRecord, now: datetime
) -> SessionRecord | None:
    """``record``, renewed first when its access token has expired (None when the provider
    refuses); in the access token's last minute, a background renewal starts instead."""
    now_due, soon = _due(record, now)
    if now_due:
        return await renew(request, runtime, db, record)
    if soon and record.id not in _renewing:
        _renewing.add(record.id)
        task = asyncio.get_running_loop().create_task(
            _renew_in_background(request, runtime, record)
        )
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    return record
