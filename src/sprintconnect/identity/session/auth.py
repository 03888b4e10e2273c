"""Authenticating a request by its browser session cookie.

Checks, in order: the session exists and has not ended, idle and absolute expiry, CSRF for
methods that change something (``csrf``: ``X-CSRF-Token`` equal to the session's, and no
cross-site ``Origin``/``Sec-Fetch-Site``), the rate limits, then renewal of the provider's
access token with the stored refresh token once it has expired (ahead of that, in the
background; ``renewal``). The principal is built like an API key's, from the roles read now,
with scopes ``admin`` so that the roles alone bound what the session may do.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.db.session import bind_from_now
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import InvalidCredentials
from sprintconnect.identity.assembly import assemble_principal
from sprintconnect.identity.auth import charge
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.session.cookies import session_cookie
from sprintconnect.identity.session.csrf import check_csrf, csrf_token
from sprintconnect.identity.session.errors import SessionExpired
from sprintconnect.identity.session.links import login_url
from sprintconnect.identity.session.renewal import renew_when_due
from sprintconnect.identity.session.store import (
    SessionRecord,
    SessionStore,
    session_store,
    token_digest,
)
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.runtime import Runtime

__all__ = ["authenticate_session", "csrf_token", "session_cookie"]

TOUCH_SECONDS = 60
SESSION_SCOPES = frozenset({"admin"})


def _login_url(runtime: Runtime, slug: str) -> str:
    return login_url(runtime.settings.base_url, slug)


async def _org_slug(session: AsyncSession, org_id: UUID) -> str:
    org = await OrganizationRepository(session).get(org_id)
    return org.slug if org is not None else ""


async def _expired(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    store: SessionStore,
    record: SessionRecord,
    reason: str,
) -> SessionExpired:
    """End ``record`` (in its own transaction) and answer the 401 that says to sign in again."""
    now = runtime.clock.now()
    async with runtime.db.sessionmaker() as own, own.begin():
        await bind_tenant(own, record.org_id)
        slug = await _org_slug(own, record.org_id)
        if record.ended_at is None:
            await store.end(own, record, now)
            if reason == "renewal_failed":
                await audit.record(
                    own,
                    audit.AuditTag.SESSION_RENEWAL_FAILED,
                    org_id=record.org_id,
                    actor=Actor("user", str(record.user_id), str(record.user_id)),
                    target=audit.Target("session", record.id),
                    details={"reason": reason},
                )
    messages = {
        "idle": "Your session ended after a period of inactivity. Sign in again.",
        "absolute": "Your session reached its maximum length. Sign in again.",
        "renewal_failed": "Your identity provider no longer confirms your sign-in. Sign in again.",
        "ended": "You signed out of this session. Sign in again.",
    }
    return SessionExpired(
        messages.get(reason, "Your session has ended. Sign in again."),
        login_url=_login_url(runtime, slug),
    )


async def session_caller(
    request: Request, runtime: Runtime, db: AsyncSession, cookie: str
) -> SessionRecord | None:
    """The live session behind ``cookie``, or None (unknown, ended or expired). For the
    idempotency layer, which files a key under its caller before the route runs; CSRF, renewal
    and membership are the route's to check, as on any request."""
    if len(cookie) > 200:
        return None
    store = session_store(request.app.state, runtime.settings)
    record = await store.find(db, token_digest(runtime.keyring, cookie))
    if record is None or record.ended_at is not None:
        return None
    now = runtime.clock.now()
    idle = timedelta(seconds=runtime.settings.session_idle_seconds)
    if now >= record.expires_at or now - record.last_seen_at > idle:
        return None
    return record


async def authenticate_session(
    request: Request, runtime: Runtime, session: AsyncSession, cookie: str
) -> Principal:
    """The principal of the session behind ``cookie``, or 401/403/429."""
    settings = runtime.settings
    store = session_store(request.app.state, settings)
    if len(cookie) > 200:
        raise InvalidCredentials("The session cookie is not valid. Sign in again.")
    record = await store.find(session, token_digest(runtime.keyring, cookie))
    if record is None:
        raise InvalidCredentials("The session cookie is not valid (unknown or signed out).")
    now = runtime.clock.now()
    if record.ended_at is not None:
        raise await _expired(request, runtime, session, store, record, "ended")
    if now >= record.expires_at:
        raise await _expired(request, runtime, session, store, record, "absolute")
    if now - record.last_seen_at > timedelta(seconds=settings.session_idle_seconds):
        raise await _expired(request, runtime, session, store, record, "idle")
    check_csrf(request, runtime, cookie)
    await bind_from_now(session, record.org_id)  # the lookup began a transaction, unbound
    await charge(request, f"session:{record.id}", record.org_id)
    renewed = await renew_when_due(request, runtime, session, record, now)
    if renewed is None:
        raise await _expired(request, runtime, session, store, record, "renewal_failed")
    record = renewed
    if now - record.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        await store.change(session, record, last_seen_at=now)
    facts = await AccessRepository(session).facts(record.org_id, record.user_id)
    if not facts.member:
        raise InvalidCredentials(
            "Your account is no longer a member of this organization; the session ended."
        )
    structlog.contextvars.bind_contextvars(org_id=str(record.org_id), session_id=str(record.id))
    request.state.browser_session = record
    return assemble_principal(
        facts,
        now=now,
        org_id=record.org_id,
        user_id=record.user_id,
        scopes=SESSION_SCOPES,
        credential="session",
        session_id=record.id,
        auth_time=record.authenticated_at,
        acr=record.acr,
    )
