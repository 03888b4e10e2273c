"""Authentication and authorization as a typed dependency: ``principal: ServersWrite``."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.service import ApiKeyService, KeyFailure
from sprintconnect.authz.access import effective_permissions, time_context
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.authz.service import authorize, collection
from sprintconnect.db.session import DbSession, get_runtime
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidCredentials,
    PermissionDenied,
)
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


async def _record_failure(request: Request, runtime: Runtime, failure: KeyFailure) -> None:
    """Audit a refused key in its own transaction: the request's own one rolls back.

    At most a few events per key and minute are written, so that guessing at a known
    prefix cannot flood the audit log; the structured log still sees every attempt.
    """
    log.warning("auth.api_key.refused", reason=failure.reason, org_id=str(failure.org_id or ""))
    if failure.org_id is None:
        return
    if not await request.app.state.failure_audit_limiter.allows(str(failure.key_id)):
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
    """Authenticates the request's API key and, given an action, asks the PDP about it.

    ``resource`` names the kind of thing acted on for the collection-level decision; routes
    that act on one object ask again with that object (``authz.service.authorize``).
    """

    def __init__(self, action: str | None = None, *, resource: str | None = None) -> None:
        self.action = action
        self.resource = resource or (action.partition(":")[0] if action else None)

    async def __call__(self, request: Request, session: DbSession) -> Principal:
        runtime = get_runtime(request)
        principal = await authenticate_key(request, runtime, session, _bearer_token(request))
        if self.action is not None:
            if not grants(principal.scopes, self.action):
                raise InsufficientScope(self.action, list(principal.scopes))
            assert self.resource is not None
            await authorize(
                request.app.state.authorizer,
                session,
                principal,
                self.action,
                collection(self.resource),
            )
        request.state.principal = principal
        return principal


class SuperAdminRequired(PermissionDenied):
    slug = "super-admin-required"
    title = "Only platform operators may do this"


class PlatformOperator(Authenticator):
    """Authenticates the key and requires its user to be a platform super admin.

    Platform operations are not an organization's to allow, so the org's PDP is not asked;
    the key's own scopes still bound what it may do (a ``read`` key cannot change jobs).
    """

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    async def __call__(self, request: Request, session: DbSession) -> Principal:
        principal = await super().__call__(request, session)
        if not principal.super_admin:
            log.warning("auth.super_admin.refused", user_id=str(principal.user_id or ""))
            raise SuperAdminRequired(
                "This operation is reserved for platform operators (super admins)."
            )
        if not grants(principal.scopes, self.scope):
            raise InsufficientScope(self.scope, list(principal.scopes))
        return principal


async def authenticate_key(
    request: Request, runtime: Runtime, session: AsyncSession, token: str
) -> Principal:
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    debounce = timedelta(seconds=runtime.settings.api_key_last_used_debounce_seconds)
    result = await service.verify(token, debounce=debounce)
    if isinstance(result, KeyFailure):
        await _record_failure(request, runtime, result)
        raise result.error
    await request.app.state.rate_limiter.hit(str(result.id))
    structlog.contextvars.bind_contextvars(org_id=str(result.org_id), api_key_id=str(result.id))
    user_id = result.created_by_user_id
    facts = await AccessRepository(session).facts(result.org_id, user_id)
    scopes = frozenset(result.scopes)
    try:
        context = time_context(runtime.clock.now(), facts.time_zone)
    except Exception:  # an unusable time zone leaves the context incomplete: every PDP denies
        context = {}
    return Principal(
        org_id=result.org_id,
        scopes=scopes,
        user_id=user_id,
        api_key_id=result.id,
        permissions=effective_permissions(facts, scopes, has_user=user_id is not None),
        roles=facts.expanded_roles if facts.member else frozenset(),
        policy_version=facts.policy_version,
        time_context=context,
        super_admin=facts.super_admin and user_id is not None,
    )
