"""Issuing and withdrawing tokens, what every grant shares: signed access tokens, stored
refresh tokens, the token endpoint's answer, revocation and the reuse alert.

Access tokens are JWTs (RFC 9068, ``typ: at+jwt``) signed ES256 by ``keys.SigningKeys``:
``iss`` (``settings.base_url``), ``aud``, ``sub`` (the user id: a member's, or a service
account's user), ``org``, ``scope``, ``client_id``, ``jti``, ``iat``, ``nbf``, ``exp``, and
``auth_time``/``acr`` when a human signed in, ``sa`` for a service account, ``cnf`` when bound
(``jkt`` for DPoP, ``x5t#S256`` for mTLS). Refresh tokens (and codes, ``codes``) are random
strings stored as HMAC digests.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.tokens.binding import Binding
from sprintconnect.identity.tokens.keys import ALG
from sprintconnect.identity.tokens.repository import (
    GrantRepository,
    RevocationRepository,
)
from sprintconnect.identity.tokens.state import TokenState
from sprintconnect.jobs.outbox import emit
from sprintconnect.models.token import AuthorizationCode, RefreshToken
from sprintconnect.runtime import Runtime

REFRESH_PREFIX = "scr_"
REFRESH_PURPOSE = "oauth/refresh-token"
REUSE_TOPIC = "token.refresh_reuse_detected"


@dataclass(frozen=True)
class Minted:
    token: str
    jti: str
    expires_at: datetime
    claims: dict[str, Any]


class TokenIssuer:
    """The base of ``service.TokenService``: the grants (``codes``, ``refresh``) build on it."""

    def __init__(self, session: AsyncSession, runtime: Runtime, state: TokenState) -> None:
        self.session = session
        self.runtime = runtime
        self.state = state
        self.settings = runtime.settings
        self.grants = GrantRepository(session)

    def _digest(self, purpose: str, value: str) -> bytes:
        return self.runtime.keyring.hmac(purpose, value.encode())

    async def mint(
        self,
        *,
        org_id: UUID,
        user_id: UUID,
        scope: str,
        client_id: str,
        audience: str,
        binding: Binding,
        now: datetime,
        service_account_id: UUID | None = None,
        auth_time: datetime | None = None,
        acr: str | None = None,
    ) -> Minted:
        """A signed access token (RFC 9068)."""
        signer = await self.state.keys.signer()
        lifetime = self.settings.access_token_seconds
        issued = int(now.timestamp())
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": self.settings.base_url,
            "aud": audience,
            "sub": str(user_id),
            "org": str(org_id),
            "scope": scope,
            "client_id": client_id,
            "jti": jti,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
        }
        if service_account_id is not None:
            claims["sa"] = str(service_account_id)
        if auth_time is not None:
            claims["auth_time"] = int(auth_time.timestamp())
        if acr:
            claims["acr"] = acr
        cnf = binding.cnf()
        if cnf:
            claims["cnf"] = cnf
        header = {"alg": ALG, "typ": "at+jwt", "kid": signer.kid}
        token = jwt.encode(header, claims, signer.key)
        return Minted(token, jti, now + timedelta(seconds=lifetime), claims)

    def _answer(
        self, minted: Minted, binding: Binding, refresh: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": minted.token,
            "token_type": binding.token_type,
            "expires_in": self.settings.access_token_seconds,
            "scope": minted.claims["scope"],
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return body

    async def _issue_pair(
        self,
        grant: AuthorizationCode | RefreshToken,
        family: UUID,
        binding: Binding,
        now: datetime,
        scope: str | None = None,
    ) -> tuple[Minted, str]:
        scope = scope or grant.scope
        minted = await self.mint(
            org_id=grant.org_id,
            user_id=grant.user_id,
            scope=scope,
            client_id=grant.client_id,
            audience=grant.audience,
            binding=binding,
            now=now,
            auth_time=grant.auth_time,
            acr=grant.acr,
        )
        refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
        await self.grants.add(
            RefreshToken(
                org_id=grant.org_id,
                user_id=grant.user_id,
                family_id=family,
                digest=self._digest(REFRESH_PURPOSE, refresh),
                client_id=grant.client_id,
                scope=scope,
                audience=grant.audience,
                jkt=binding.jkt,
                x5t=binding.x5t,
                auth_time=grant.auth_time,
                acr=grant.acr,
                session_id=grant.session_id,
                expires_at=now + timedelta(seconds=self.settings.refresh_token_seconds),
            )
        )
        return minted, refresh

    async def _alert_reuse(
        self, org_id: UUID, user_id: UUID, family: UUID | None, kind: str, now: datetime
    ) -> None:
        details = {"kind": kind, "family_id": str(family) if family else None}
        await audit.record(
            self.session,
            audit.AuditTag.TOKEN_REUSE_DETECTED,
            org_id=org_id,
            actor=Actor("anonymous"),
            target=audit.Target("user", user_id),
            details=details,
        )
        await emit(
            self.session,
            org_id=org_id,
            topic=REUSE_TOPIC,
            payload={**details, "user_id": str(user_id), "detected_at": now.isoformat()},
            key=f"token-reuse:{family or user_id}:{int(now.timestamp())}",
        )

    # --- revocation --------------------------------------------------------------------------

    async def revoke_access(
        self, org_id: UUID, jti: str, expires_at: datetime, now: datetime
    ) -> None:
        await RevocationRepository(self.session).add(org_id, jti, expires_at, now)
        self.state.revocations.add_after_commit(self.session, jti, expires_at)

    async def revoke_refresh(self, row: RefreshToken, now: datetime) -> int:
        return await self.grants.revoke_family(row.org_id, row.family_id, now, "revoked")
