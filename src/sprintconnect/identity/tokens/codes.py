"""The authorization code grant (RFC 6749 section 4.1) with PKCE S256 (RFC 7636): single-use
codes for the public CLI client, exchanged once; a replayed code revokes what it issued."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import structlog

from sprintconnect import audit
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.tokens.binding import Binding
from sprintconnect.identity.tokens.issuer import TokenIssuer
from sprintconnect.identity.tokens.schemas import OAuthError
from sprintconnect.kit.secrets import constant_time_equals
from sprintconnect.models.token import AuthorizationCode

log = structlog.get_logger(__name__)

CODE_SECONDS = 60
CODE_PURPOSE = "oauth/authorization-code"
_PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return constant_time_equals(computed.encode(), challenge.encode())


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.match(challenge))


class CodeGrant(TokenIssuer):
    """Creating codes (the authorization endpoint) and exchanging them (the token endpoint)."""

    async def create_code(
        self,
        *,
        org_id: UUID,
        user_id: UUID,
        client_id: str,
        redirect_uri: str,
        code_challenge: str,
        scope: list[str],
        audience: str,
        jkt: str | None,
        auth_time: datetime | None,
        acr: str | None,
        session_id: UUID | None,
    ) -> str:
        """A single-use code for ``CODE_SECONDS``, bound to client, redirect URI, challenge."""
        now = self.runtime.clock.now()
        code = secrets.token_urlsafe(32)
        await self.grants.add(
            AuthorizationCode(
                org_id=org_id,
                user_id=user_id,
                digest=self._digest(CODE_PURPOSE, code),
                client_id=client_id,
                scope=" ".join(scope),
                audience=audience,
                jkt=jkt,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                auth_time=auth_time,
                acr=acr,
                session_id=session_id,
                expires_at=now + timedelta(seconds=CODE_SECONDS),
            )
        )
        return code

    async def exchange_code(
        self,
        *,
        client_id: str,
        code: str,
        redirect_uri: str | None,
        verifier: str | None,
        binding: Binding,
    ) -> dict[str, Any]:
        now = self.runtime.clock.now()
        invalid = OAuthError("invalid_grant", "The authorization code is not valid.")
        if not code or len(code) > 200:
            raise invalid
        located = await self.grants.locate_code(self._digest(CODE_PURPOSE, code))
        if located is None:
            raise invalid
        code_id, org_id = located
        from sprintconnect.db.tenancy import bind_tenant

        await bind_tenant(self.session, org_id)
        row = await self.grants.code_for_update(org_id, code_id)
        if row is None:
            raise invalid
        if row.used_at is not None:
            await self._code_replayed(row, now)
            raise OAuthError(
                "invalid_grant",
                "The authorization code was already used; what it issued is revoked.",
            )
        if row.expires_at <= now:
            raise OAuthError("invalid_grant", "The authorization code has expired.")
        if row.client_id != client_id:
            raise invalid
        if redirect_uri is None or redirect_uri != row.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization's.")
        if verifier is None or not _PKCE.match(verifier):
            raise OAuthError("invalid_grant", "A code_verifier (43-128 characters) is required.")
        if not pkce_matches(verifier, row.code_challenge):
            raise OAuthError("invalid_grant", "The code_verifier does not match the challenge.")
        if row.jkt is not None and binding.jkt != row.jkt:
            raise OAuthError(
                "invalid_dpop_proof", "The code is bound to a DPoP key: prove that key."
            )
        facts = await AccessRepository(self.session).facts(org_id, row.user_id)
        if not facts.member:
            raise OAuthError("invalid_grant", "The user is no longer a member.")
        row.used_at = now
        family = uuid.uuid4()
        minted, refresh = await self._issue_pair(row, family, binding, now)
        row.family_id = family
        row.access_jti = minted.jti
        row.access_expires_at = minted.expires_at
        await self.session.flush()
        await audit.record(
            self.session,
            audit.AuditTag.TOKEN_ISSUED,
            org_id=org_id,
            actor=Actor("user", str(row.user_id), str(row.user_id)),
            target=audit.Target("user", row.user_id),
            details={
                "grant_type": "authorization_code",
                "client_id": client_id,
                "scope": row.scope,
                "bound": binding.token_type,
                "family_id": str(family),
            },
        )
        return self._answer(minted, binding, refresh)

    async def _code_replayed(self, row: AuthorizationCode, now: datetime) -> None:
        """A used code again: revoke what its first use issued (RFC 6749 section 4.1.2)."""
        revoked = 0
        if row.family_id is not None:
            revoked = await self.grants.revoke_family(row.org_id, row.family_id, now, "code_reuse")
        if row.access_jti is not None and row.access_expires_at is not None:
            await self.revoke_access(row.org_id, row.access_jti, row.access_expires_at, now)
        await self._alert_reuse(row.org_id, row.user_id, row.family_id, "authorization_code", now)
        log.warning("token.code_reuse", org_id=str(row.org_id), revoked=revoked)
