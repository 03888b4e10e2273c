"""Authenticating a request by an access token: SprintConnect's own, or an org's provider's.

The unverified ``iss`` routes the token: our own issuer (``settings.base_url``) is verified
with our published keys (``keys.SigningKeys``) as an RFC 9068 access token for our API's
audience; any other issuer must be an organization's configured identity provider
(``identity.session.external``), whose access tokens may be typed ``at+jwt`` or ``JWT``.

Binding, on both paths: ``cnf.jkt`` requires the ``DPoP`` scheme and a valid proof for this
request (``ath`` over the token, the bound key); an unbound token sent as ``DPoP`` and a bound
one sent as ``Bearer`` are refused. ``cnf["x5t#S256"]`` requires the client certificate that
the TLS-terminating proxy forwards (``SPRINTCONNECT_CLIENT_CERT_HEADER``) to match.

Every refusal is a 401 problem with the RFC 6750 / RFC 9449 challenge, logged; those that name
an organization are audited there, a few per subject and minute at most.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.access import effective_permissions, time_context
from sprintconnect.authz.repository import AccessFacts, AccessRepository
from sprintconnect.db.session import bind_when_used
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import AuthenticationRequired, SprintConnectError
from sprintconnect.identity.jose import (
    DpopRejected,
    Expectations,
    InvalidDpopProof,
    InvalidToken,
    TokenRejected,
    certificate_thumbprint,
    peek,
    verify_jwt,
)
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.ratelimit import Use, first_spent
from sprintconnect.identity.tokens.keys import ALG
from sprintconnect.identity.tokens.state import Subject, TokenState, token_state
from sprintconnect.runtime import Runtime
from sprintconnect.service_account.repository import ServiceAccountRepository

log = structlog.get_logger(__name__)

Scheme = Literal["Bearer", "DPoP"]
OWN_CLAIMS = frozenset({"iss", "aud", "exp", "iat", "sub", "jti", "org", "client_id"})
# Provider access tokens: RFC 9068's type, or plain JWT (most providers type them so).
EXTERNAL_TYPES = frozenset({"at+jwt", "jwt"})


def own_expectations(runtime: Runtime) -> Expectations:
    settings = runtime.settings
    return Expectations(
        issuer=settings.base_url,
        audiences=frozenset({settings.base_url}),
        token_types=frozenset({"at+jwt"}),
        required_claims=OWN_CLAIMS,
    )


def request_url(runtime: Runtime, request: Request) -> str:
    """The URL a client addressed, as DPoP's ``htu`` names it: the public base URL + path.

    The path as received (``raw_path``): a client signs the bytes it sent, and Starlette's
    ``url.path`` has its percent-escapes decoded already.
    """
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    return runtime.settings.base_url + path


def dpop_header(request: Request) -> str | None:
    """The one ``DPoP`` header, or None when absent or repeated (RFC 9449 section 4.3)."""
    values = request.headers.getlist("dpop")
    return values[0] if len(values) == 1 else None


def client_thumbprint(runtime: Runtime, request: Request) -> str | None:
    """``x5t#S256`` of the certificate the proxy forwarded, when configured and present."""
    name = runtime.settings.client_cert_header
    if not name:
        return None
    value = request.headers.get(name)
    if value is None:
        return None
    return certificate_thumbprint(value)


async def check_binding(
    request: Request,
    runtime: Runtime,
    state: TokenState,
    token: str,
    claims: dict[str, Any],
    scheme: str,
) -> None:
    """DPoP and certificate binding of a verified token, for this request."""
    cnf = claims.get("cnf")
    if cnf is not None and not isinstance(cnf, dict):
        raise InvalidToken("The token's 'cnf' claim is malformed.", reason="malformed")
    jkt = cnf.get("jkt") if cnf else None
    if jkt is not None:
        if scheme != "dpop":
            raise InvalidToken(
                "This token is DPoP-bound: send it as 'Authorization: DPoP <token>' with a "
                "DPoP proof.",
                scheme="DPoP",
                reason="dpop_required",
            )
        if not isinstance(jkt, str):
            raise InvalidToken("The token's 'cnf.jkt' is malformed.", reason="malformed")
        try:
            await state.dpop.verify(
                dpop_header(request),
                method=request.method,
                url=request_url(runtime, request),
                now=runtime.clock.now(),
                access_token=token,
                expected_jkt=jkt,
            )
        except DpopRejected as exc:
            raise InvalidDpopProof.from_rejection(exc) from exc
    elif scheme == "dpop":
        raise InvalidToken(
            "This token is not DPoP-bound: send it as 'Authorization: Bearer <token>'.",
            scheme="DPoP",
            reason="not_dpop_bound",
        )
    x5t = cnf.get("x5t#S256") if cnf else None
    if x5t is not None:
        try:
            presented = client_thumbprint(runtime, request)
        except TokenRejected as exc:
            raise InvalidToken(exc.description, reason="certificate") from exc
        if presented is None or not isinstance(x5t, str):
            raise InvalidToken(
                "This token is bound to a client certificate; present it over mutual TLS.",
                reason="certificate_required",
            )
        if not hmac.compare_digest(presented, x5t):
            raise InvalidToken(
                "The client certificate is not the one the token is bound to.",
                reason="certificate_mismatch",
            )


def _uuid(value: Any, name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidToken(f"The token's '{name}' claim is malformed.", reason="malformed") from exc


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


async def subject_of(
    request: Request,
    state: TokenState,
    session: AsyncSession,
    org_id: UUID,
    user_id: UUID,
    account_id: UUID | None,
) -> Subject:
    """The subject's facts (and its service account's state), read or from the short cache."""
    cache = getattr(request.app.state, "principal_cache", None)
    generation = cache.generation() if cache is not None else 0
    key = (org_id, user_id, account_id)
    found = state.subjects.get(key, generation)
    if found is not None:
        return found
    facts = await AccessRepository(session).facts(org_id, user_id)
    active: bool | None = None
    if account_id is not None:
        account = await ServiceAccountRepository(session).get(org_id, account_id)
        active = account is not None and account.disabled_at is None and account.user_id == user_id
    subject = Subject(facts, active, generation, time.monotonic())
    state.subjects.put(key, subject)
    return subject


def build_principal(
    runtime: Runtime,
    facts: AccessFacts,
    *,
    org_id: UUID,
    user_id: UUID,
    scopes: frozenset[str],
    service_account_id: UUID | None = None,
    token_id: str | None = None,
    client_id: str | None = None,
    auth_time: datetime | None = None,
    acr: str | None = None,
) -> Principal:
    """A token's principal: the same type API keys give, bounded by the user's roles."""
    try:
        context = time_context(runtime.clock.now(), facts.time_zone)
    except Exception:  # an unusable time zone leaves the context incomplete: every PDP denies
        context = {}
    return Principal(
        org_id=org_id,
        scopes=scopes,
        user_id=user_id,
        permissions=effective_permissions(facts, scopes, has_user=True),
        roles=facts.expanded_roles if facts.member else frozenset(),
        policy_version=facts.policy_version,
        time_context=context,
        super_admin=facts.super_admin,
        org_name=facts.org_name,
        org_slug=facts.org_slug,
        user_email=facts.user_email,
        user_name=facts.user_name,
        credential="token",
        service_account_id=service_account_id,
        token_id=token_id,
        client_id=client_id,
        auth_time=auth_time,
        acr=acr,
    )


async def _refused(
    request: Request,
    runtime: Runtime,
    error: AuthenticationRequired,
    *,
    org_id: UUID | None,
    subject: str | None,
    issuer: str | None,
) -> SprintConnectError:
    """Log a refusal; audit it in its organization (own transaction), rate-bounded.

    The error to raise: ``error``, or 429 once the client's address has failed too often.
    """
    reason = getattr(error, "reason", None) or error.slug
    log.warning(
        "auth.token.refused",
        reason=reason,
        org_id=str(org_id or ""),
        issuer=(issuer or "")[:200],
    )
    state = request.app.state
    limiter = getattr(state, "auth_failure_limiter", None)
    address = request.client.host if request.client is not None else None
    # Counts this failure; past the limit the address gets 429 from now on.
    if limiter is not None and address and not await limiter.allows("address", address):
        log.warning("auth.throttled", by=["address"])
        refusal: SprintConnectError = await limiter.refusal("address", address)
        return refusal
    if org_id is None:
        return error
    audit_limiter = getattr(state, "failure_audit_limiter", None)
    if audit_limiter is not None and not await audit_limiter.allows(f"token:{org_id}:{subject}"):
        return error
    try:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            await audit.record(
                session,
                audit.AuditTag.TOKEN_AUTH_FAILED,
                org_id=org_id,
                actor=Actor("anonymous"),
                target=audit.Target("user", subject) if subject else None,
                details={"reason": reason},
            )
    except Exception as exc:  # an org that does not exist (forged claim): the log has it
        log.warning("auth.token.refusal_not_audited", error=type(exc).__name__)
    return error


async def throttle_failures(request: Request) -> None:
    """429 once the client's address has failed too often (as for API keys)."""
    limiter = getattr(request.app.state, "auth_failure_limiter", None)
    if limiter is None or request.client is None or not request.client.host:
        return
    checks: list[Use] = [(limiter, ("address", request.client.host))]
    spent = await first_spent(checks, [])
    if spent is not None:
        (spent_limiter, identity), _ = spent
        raise await spent_limiter.refusal(*identity)


async def authenticate_token(
    request: Request, runtime: Runtime, session: AsyncSession, token: str, *, scheme: str
) -> Principal:
    """The principal of an access token, or a 401 problem with the right challenge."""
    challenge: Scheme = "DPoP" if scheme == "dpop" else "Bearer"
    try:
        _, unverified = peek(token)
    except TokenRejected as exc:
        raise await _refused(
            request,
            runtime,
            InvalidToken.from_rejection(exc, scheme=challenge),
            org_id=None,
            subject=None,
            issuer=None,
        ) from exc
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise await _refused(
            request,
            runtime,
            InvalidToken("The token has no issuer.", scheme=challenge, reason="issuer"),
            org_id=None,
            subject=None,
            issuer=None,
        )
    if issuer == runtime.settings.base_url:
        # Throttled with the budgets once verified (one round trip), or by ``_refused``.
        return await _own(request, runtime, session, token, scheme, challenge)
    await throttle_failures(request)
    return await _external(request, runtime, session, token, issuer, scheme, challenge)


async def _verified_claims(runtime: Runtime, state: TokenState, token: str) -> dict[str, Any]:
    """The token's verified claims: from this process's recent verification of the same
    token while its key is still accepted (``state.VerifiedTokens``), else verified now."""
    now = runtime.clock.now()
    known = state.verified.get(token, now)
    if known is not None and await state.keys.key_for(known.kid, ALG) is not None:
        return known.claims
    claims = await verify_jwt(token, state.keys, own_expectations(runtime), now=now)
    header, _ = peek(token)
    kid = header.get("kid")
    if isinstance(kid, str):
        state.verified.put(token, claims, kid)
    return claims


async def _own(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    token: str,
    scheme: str,
    challenge: Scheme,
) -> Principal:
    state = token_state(request.app)
    org_id: UUID | None = None
    subject: str | None = None
    try:
        claims = await _verified_claims(runtime, state, token)
        org_id = _uuid(claims.get("org"), "org")
        user_id = _uuid(claims.get("sub"), "sub")
        subject = str(user_id)
        jti = claims.get("jti")
        if not isinstance(jti, str) or await state.revocations.is_revoked(jti):
            raise InvalidToken(
                "The access token has been revoked.", scheme=challenge, reason="revoked"
            )
        await check_binding(request, runtime, state, token, claims, scheme)
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise InvalidToken("The token's 'scope' claim is malformed.", reason="malformed")
        account_id = _uuid(claims["sa"], "sa") if "sa" in claims else None
        client_id = claims.get("client_id")
        # Spend budgets, then bind: every transaction of the request begins in the token's org.
        from sprintconnect.identity.auth import charge

        # The address's failure throttle rides on the same round trip as the budgets.
        await charge(request, f"token:{user_id}", org_id, throttled_address=True)
        bind_when_used(session, org_id)
        found = await subject_of(request, state, session, org_id, user_id, account_id)
        if not found.facts.member:
            raise InvalidToken(
                "The token's subject is no longer a member of its organization.",
                scheme=challenge,
                reason="not_a_member",
            )
        if found.service_account_active is False:
            raise InvalidToken(
                "The token's service account is disabled or deleted.",
                scheme=challenge,
                reason="service_account_disabled",
            )
    except TokenRejected as exc:
        raise await _refused(
            request,
            runtime,
            InvalidToken.from_rejection(exc, scheme=challenge),
            org_id=org_id,
            subject=subject,
            issuer=runtime.settings.base_url,
        ) from exc
    except (InvalidToken, InvalidDpopProof) as exc:
        raise await _refused(
            request, runtime, exc, org_id=org_id, subject=subject, issuer=runtime.settings.base_url
        ) from exc
    structlog.contextvars.bind_contextvars(org_id=str(org_id), token_id=jti)
    return build_principal(
        runtime,
        found.facts,
        org_id=org_id,
        user_id=user_id,
        scopes=frozenset(scope.split()),
        service_account_id=account_id,
        token_id=jti,
        client_id=client_id if isinstance(client_id, str) else None,
        auth_time=_time(claims.get("auth_time")),
        acr=claims.get("acr") if isinstance(claims.get("acr"), str) else None,
    )


def _audiences(claims: dict[str, Any]) -> set[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return {aud}
    if isinstance(aud, list):
        return {a for a in aud if isinstance(a, str)}
    return set()


async def _external(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    token: str,
    issuer: str,
    scheme: str,
    challenge: Scheme,
) -> Principal:
    """A token from an organization's identity provider (C's ``session.external``)."""
    from sprintconnect.identity.session.external import (
        external_issuers,
        principal_for_external,
    )

    candidates = await external_issuers(request, runtime, issuer)
    if not candidates:
        raise await _refused(
            request,
            runtime,
            InvalidToken("The token's issuer is not trusted.", scheme=challenge, reason="issuer"),
            org_id=None,
            subject=None,
            issuer=issuer,
        )
    _, unverified = peek(token)
    audiences = _audiences(unverified)
    found = next((c for c in candidates if c.audiences & audiences), None)
    if found is None:
        raise await _refused(
            request,
            runtime,
            InvalidToken(
                "The token's audience is not one this issuer's organization accepts.",
                scheme=challenge,
                reason="audience",
            ),
            org_id=candidates[0].org_id if len(candidates) == 1 else None,
            subject=None,
            issuer=issuer,
        )
    expect = Expectations(issuer=issuer, audiences=found.audiences, token_types=EXTERNAL_TYPES)
    try:
        claims = await verify_jwt(token, found.keys, expect, now=runtime.clock.now())
        await check_binding(request, runtime, token_state(request.app), token, claims, scheme)
    except TokenRejected as exc:
        raise await _refused(
            request,
            runtime,
            InvalidToken.from_rejection(exc, scheme=challenge),
            org_id=found.org_id,
            subject=None,
            issuer=issuer,
        ) from exc
    except (InvalidToken, InvalidDpopProof) as exc:
        raise await _refused(
            request, runtime, exc, org_id=found.org_id, subject=None, issuer=issuer
        ) from exc
    return await principal_for_external(request, runtime, session, found, claims)
