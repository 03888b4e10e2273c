"""Authentication and authorization as a typed dependency: ``principal: ServersWrite``."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.repository import ApiKeyRepository
from sprintconnect.api_key.service import KEY_PATTERN, ApiKeyService, KeyFailure
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.authz.service import authorize, collection
from sprintconnect.db.session import DbSession, bind_when_used, get_runtime
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidCredentials,
    PermissionDenied,
)
from sprintconnect.identity.assembly import assemble_principal
from sprintconnect.identity.auth_events import (
    client_fingerprint,
    key_prefix,
    record_unattributed,
    stamp_use,
    use_due,
    with_client,
)
from sprintconnect.identity.cache import (
    PrincipalCache,
    VerifiedKey,
    forget_after_commit,
    unstamp_after_rollback,
)
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.ratelimit import Use, first_spent
from sprintconnect.identity.scopes import grants
from sprintconnect.models import ApiKey
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FAILURE_TAGS = {
    "expired": audit.AuditTag.API_KEY_AUTH_EXPIRED,
    "revoked": audit.AuditTag.API_KEY_AUTH_REVOKED,
}


_SCHEMES = frozenset({"bearer", "dpop"})


def credentials(header: str) -> tuple[str, str]:
    """The scheme (lowercase) and the credential of an Authorization header."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token or " " in token:
        raise InvalidCredentials(
            "The Authorization header must read 'Bearer <API key or access token>' or "
            "'DPoP <access token>'."
        )
    return scheme.lower(), token


async def authenticate_request(
    request: Request, runtime: Runtime, session: AsyncSession
) -> Principal:
    """The request's principal from whichever credential it carries.

    An ``Authorization`` header wins: an API key (``Bearer sc_...``), or an access token
    (``Bearer`` or ``DPoP`` with a JWT; ``identity.tokens.bearer``). Without one, the browser
    session's cookie (``identity.session.auth``). Every path yields the same ``Principal``,
    so every permission and policy applies whichever credential was used.
    """
    header = request.headers.get("authorization")
    if header is None:
        from sprintconnect.identity.session.auth import authenticate_session, session_cookie

        cookie = session_cookie(request)
        if cookie is not None:
            return await authenticate_session(request, runtime, session, cookie)
        raise AuthenticationRequired(
            "Send an API key or an access token as 'Authorization: Bearer <credential>', "
            "or sign in."
        )
    scheme, token = credentials(header)
    if scheme == "bearer" and token.startswith("sc_"):
        return await authenticate_key(request, runtime, session, token)
    from sprintconnect.identity.tokens.bearer import authenticate_token

    return await authenticate_token(request, runtime, session, token, scheme=scheme)


async def _record_failure(
    request: Request, runtime: Runtime, failure: KeyFailure, token: str
) -> None:
    """Audit a refused key in its own transaction: the request's own one rolls back.

    At most a few events per key and minute are written, so that guessing at a known
    prefix cannot flood the audit log; the structured log still sees every attempt. A key
    that names no organization goes to the platform log, within bounds of its own
    (``identity.auth_events``).
    """
    log.warning("auth.api_key.refused", reason=failure.reason, org_id=str(failure.org_id or ""))
    match = KEY_PATTERN.match(token)
    prefix = match.group(1) if match is not None else None
    if failure.org_id is None:
        await record_unattributed(request, runtime, reason=failure.reason, prefix=prefix)
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
            details={"reason": failure.reason, "key_prefix": key_prefix(prefix or "")},
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


async def _within_limits(
    request: Request, runtime: Runtime, token: str, checks: list[Use], hits: list[Use]
) -> None:
    """429 once an address or a prefix has failed too often (``checks``, before the key is
    looked at), or once the key's or its organization's budget is spent (``hits``, counted).

    A throttled refusal is audited in the key's organization when the prefix names a key,
    within the same per-key bound as failures, so that a flood cannot flood the audit log.
    """
    spent = await first_spent(checks, hits)
    if spent is None:
        return
    (limiter, identity), throttled = spent
    if throttled:
        log.warning("auth.throttled", by=[kind for _, (kind, _) in checks])
        match = KEY_PATTERN.match(token)
        if match is not None:
            await _record_throttled(request, runtime, match.group(1))
    raise await limiter.refusal(*identity)


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
            details={"reason": "too_many_failures", "key_prefix": key_prefix(prefix)},
        )


async def charge(
    request: Request, subject: str, org_id: UUID, *, throttled_address: bool = False
) -> None:
    """Spend one request of ``subject``'s budget and of its organization's, or raise 429.

    For credentials other than API keys (sessions, access tokens): ``subject`` names who is
    counted, e.g. ``"session:<id>"`` or ``"token:<sub>"``; the organization's budget is the
    one its API keys draw on too. With ``throttled_address``, an address that failed to
    authenticate too often is refused too, in the same round trip to the limits' storage.
    """
    state = request.app.state
    checks: list[Use] = []
    if throttled_address and request.client is not None and request.client.host:
        checks.append((state.auth_failure_limiter, ("address", request.client.host)))
    hits: list[Use] = [
        (state.rate_limiter, (subject,)),
        (state.org_rate_limiter, (str(org_id),)),
    ]
    spent = await first_spent(checks, hits)
    if spent is not None:
        (limiter, identity), _ = spent
        raise await limiter.refusal(*identity)


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
        principal = await authenticate_request(request, runtime, session)
        if self.action is not None:
            assert self.resource is not None
            await require(request, session, principal, self.action, resource=self.resource)
        request.state.principal = principal
        if request.method not in _SAFE_METHODS:
            # Whatever this request changes (keys, roles, members, policies) applies to the
            # next request at once: the cached keys of its organization go when it commits.
            forget_after_commit(session, None if principal.super_admin else principal.org_id)
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
    """The principal of ``token``, or the refusal it gets (401, 429).

    In order: throttling by failed attempts (address, prefix), the key's check (or a recent
    one of the same key from ``identity.cache``), then the key's and its organization's
    budgets. A cached key takes one Redis round trip for all of the limits.
    """
    state = request.app.state
    checks: list[Use] = [
        (state.auth_failure_limiter, identity) for identity in _throttle_identities(request, token)
    ]
    service = ApiKeyService(session, runtime.keyring, runtime.clock)
    debounce = timedelta(seconds=runtime.settings.api_key_last_used_debounce_seconds)
    cache: PrincipalCache | None = getattr(state, "principal_cache", None)
    if cache is not None and not cache.enabled:
        cache = None
    now = runtime.clock.now()
    digest = service.digest(token) if cache is not None else b""
    known = cache.get(digest, now) if cache is not None else None
    fresh: ApiKey | None = None
    if known is None:
        await _within_limits(request, runtime, token, checks, [])
        generation = cache.generation() if cache is not None else 0
        result = await service.verify(token, debounce=debounce)
        if isinstance(result, KeyFailure):
            for _, identity in checks:
                await state.auth_failure_limiter.allows(*identity)
            await _record_failure(request, runtime, result, token)
            raise result.error
        fresh = result
        key_id, org_id, user_id = fresh.id, fresh.org_id, fresh.created_by_user_id
    else:
        key_id, org_id, user_id = known.key_id, known.org_id, known.created_by_user_id
    # Every key of an organization draws on one budget too: more keys are not more requests.
    hits: list[Use] = [
        (state.rate_limiter, (str(key_id),)),
        (state.org_rate_limiter, (str(org_id),)),
    ]
    await _within_limits(request, runtime, token, checks if fresh is None else [], hits)
    structlog.contextvars.bind_contextvars(org_id=str(org_id), api_key_id=str(key_id))
    # Every transaction of the request begins bound to the key's organization; nothing is sent
    # until one begins (a cached key's ``/me`` sends nothing at all).
    bind_when_used(session, org_id)
    if known is not None:
        assert cache is not None
        if cache.refresh_due(digest, now):
            cache.spawn(_refresh(runtime, cache, digest, token, debounce))
        client = client_fingerprint()
        if use_due(known.last_used_at, known.recent_clients, client, now=now, debounce=debounce):
            match = KEY_PATTERN.match(token)
            assert match is not None  # it verified
            await stamp_use(
                session,
                key_id=key_id,
                org_id=org_id,
                owner_id=user_id,
                prefix=match.group(1),
                now=now,
                debounce=debounce,
                client=client,
                recent=known.recent_clients,
            )
            assert cache is not None
            cache.used(digest, now, with_client(known.recent_clients, client))
            unstamp_after_rollback(session, cache, digest, known.last_used_at, known.recent_clients)
        facts, scopes = known.facts, known.scopes
    else:
        assert fresh is not None
        facts = await AccessRepository(session).facts(org_id, user_id)
        scopes = frozenset(fresh.scopes)
        if cache is not None:
            # The row as read, before ``verify`` stamped it (the stamp is a plain UPDATE).
            last_used, recent = fresh.last_used_at, tuple(fresh.recent_clients)
            client = client_fingerprint()
            if use_due(last_used, recent, client, now=now, debounce=debounce):
                # Should this transaction not commit, the next request tries again.
                unstamp_after_rollback(session, cache, digest, last_used, recent)
                last_used, recent = now, with_client(recent, client)
            entry = VerifiedKey(
                key_id=key_id,
                org_id=org_id,
                scopes=scopes,
                created_by_user_id=user_id,
                expires_at=fresh.expires_at,
                last_used_at=last_used,
                facts=facts,
                checked_at=now,
                recent_clients=recent,
            )
            cache.put(digest, entry, generation)
    if user_id is not None and not facts.member:
        # Its user left the organization (their keys are revoked with them), or is a service
        # account that an admin disabled.
        log.warning("auth.api_key.user_inactive", org_id=str(org_id), api_key_id=str(key_id))
        raise InvalidCredentials(
            "This key's user is not active in the organization (no longer a member, or a "
            "disabled service account)."
        )
    return assemble_principal(
        facts,
        now=now,
        org_id=org_id,
        user_id=user_id,
        scopes=scopes,
        credential="api_key",
        api_key_id=key_id,
    )


async def _refresh(
    runtime: Runtime, cache: PrincipalCache, digest: bytes, token: str, debounce: timedelta
) -> None:
    """Check a cached key again off the request path, before its entry expires.

    The entry keeps serving meanwhile (it is within ``ttl`` of its last check, the bound the
    cache promises); when this check passes, the entry counts from this check's start, and
    when it refuses the key, the entry goes and the next request is checked in full.
    """
    generation = cache.generation()
    started = runtime.clock.now()
    try:
        async with runtime.db.sessionmaker() as session, session.begin():
            service = ApiKeyService(session, runtime.keyring, runtime.clock)
            result = await service.verify(token, debounce=debounce, stamp=False)
            if isinstance(result, KeyFailure):
                cache.refused(digest)
                return
            facts = await AccessRepository(session).facts(result.org_id, result.created_by_user_id)
    except Exception as exc:  # the entry simply ages out; the next miss checks in full
        log.warning("auth.cache_refresh_failed", error=type(exc).__name__)
        cache.refresh_failed(digest)
        return
    cache.refreshed(
        digest,
        generation,
        scopes=frozenset(result.scopes),
        expires_at=result.expires_at,
        facts=facts,
        checked_at=started,
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
