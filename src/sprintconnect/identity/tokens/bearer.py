"""Authenticating a request by an access token: SprintConnect's own, or an org's provider's.

The unverified ``iss`` routes the token: our own issuer (``settings.base_url``) is verified
with our published keys (``keys.SigningKeys``) as an RFC 9068 access token for our API's
audience; any other issuer must be an organization's configured identity provider
(``identity.session.external``), whose access tokens may be typed ``at+jwt`` or ``JWT``.

Binding, on both paths: a bound token must come with the proof its ``cnf`` names (``binding``:
DPoP, client certificate).

Every refusal is a 401 problem with the RFC 6750 / RFC 9449 challenge, logged; those that name
an organization are audited there, a few per subject and minute at most (``refusal``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.session import bind_when_used
from sprintconnect.identity.jose import (
    Expectations,
    InvalidDpopProof,
    InvalidToken,
    TokenRejected,
    peek,
    verify_jwt,
)
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.tokens.binding import check_binding
from sprintconnect.identity.tokens.keys import ALG
from sprintconnect.identity.tokens.refusal import refused, throttle_failures
from sprintconnect.identity.tokens.state import TokenState, token_state
from sprintconnect.identity.tokens.subject import build_principal, subject_of
from sprintconnect.runtime import Runtime

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


def _uuid(value: Any, name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError as exc:
        raise InvalidToken(f"The token's '{name}' claim is malformed.", reason="malformed") from exc


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


async def authenticate_token(
    request: Request, runtime: Runtime, session: AsyncSession, token: str, *, scheme: str
) -> Principal:
    """The principal of an access token, or a 401 problem with the right challenge."""
    challenge: Scheme = "DPoP" if scheme == "dpop" else "Bearer"
    try:
        _, unverified = peek(token)
    except TokenRejected as exc:
        raise await refused(
            request,
            runtime,
            InvalidToken.from_rejection(exc, scheme=challenge),
            org_id=None,
            subject=None,
            issuer=None,
        ) from exc
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise await refused(
            request,
            runtime,
            InvalidToken("The token has no issuer.", scheme=challenge, reason="issuer"),
            org_id=None,
            subject=None,
            issuer=None,
        )
    if issuer == runtime.settings.base_url:
        # Throttled with the budgets once verified (one round trip), or by ``refusal.refused``.
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


async def token_caller(request: Request, runtime: Runtime, token: str) -> tuple[UUID, UUID] | None:
    """The organization and user of one of our own valid, unrevoked access tokens; None for
    anything else (the route then answers the token as it always does). For the idempotency
    layer, which files a key under its caller before the route runs: binding (DPoP,
    certificate) and membership are the route's to check, as on any request."""
    try:
        _, unverified = peek(token)
    except TokenRejected:
        return None
    if unverified.get("iss") != runtime.settings.base_url:
        return None
    state = token_state(request.app)
    try:
        claims = await _verified_claims(runtime, state, token)
        org_id, user_id = _uuid(claims.get("org"), "org"), _uuid(claims.get("sub"), "sub")
    except (TokenRejected, InvalidToken):
        return None
    jti = claims.get("jti")
    if not isinstance(jti, str) or await state.revocations.is_revoked(jti):
        return None
    return org_id, user_id


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
        raise await refused(
            request,
            runtime,
            InvalidToken.from_rejection(exc, scheme=challenge),
            org_id=org_id,
            subject=subject,
            issuer=runtime.settings.base_url,
        ) from exc
    except (InvalidToken, InvalidDpopProof) as exc:
        raise await refused(
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
        raise await refused(
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
        raise await refused(
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
        raise await refused(
            request,
            runtime,
            InvalidToken.from_rejection(exc, scheme=challenge),
            org_id=found.org_id,
            subject=None,
            issuer=issuer,
        ) from exc
    except (InvalidToken, InvalidDpopProof) as exc:
        raise await refused(
            request, runtime, exc, org_id=found.org_id, subject=None, issuer=issuer
        ) from exc
    return await principal_for_external(request, runtime, session, found, claims)
