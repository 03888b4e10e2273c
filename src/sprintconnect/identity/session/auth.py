"""Authenticating a request by its browser session cookie.

Checks, in order: the session exists and has not ended, idle and absolute expiry, CSRF for
methods that change something (``X-CSRF-Token`` equal to the session's, and no cross-site
``Origin``/``Sec-Fetch-Site``), the rate limits, then renewal of the provider's access token
with the stored refresh token once it has expired (ahead of that, in the background). The
principal is built like an API key's, from the roles read now, with scopes ``admin`` so
that the roles alone bound what the session may do.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.access import effective_permissions, time_context
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.db.session import bind_when_used, release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import InvalidCredentials
from sprintconnect.identity.auth import charge
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.session.cookies import session_cookie
from sprintconnect.identity.session.errors import (
    CrossSiteRequest,
    CsrfTokenInvalid,
    CsrfTokenMissing,
    SessionExpired,
)
from sprintconnect.identity.session.provider import (
    ProviderUnavailable,
    directory,
    policy_for,
    token_request,
)
from sprintconnect.identity.session.service import load_provider, login_url
from sprintconnect.identity.session.store import (
    SessionRecord,
    SessionStore,
    seal,
    session_store,
    token_digest,
    unseal,
)
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.runtime import Runtime

__all__ = ["authenticate_session", "csrf_token", "session_cookie"]

log = structlog.get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_PURPOSE = "session-csrf"
TOUCH_SECONDS = 60
SESSION_SCOPES = frozenset({"admin"})
# Sessions renewing in the background (one task per session at a time), and their tasks.
_renewing: set[object] = set()
_tasks: set[asyncio.Task[None]] = set()
_locks: dict[UUID, asyncio.Lock] = {}


def csrf_token(runtime: Runtime, cookie: str) -> str:
    """The session's CSRF token: derived from its cookie, so nothing more is stored."""
    digest = runtime.keyring.hmac(CSRF_PURPOSE, cookie.encode())
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_csrf(request: Request, runtime: Runtime, cookie: str, *, sent: str | None = None) -> None:
    """Refuse a cookie-authenticated request that changes something without the CSRF token
    (``X-CSRF-Token``, or ``sent`` from a form), or that a browser marks as cross-site."""
    if request.method in SAFE_METHODS:
        return
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        raise CrossSiteRequest("A request from another site cannot use your session.")
    origin = request.headers.get("origin")
    if origin is not None:
        base = urlsplit(runtime.settings.base_url)
        given = urlsplit(origin)
        if (given.scheme, given.netloc.lower()) != (base.scheme, base.netloc.lower()):
            raise CrossSiteRequest("A request from another origin cannot use your session.")
    sent = request.headers.get("x-csrf-token") or sent
    if not sent:
        raise CsrfTokenMissing(
            "Requests that change something need the X-CSRF-Token header; GET /auth/session "
            "answers the token."
        )
    if not hmac.compare_digest(sent.encode(), csrf_token(runtime, cookie).encode()):
        raise CsrfTokenInvalid("The X-CSRF-Token header does not match this session.")


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


async def renew(
    request: Request, runtime: Runtime, db: AsyncSession, record: SessionRecord
) -> SessionRecord | None:
    """Renew the provider's tokens with the stored refresh token; the updated record, or
    None when the provider refuses. ``db`` holds no connection across the call.

    One renewal per session at a time in this process: a caller that waited finds the
    session renewed already and uses that (a refresh token is used once).
    """
    bind_when_used(db, record.org_id)
    if db.in_transaction():
        await bind_tenant(db, record.org_id)
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
    bind_when_used(session, record.org_id)
    if session.in_transaction():  # the lookup began it, unbound: bind it now
        await bind_tenant(session, record.org_id)
    await charge(request, f"session:{record.id}", record.org_id)
    now_due, soon = _due(record, now)
    if now_due:
        renewed = await renew(request, runtime, session, record)
        if renewed is None:
            raise await _expired(request, runtime, session, store, record, "renewal_failed")
        record = renewed
    elif soon and record.id not in _renewing:
        _renewing.add(record.id)
        task = asyncio.get_running_loop().create_task(
            _renew_in_background(request, runtime, record)
        )
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    if now - record.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        await store.change(session, record, last_seen_at=now)
    facts = await AccessRepository(session).facts(record.org_id, record.user_id)
    if not facts.member:
        raise InvalidCredentials(
            "Your account is no longer a member of this organization; the session ended."
        )
    try:
        context = time_context(now, facts.time_zone)
    except Exception:  # an unusable time zone: every PDP decision denies
        context = {}
    structlog.contextvars.bind_contextvars(org_id=str(record.org_id), session_id=str(record.id))
    request.state.browser_session = record
    return Principal(
        org_id=record.org_id,
        scopes=SESSION_SCOPES,
        user_id=record.user_id,
        permissions=effective_permissions(facts, SESSION_SCOPES, has_user=True),
        roles=facts.expanded_roles,
        policy_version=facts.policy_version,
        time_context=context,
        super_admin=facts.super_admin,
        org_name=facts.org_name,
        org_slug=facts.org_slug,
        user_email=facts.user_email,
        user_name=facts.user_name,
        credential="session",
        session_id=record.id,
        auth_time=record.authenticated_at,
        acr=record.acr,
    )
