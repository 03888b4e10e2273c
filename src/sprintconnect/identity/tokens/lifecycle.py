"""Introspection (RFC 7662) and revocation (RFC 7009) of access tokens, refresh tokens and
API keys, for a caller of one organization: another organization's token is inactive (and
revoking it changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.api_key.service import ApiKeyService, KeyFailure
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.jose import TokenRejected, verify_jwt
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.tokens.bearer import own_expectations
from sprintconnect.identity.tokens.issuer import REFRESH_PREFIX, REFRESH_PURPOSE
from sprintconnect.identity.tokens.repository import is_revoked_here
from sprintconnect.identity.tokens.schemas import introspection
from sprintconnect.identity.tokens.service import TokenService
from sprintconnect.models import ApiKey
from sprintconnect.models.token import RefreshToken
from sprintconnect.service_account.repository import ServiceAccountRepository


@dataclass(frozen=True)
class Caller:
    """Who asks: a principal of an organization, or a public client (revocation only)."""

    principal: Principal | None
    client_id: str | None
    may_manage: bool  # holds api_keys:write (revoke any token of its organization)


def _ts(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


class Lifecycle:
    def __init__(self, service: TokenService) -> None:
        self.service = service
        self.session: AsyncSession = service.session
        self.runtime = service.runtime

    # --- finding a token ---------------------------------------------------------------------

    async def _access(self, token: str) -> dict[str, Any] | None:
        try:
            return await verify_jwt(
                token,
                self.service.state.keys,
                own_expectations(self.runtime),
                now=self.runtime.clock.now(),
            )
        except TokenRejected:
            return None

    async def _refresh(self, token: str, caller_org: UUID | None) -> RefreshToken | None:
        """The refresh token, when it is the caller's organization's (a public client's
        request is bound to the token's organization here)."""
        digest = self.runtime.keyring.hmac(REFRESH_PURPOSE, token.encode())
        located = await self.service.grants.locate_refresh(digest)
        if located is None:
            return None
        token_id, org_id = located
        if caller_org is None:
            await bind_tenant(self.session, org_id)
        elif caller_org != org_id:
            return None
        return await self.service.grants.refresh_for_update(org_id, token_id)

    async def _api_key(self, token: str) -> ApiKey | None:
        """The key, checked in a transaction of its own (the check binds its organization)."""
        async with self.runtime.db.sessionmaker() as session, session.begin():
            service = ApiKeyService(session, self.runtime.keyring, self.runtime.clock)
            found = await service.verify(token, debounce=timedelta(0), stamp=False)
        return None if isinstance(found, KeyFailure) else found

    # --- introspection -----------------------------------------------------------------------

    async def introspect(self, principal: Principal, token: str) -> dict[str, Any]:
        org = principal.org_id
        now = self.runtime.clock.now()
        if token.startswith("sc_"):
            key = await self._api_key(token)
            if key is None or key.org_id != org:
                return introspection(False)
            return introspection(
                True,
                token_type="api_key",  # noqa: S106 - a kind
                scope=" ".join(key.scopes),
                sub=str(key.created_by_user_id) if key.created_by_user_id else None,
                iat=_ts(key.created_at),
                exp=_ts(key.expires_at),
                org=str(key.org_id),
                key_id=str(key.id),
            )
        if token.startswith(REFRESH_PREFIX):
            row = await self._refresh(token, org)
            if (
                row is None
                or row.org_id != org
                or row.revoked_at is not None
                or row.rotated_at is not None
                or row.expires_at <= now
            ):
                return introspection(False)
            return introspection(
                True,
                token_type="refresh_token",  # noqa: S106 - a kind
                scope=row.scope,
                client_id=row.client_id,
                sub=str(row.user_id),
                iat=_ts(row.created_at),
                exp=_ts(row.expires_at),
                aud=row.audience,
                org=str(row.org_id),
            )
        claims = await self._access(token)
        if claims is None or claims.get("org") != str(org):
            return introspection(False)
        if await is_revoked_here(self.session, str(claims.get("jti"))):
            return introspection(False)
        facts = await AccessRepository(self.session).facts(org, principal_user(claims))
        if not facts.member:
            return introspection(False)
        if "sa" in claims:
            account = await ServiceAccountRepository(self.session).get(
                org, principal_uuid(claims["sa"])
            )
            if account is None or account.disabled_at is not None:
                return introspection(False)
        cnf = claims.get("cnf")
        return introspection(
            True,
            token_type="DPoP" if isinstance(cnf, dict) and "jkt" in cnf else "Bearer",
            **{
                k: claims.get(k)
                for k in (
                    "scope",
                    "client_id",
                    "sub",
                    "aud",
                    "iss",
                    "exp",
                    "iat",
                    "nbf",
                    "jti",
                    "org",
                    "sa",
                    "cnf",
                    "auth_time",
                    "acr",
                )
            },
        )

    # --- revocation --------------------------------------------------------------------------

    async def revoke(self, caller: Caller, token: str) -> None:
        """Revoke what ``token`` is, when the caller may; unknown or foreign: nothing."""
        now = self.runtime.clock.now()
        if token.startswith("sc_"):
            await self._revoke_key(caller, token)
            return
        if token.startswith(REFRESH_PREFIX):
            row = await self._refresh(token, caller.principal.org_id if caller.principal else None)
            if row is None or not self._may(caller, row.org_id, row.client_id, row.user_id):
                return
            await self.service.revoke_refresh(row, now)
            await self._audit(caller, row.org_id, "refresh_token", row.client_id, row.user_id)
            return
        claims = await self._access(token)
        if claims is None:
            return
        try:
            org, user = principal_uuid(claims.get("org")), principal_user(claims)
        except ValueError:
            return
        if not self._may(caller, org, claims.get("client_id"), user):
            return
        if caller.principal is None:  # a public client: bind to the token's organization
            await bind_tenant(self.session, org)
        exp = datetime.fromtimestamp(int(claims["exp"]), UTC)
        await self.service.revoke_access(org, str(claims["jti"]), exp, now)
        await self._audit(caller, org, "access_token", claims.get("client_id"), user)

    def _may(self, caller: Caller, org: Any, client_id: Any, user: Any) -> bool:
        if caller.principal is None:  # public client: its own tokens only
            return caller.client_id is not None and client_id == caller.client_id
        if caller.principal.org_id != org:
            return False
        return (
            caller.may_manage
            or client_id == caller.client_id
            or (user is not None and user == caller.principal.user_id)
        )

    async def _revoke_key(self, caller: Caller, token: str) -> None:
        if caller.principal is None:
            return
        key = await self._api_key(token)
        if key is None or key.org_id != caller.principal.org_id:
            return
        service = ApiKeyService(self.session, self.runtime.keyring, self.runtime.clock)
        await service.revoke(caller.principal, key.id)

    async def _audit(self, caller: Caller, org: Any, kind: str, client_id: Any, user: Any) -> None:
        actor = caller.principal.actor if caller.principal is not None else Actor("anonymous")
        await audit.record(
            self.session,
            audit.AuditTag.TOKEN_REVOKED,
            org_id=org,
            actor=actor,
            target=audit.Target("user", user) if user is not None else None,
            details={"kind": kind, "client_id": client_id},
        )


def principal_uuid(value: Any) -> UUID:
    return UUID(str(value))


def principal_user(claims: dict[str, Any]) -> UUID:
    return principal_uuid(claims.get("sub"))
