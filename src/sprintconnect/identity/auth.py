"""Authentication as a typed dependency: ``principal: ApiKeysWrite`` in an endpoint."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.service import ApiKeyService, KeyFailure
from sprintconnect.db.session import DbSession, get_runtime
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import AuthenticationRequired, InsufficientScope, InvalidCredentials
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.scopes import grants
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

_FAILURE_TAGS = {
    "expired": audit.AuditTag.API_KEY_AUTH_EXPIRED,
    "revoked": audit.AuditTag.API_KEY_AUTH_REVOKED,
}


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise AuthenticationRequired("Send an API key as 'Authorization: Bearer <key>'.")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidCredentials("The Authorization header must read 'Bearer <key>'.")
    return token


async def _record_failure(runtime: Runtime, failure: KeyFailure) -> None:
    """Audit a refused key in its own transaction: the request's own one rolls back."""
    log.warning("auth.api_key.refused", reason=failure.reason, org_id=str(failure.org_id or ""))
    if failure.org_id is None:
        return
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, failure.org_id)
        await audit.record(
            session,
            _FAILURE_TAGS.get(failure.reason, audit.AuditTag.API_KEY_AUTH_FAILED),
            org_id=failure.org_id,
            actor=Actor("anonymous"),
            target=audit.Target("api_key", failure.key_id),
            details={"reason": failure.reason},
        )


class Authenticator:
    """Authenticates the request's API key and checks it holds ``scope``."""

    def __init__(self, scope: str | None = None) -> None:
        self.scope = scope

    async def __call__(self, request: Request, session: DbSession) -> Principal:
        runtime = get_runtime(request)
        token = _bearer_token(request)
        principal = await authenticate_key(runtime, session, token)
        await request.app.state.rate_limiter.hit(str(principal.api_key_id))
        if self.scope is not None and not grants(principal.scopes, self.scope):
            raise InsufficientScope(self.scope, list(principal.scopes))
        request.state.principal = principal
        return principal


async def authenticate_key(runtime: Runtime, session: AsyncSession, token: str) -> Principal:
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    debounce = timedelta(seconds=runtime.settings.api_key_last_used_debounce_seconds)
    result = await service.verify(token, debounce=debounce)
    if isinstance(result, KeyFailure):
        await _record_failure(runtime, result)
        raise result.error
    structlog.contextvars.bind_contextvars(org_id=str(result.org_id), api_key_id=str(result.id))
    return Principal(
        org_id=result.org_id,
        scopes=frozenset(result.scopes),
        user_id=result.created_by_user_id,
        api_key_id=result.id,
    )
