"""Opening a browser session once sign-in succeeded: the record (with the provider's tokens
sealed), stored in the session store and audited; the browser gets a random token."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.store import SessionRecord, seal, session_store, token_digest
from sprintconnect.kit.context import current_request
from sprintconnect.models.sign_in import IdentityProvider
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)


async def open_session(
    request: Request,
    runtime: Runtime,
    db: AsyncSession,
    *,
    org_id: UUID,
    user_id: UUID,
    provider: IdentityProvider,
    claims: dict[str, Any],
    answer: dict[str, Any],
    now: datetime,
) -> tuple[str, SessionRecord]:
    """The new session's cookie token and record, for the ID token's ``claims`` and the
    provider's token ``answer``."""
    token = secrets.token_urlsafe(32)
    session_id = uuid4()
    auth_time = claims.get("auth_time")
    authenticated = now
    if isinstance(auth_time, int | float) and auth_time <= now.timestamp() + 30:
        authenticated = min(now, datetime.fromtimestamp(auth_time, UTC))
    refresh = answer.get("refresh_token")
    expires_in = answer.get("expires_in")
    access_expires = (
        now + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float) and expires_in > 0 and isinstance(refresh, str)
        else None
    )
    amr = claims.get("amr")
    meta = current_request()
    keyring = runtime.keyring
    record = SessionRecord(
        id=session_id,
        org_id=org_id,
        user_id=user_id,
        token_digest=token_digest(keyring, token),
        issuer=provider.issuer,
        created_at=now,
        authenticated_at=authenticated,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=runtime.settings.session_max_seconds),
        acr=str(claims["acr"])[:200] if isinstance(claims.get("acr"), str) else None,
        amr=[a for a in amr if isinstance(a, str)][:20] if isinstance(amr, list) else [],
        refresh_sealed=seal(keyring, session_id, refresh if isinstance(refresh, str) else None),
        id_token_sealed=seal(keyring, session_id, answer.get("id_token")),
        access_expires_at=access_expires,
        ip=meta.ip,
        user_agent=meta.user_agent[:512] if meta.user_agent else None,
    )
    await session_store(request.app.state, runtime.settings).create(db, record)
    await audit.record(
        db,
        audit.AuditTag.SESSION_SIGNED_IN,
        org_id=org_id,
        actor=Actor("user", str(user_id), str(user_id)),
        target=audit.Target("session", session_id),
        details={"issuer": provider.issuer, "acr": record.acr, "amr": record.amr},
    )
    log.info("sign_in.completed", org_id=str(org_id), session_id=str(session_id))
    return token, record
