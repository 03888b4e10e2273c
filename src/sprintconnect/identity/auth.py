"""Authentication and authorization as a typed dependency: ``principal: ServersWrite``."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.repository import ApiKeyRepository
from sprintconnect.api_key.service import KEY_PATTERN, ApiKeyService, KeyFailure
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
    RateLimited,
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


def _throttle_identities(request: Request, token: str) -> list[tuple[str, str]]:
    """What failed authentications are counted by: the client's address and the key prefix."""
    identities = []
    if request.client is not None and request.client.host:
        identities.append(("address", request.client.host))
    match = KEY_PATTERN.match(token)
    if match is not None:
        identities.append(("prefix", match.group(1)))
    return identities


async def _refuse_when_throttled(
    request: Request, runtime: Runtime, token: str, identities: list[tuple[str, str]]
) -> None:
    """429 before the key is looked at, once an address or a prefix has failed too often.

    The refusal is audited in the key's organization when the prefix names a key, within the
    same per-key bound as failures, so that a flood cannot flood the audit log.
    """
    try:
        for identity in identities:
            await request.app.state.auth_failure_limiter.check(*identity)
    except RateLimited:
        log.warning("auth.throttled", by=[kind for kind, _ in identities])
        match = KEY_PATTERN.match(token)
        if match is not None:
            await _record_throttled(request, runtime, match.group(1))
        raise


async def _record_throttled(request: Request, runtime: Runtime, prefix: str) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        located = await ApiKeyRepository(session).locate(prefix)
        if located is None:
            return
        key_id, org_id = located
        if not await request.app.state.failure_audit_limiter.allows(str(key_id)):
            return
        await bind_tenant(session, org_id)
        await audit.record(
            session,
            audit.AuditTag.API_KEY_AUTH_THROTTLED,
            org_id=org_id,
            actor=Actor("anonymous"),
            target=audit.Target("api_key", key_id),
            details={"reason": "too_many_failures"},
        )


class Authenticator:
    """Authenticates the request's API key and, given an action, asks the PDP about it.

    ``resource`` names the kind of thing acted on for the collection-level decision; routes
    that act on one object ask again with that object (``authz.service.authorize``).
    """

    def __init__(self, action: str | None = None, *, resource: str | None = None) -> None:
        self.action = action
        self.resource = resource or (action.partition(":")[0] if action else None)

    def requirement(self) -> dict[str, str | None]:
        """What this authenticator asks, in a form that can be kept and rebuilt."""
        return {"action": self.action, "resource": self.resource}

    async def __call__(self, request: Request, session: DbSession) -> Principal:
        # Kept with an idempotent answer, so that a replay asks the same again.
        request.state.requirements = [self.requirement()]
        runtime = get_runtime(request)
        principal = await authenticate_key(request, runtime, session, _bearer_token(request))
        if self.action is not None:
            assert self.resource is not None
            await require(request, session, principal, self.action, resource=self.resource)
        request.state.principal = principal
        return principal


async def require(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    resource: str | None = None,
) -> None:
    """The key's scopes and the PDP must allow ``action`` on the collection ``resource``.

    What ``Authenticator(action)`` asks; routes call it for a permission that only some
    bodies need (a dry-run with a draft policy needs ``policies:write``).
    """
    requirements = getattr(request.state, "requirements", None)
    needed: dict[str, str | None] = {
        "action": action,
        "resource": resource or action.partition(":")[0],
    }
    if isinstance(requirements, list) and needed not in requirements:
        requirements.append(needed)  # kept for replays, beside the authenticator's own
    if not grants(principal.scopes, action):
        raise InsufficientScope(action, list(principal.scopes))
    await authorize(
        request.app.state.authorizer,
        session,
        principal,
        action,
        collection(resource or action.partition(":")[0]),
    )


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

    def requirement(self) -> dict[str, str | None]:
        return {"platform": self.scope}

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
    throttled_by = _throttle_identities(request, token)
    await _refuse_when_throttled(request, runtime, token, throttled_by)
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    debounce = timedelta(seconds=runtime.settings.api_key_last_used_debounce_seconds)
    result = await service.verify(token, debounce=debounce)
    if isinstance(result, KeyFailure):
        for identity in throttled_by:
            await request.app.state.auth_failure_limiter.allows(*identity)
        await _record_failure(request, runtime, result)
        raise result.error
    await request.app.state.rate_limiter.hit(str(result.id))
    # Every key of an organization draws on one budget too: more keys are not more requests.
    await request.app.state.org_rate_limiter.hit(str(result.org_id))
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


async def reauthenticate(
    request: Request, session: AsyncSession, requirements: list[dict[str, str | None]]
) -> Principal | None:
    """Ask again what a route asked (``Authenticator.requirement``, then any ``require``).

    Raises what the route would raise: 401 for a key revoked since, 403 for a permission
    removed since, 429 when a rate limit is spent. None when nothing was asked.
    """
    principal = None
    for requirement in requirements:
        action, resource = requirement.get("action"), requirement.get("resource")
        if principal is None:
            platform = requirement.get("platform")
            authenticator = (
                PlatformOperator(platform)
                if platform is not None
                else Authenticator(action, resource=resource)
            )
            principal = await authenticator(request, session)
        elif action is not None:
            await require(request, session, principal, action, resource=resource)
    return principal
