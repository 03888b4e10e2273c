"""The token service: grants, access tokens, codes, refresh rotation, introspection, revocation.

Access tokens are JWTs (RFC 9068, ``typ: at+jwt``) signed ES256 by ``keys.SigningKeys``:
``iss`` (``settings.base_url``), ``aud``, ``sub`` (the user id: a member's, or a service
account's user), ``org``, ``scope``, ``client_id``, ``jti``, ``iat``, ``nbf``, ``exp``, and
``auth_time``/``acr`` when a human signed in, ``sa`` for a service account, ``cnf`` when bound
(``jkt`` for DPoP, ``x5t#S256`` for mTLS). Refresh tokens and codes are random strings stored
as HMAC digests. OAuth failures raise ``OAuthError`` (RFC 6749 section 5.2 answers).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import structlog
from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.permissions import ALL_SCOPES
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.tokens.keys import ALG
from sprintconnect.identity.tokens.repository import (
    GrantRepository,
    RevocationRepository,
)
from sprintconnect.identity.tokens.schemas import OAuthError
from sprintconnect.identity.tokens.state import TokenState
from sprintconnect.jobs.outbox import emit
from sprintconnect.kit.secrets import constant_time_equals
from sprintconnect.models.token import AuthorizationCode, RefreshToken, ServiceAccount
from sprintconnect.runtime import Runtime
from sprintconnect.service_account.repository import ServiceAccountRepository

log = structlog.get_logger(__name__)

CLI_CLIENT_ID = "sprintconnect-cli"
CODE_SECONDS = 60
REFRESH_PREFIX = "scr_"
CODE_PURPOSE = "oauth/authorization-code"
REFRESH_PURPOSE = "oauth/refresh-token"
DEFAULT_SCOPE = "admin"
# Accepted in ``scope`` and left out of the token's: OpenID/OAuth conventions clients send.
IGNORED_SCOPES = frozenset({"openid", "offline_access"})
REUSE_TOPIC = "token.refresh_reuse_detected"
_PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class PublicClient:
    client_id: str
    name: str

    def redirect_allowed(self, uri: str) -> bool:
        """RFC 8252 section 7.3: a loopback IP literal with any port, path ``/callback``;
        everything else compared exactly (no userinfo, query or fragment)."""
        if len(uri) > 200:
            return False
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "::1")
            and parts.netloc in (f"127.0.0.1:{port}", f"[::1]:{port}")
            and port is not None
            and port > 0
            and parts.path == "/callback"
            and not parts.query
            and not parts.fragment
            and "#" not in uri
            and "?" not in uri
        )


PUBLIC_CLIENTS = {CLI_CLIENT_ID: PublicClient(CLI_CLIENT_ID, "SprintConnect CLI")}


@dataclass(frozen=True)
class Binding:
    """What a token is bound to: a DPoP key (``jkt``) and/or a client certificate."""

    jkt: str | None = None
    x5t: str | None = None

    def cnf(self) -> dict[str, str] | None:
        cnf = {}
        if self.jkt:
            cnf["jkt"] = self.jkt
        if self.x5t:
            cnf["x5t#S256"] = self.x5t
        return cnf or None

    @property
    def token_type(self) -> str:
        return "DPoP" if self.jkt else "Bearer"


def api_audience(runtime: Runtime) -> str:
    """The audience of tokens for SprintConnect's API: its public URL."""
    return runtime.settings.base_url


def parse_scope(value: str | None) -> list[str]:
    """The requested scopes (``read``, ``write``, ``admin`` or permissions), or invalid_scope."""
    if value is None or not value.strip():
        return [DEFAULT_SCOPE]
    if len(value) > 2000:
        raise OAuthError("invalid_scope", "The scope is too long.")
    names = value.split()
    unknown = sorted({n for n in names if n not in ALL_SCOPES and n not in IGNORED_SCOPES})
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(unknown[:5])}.")
    kept = sorted({n for n in names if n in ALL_SCOPES})
    return kept or [DEFAULT_SCOPE]


def resolve_audience(runtime: Runtime, requested: list[str]) -> str:
    """RFC 8707 ``resource`` (or ``audience``): the API's, the default; anything else is
    invalid_target."""
    ours = api_audience(runtime)
    chosen = {r.rstrip("/") for r in requested if r}
    if not chosen:
        return ours
    if chosen != {ours.rstrip("/")}:
        raise OAuthError("invalid_target", f"Tokens are issued for one audience only: {ours}.")
    return ours


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return constant_time_equals(computed.encode(), challenge.encode())


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.match(challenge))


@dataclass(frozen=True)
class Minted:
    token: str
    jti: str
    expires_at: datetime
    claims: dict[str, Any]


class TokenService:
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

    # --- client credentials ------------------------------------------------------------------

    async def client_credentials(
        self, account: ServiceAccount, *, scope: list[str], audience: str, binding: Binding
    ) -> dict[str, Any]:
        now = self.runtime.clock.now()
        facts = await AccessRepository(self.session).facts(account.org_id, account.user_id)
        if not facts.member:  # pragma: no cover - deletion removes the account too
            raise OAuthError("invalid_client", "The service account is not a member.", status=401)
        minted = await self.mint(
            org_id=account.org_id,
            user_id=account.user_id,
            scope=" ".join(scope),
            client_id=account.client_id,
            audience=audience,
            binding=binding,
            now=now,
            service_account_id=account.id,
        )
        before = account.last_used_at
        await ServiceAccountRepository(self.session).touch_used(
            account.id, now, timedelta(minutes=1)
        )
        if before is None or before < now - timedelta(minutes=1):
            # Issuance is an authentication event: audited at most once a minute per account.
            await audit.record(
                self.session,
                audit.AuditTag.TOKEN_ISSUED,
                org_id=account.org_id,
                actor=Actor("service", str(account.id), str(account.user_id)),
                target=audit.Target("service_account", account.id),
                details={
                    "grant_type": "client_credentials",
                    "client_id": account.client_id,
                    "scope": minted.claims["scope"],
                    "bound": binding.token_type,
                },
            )
        return self._answer(minted, binding)

    # --- authorization code ------------------------------------------------------------------

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

    async def _code_replayed(self, row: AuthorizationCode, now: datetime) -> None:
        """A used code again: revoke what its first use issued (RFC 6749 section 4.1.2)."""
        revoked = 0
        if row.family_id is not None:
            revoked = await self.grants.revoke_family(row.org_id, row.family_id, now, "code_reuse")
        if row.access_jti is not None and row.access_expires_at is not None:
            await self.revoke_access(row.org_id, row.access_jti, row.access_expires_at, now)
        await self._alert_reuse(row.org_id, row.user_id, row.family_id, "authorization_code", now)
        log.warning("token.code_reuse", org_id=str(row.org_id), revoked=revoked)

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

    # --- refresh -----------------------------------------------------------------------------

    async def refresh(
        self, *, client_id: str, token: str, scope: str | None, binding: Binding
    ) -> dict[str, Any]:
        """Rotate: a new refresh token each use; a rotated one presented again revokes the
        whole family (reuse detection: audited alert and event)."""
        now = self.runtime.clock.now()
        invalid = OAuthError("invalid_grant", "The refresh token is not valid.")
        if not token.startswith(REFRESH_PREFIX) or len(token) > 200:
            raise invalid
        located = await self.grants.locate_refresh(self._digest(REFRESH_PURPOSE, token))
        if located is None:
            raise invalid
        token_id, org_id = located
        from sprintconnect.db.tenancy import bind_tenant

        await bind_tenant(self.session, org_id)
        row = await self.grants.refresh_for_update(org_id, token_id)
        if row is None or row.client_id != client_id:
            raise invalid
        if row.revoked_at is not None:
            raise OAuthError("invalid_grant", "The refresh token has been revoked.")
        if row.rotated_at is not None:
            await self.grants.revoke_family(org_id, row.family_id, now, "reuse_detected")
            await self._alert_reuse(org_id, row.user_id, row.family_id, "refresh_token", now)
            log.warning("token.refresh_reuse", org_id=str(org_id), family=str(row.family_id))
            raise OAuthError(
                "invalid_grant",
                "The refresh token was already used; every token of its grant is revoked.",
            )
        if row.expires_at <= now:
            raise OAuthError("invalid_grant", "The refresh token has expired.")
        if row.jkt is not None and binding.jkt != row.jkt:
            raise OAuthError(
                "invalid_dpop_proof", "The refresh token is bound to a DPoP key: prove that key."
            )
        if row.x5t is not None and binding.x5t != row.x5t:
            raise OAuthError("invalid_grant", "The refresh token is bound to a certificate.")
        narrowed = row.scope
        if scope is not None and scope.strip():
            wanted = parse_scope(scope)
            if not set(wanted) <= set(row.scope.split()):
                raise OAuthError("invalid_scope", "A refresh can only narrow the scope.")
            narrowed = " ".join(wanted)
        facts = await AccessRepository(self.session).facts(org_id, row.user_id)
        if not facts.member:
            await self.grants.revoke_family(org_id, row.family_id, now, "not_a_member")
            raise OAuthError("invalid_grant", "The user is no longer a member.")
        row.rotated_at = now
        keep = Binding(jkt=row.jkt or binding.jkt, x5t=row.x5t or binding.x5t)
        minted, refresh = await self._issue_pair(row, row.family_id, keep, now, narrowed)
        await self.session.flush()
        return self._answer(minted, keep, refresh)

    # --- revocation --------------------------------------------------------------------------

    async def revoke_access(
        self, org_id: UUID, jti: str, expires_at: datetime, now: datetime
    ) -> None:
        await RevocationRepository(self.session).add(org_id, jti, expires_at, now)
        self.state.revocations.add_after_commit(self.session, jti, expires_at)

    async def revoke_refresh(self, row: RefreshToken, now: datetime) -> int:
        return await self.grants.revoke_family(row.org_id, row.family_id, now, "revoked")
