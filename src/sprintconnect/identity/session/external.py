"""Access tokens issued by an organization's own identity provider, for the bearer path.

``identity.tokens.bearer`` peeks at a token's ``iss``; for an issuer other than SprintConnect
it asks ``external_issuers`` which organizations accept tokens from it (an enabled provider
with an ``access_token_audience``), verifies the token with that provider's keys, then asks
``principal_for_external`` for the principal. The user is found by (org, issuer, ``sub``):
bearer tokens never provision anyone, so a subject that has not signed in through the browser
is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.authz.repository import AccessRepository
from sprintconnect.db.session import bind_from_now
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import InvalidCredentials
from sprintconnect.identity.assembly import assemble_principal
from sprintconnect.identity.jose.verify import KeySource
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.session.provider import ProviderUnavailable, directory, policy_for
from sprintconnect.identity.session.repository import IdentityRepository, ProviderRepository
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

# How long the organizations accepting an issuer are remembered in this process.
ISSUER_CACHE_SECONDS = 30.0
TOKEN_SCOPES = frozenset({"admin"})  # bounded by the user's roles, as for sessions


@dataclass(frozen=True)
class ExternalIssuer:
    org_id: UUID
    issuer: str
    audiences: frozenset[str]
    keys: KeySource


async def _candidates(runtime: Runtime, issuer: str) -> list[tuple[UUID, str, list[str]]]:
    """(org, audience, egress allowlist) of each organization accepting ``issuer``'s tokens."""
    found: list[tuple[UUID, str, list[str]]] = []
    async with runtime.db.sessionmaker() as db:
        async with db.begin():
            rows = await ProviderRepository(db).by_issuer(issuer)
        for org_id, _client_id, audience in rows:
            if not audience:
                continue
            async with db.begin():
                await bind_tenant(db, org_id)
                org = await OrganizationRepository(db).get(org_id)
            found.append((org_id, audience, list(org.egress_allowlist) if org else []))
    return found


async def external_issuers(request: Request, runtime: Runtime, issuer: str) -> list[ExternalIssuer]:
    """The organizations whose provider is ``issuer`` and accepts its access tokens."""
    if len(issuer) > 500:
        return []
    state = request.app.state
    cache: dict[str, tuple[float, list[ExternalIssuer]]] | None = getattr(
        state, "external_issuer_cache", None
    )
    if cache is None:
        cache = state.external_issuer_cache = {}
    hit = cache.get(issuer)
    if hit is not None and time.monotonic() - hit[0] < ISSUER_CACHE_SECONDS:
        return hit[1]
    settings = runtime.settings
    issuers: list[ExternalIssuer] = []
    for org_id, audience, allowlist in await _candidates(runtime, issuer):
        policy = policy_for(settings, issuer, allowlist, org_id)
        providers = directory(state, settings)
        try:
            metadata = await providers.metadata(org_id, issuer, policy)
        except ProviderUnavailable as exc:
            log.warning(
                "external_token.metadata_unavailable", org_id=str(org_id), reason=exc.reason
            )
            continue
        keys = providers.keys(org_id, metadata, policy)
        issuers.append(ExternalIssuer(org_id, issuer, frozenset({audience}), keys))
    if len(cache) > 1000:
        cache.clear()
    cache[issuer] = (time.monotonic(), issuers)
    return issuers


async def principal_for_external(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    found: ExternalIssuer,
    claims: dict[str, Any],
) -> Principal:
    """The principal of a verified provider access token: the user linked to its ``sub``."""
    from sprintconnect.identity.auth import charge

    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise InvalidCredentials("The access token names no subject.")
    org_id = found.org_id
    await bind_from_now(session, org_id)
    identity = await IdentityRepository(session).find(org_id, found.issuer, subject)
    if identity is None:
        log.warning("external_token.unknown_subject", org_id=str(org_id))
        raise InvalidCredentials(
            "The access token's subject has not signed in to this organization; sign in "
            "through the browser once first."
        )
    await charge(request, f"token:{org_id}:{identity.user_id}", org_id)
    facts = await AccessRepository(session).facts(org_id, identity.user_id)
    if not facts.member:
        raise InvalidCredentials("The access token's user is not a member of this organization.")
    now = runtime.clock.now()
    auth_time = claims.get("auth_time")
    acr = claims.get("acr")
    jti = claims.get("jti")
    client = claims.get("client_id") or claims.get("azp")
    return assemble_principal(
        facts,
        now=now,
        org_id=org_id,
        user_id=identity.user_id,
        scopes=TOKEN_SCOPES,
        credential="token",
        token_id=jti[:200] if isinstance(jti, str) else None,
        client_id=client[:255] if isinstance(client, str) else None,
        auth_time=datetime.fromtimestamp(auth_time, UTC)
        if isinstance(auth_time, int | float)
        else None,
        acr=acr[:200] if isinstance(acr, str) else None,
    )
