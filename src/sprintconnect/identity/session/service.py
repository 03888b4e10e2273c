"""Browser sign-in as a backend-for-frontend: Authorization Code with PKCE, state and nonce.

``SignInService.begin`` stores a login state (state and browser binding as digests, nonce and
PKCE verifier server-side) and answers the provider's authorization URL; ``complete`` takes
the state (once), exchanges the code through the egress guard, verifies the ID token, applies
the provider's rules (email domains), provisions the user and opens a session. No pooled
connection is held while the provider is called (decision 0005).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID, uuid4

import structlog
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.db.session import bind_when_used, release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.jose.verify import Expectations, TokenRejected, verify_jwt
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.session.devidp import ensure_dev_provider
from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.provider import (
    ProviderMetadata,
    ProviderUnavailable,
    directory,
    policy_for,
    token_request,
)
from sprintconnect.identity.session.provision import Claimed, provision
from sprintconnect.identity.session.repository import LoginStateRepository, ProviderRepository
from sprintconnect.identity.session.store import SessionRecord, seal, session_store, token_digest
from sprintconnect.kit.context import current_request
from sprintconnect.kit.text import normalize_email
from sprintconnect.models.sign_in import IdentityProvider, LoginState
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.runtime import Runtime
from sprintconnect.secret.errors import SecretNotFound

log = structlog.get_logger(__name__)

LOGIN_STATE_SECONDS = 600
BINDING_PURPOSE = "sign-in-binding"
STATE_PURPOSE = "sign-in-state"


def safe_return_to(value: str | None) -> str:
    """``value`` when it is a path on this origin, else raise (never an open redirect)."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value)
        or len(value) > 2000
    ):
        raise SignInFailed(
            "return_to",
            "The page to return to after signing in must be a path on this site.",
            status=400,
        )
    return value


def login_url(
    base_url: str,
    slug: str,
    return_to: str | None = None,
    *,
    prompt: str | None = None,
    max_age: int | None = None,
) -> str:
    params: dict[str, str] = {"org": slug}
    if return_to:
        params["return_to"] = return_to
    if prompt:
        params["prompt"] = prompt
    if max_age is not None:
        params["max_age"] = str(max_age)
    return f"{base_url}/auth/login?{urlencode(params)}"


@dataclass(frozen=True)
class Completed:
    org_id: UUID
    token: str
    record: SessionRecord
    return_to: str


@dataclass(frozen=True)
class LoadedProvider:
    provider: IdentityProvider
    secret: str | None
    allowlist: list[str]


async def load_provider(request: Request, session: AsyncSession, org_id: UUID) -> LoadedProvider:
    """The (bound) organization's enabled provider, its client secret and egress allowlist."""
    provider = await ProviderRepository(session).get(org_id)
    if provider is None or not provider.enabled:
        raise SignInFailed(
            "no_provider",
            "This organization has no identity provider set up for sign-in. An administrator "
            "can configure one (PUT /api/v1/organization/identity-provider).",
            status=409,
        )
    org = await OrganizationRepository(session).get(org_id)
    secret: str | None = None
    if provider.client_secret_ref:
        try:
            value = await request.app.state.secret_store.get(org_id, provider.client_secret_ref)
            secret = value["client_secret"]
        except (SecretNotFound, KeyError):
            secret = None
    return LoadedProvider(provider, secret, list(org.egress_allowlist) if org else [])


class SignInService:
    def __init__(self, request: Request, runtime: Runtime, session: AsyncSession) -> None:
        self.request = request
        self.runtime = runtime
        self.session = session
        self.settings = runtime.settings

    @property
    def redirect_uri(self) -> str:
        return self.settings.base_url + "/auth/callback"

    async def _metadata(self, loaded: LoadedProvider) -> ProviderMetadata:
        provider = loaded.provider
        policy = policy_for(self.settings, provider.issuer, loaded.allowlist, provider.org_id)
        try:
            return await directory(self.request.app.state, self.settings).metadata(
                provider.org_id, provider.issuer, policy
            )
        except ProviderUnavailable as exc:
            raise SignInFailed(
                "provider_unavailable",
                "The organization's identity provider could not be reached. Try again in a "
                "moment; if it keeps failing, tell an administrator.",
                status=502,
            ) from exc

    async def begin(
        self, slug: str, return_to: str | None, *, prompt: str | None, max_age: int | None
    ) -> tuple[str, str]:
        """The provider's authorization URL and the browser-binding cookie's value."""
        target = safe_return_to(return_to)
        found = await ProviderRepository(self.session).sign_in_org(slug[:100])
        if found is None:
            raise SignInFailed(
                "unknown_org",
                f"No organization is named {slug[:100]!r}. Check the sign-in link.",
                status=404,
            )
        org_id, enabled = found
        try:
            return await self._begin(org_id, enabled, target, prompt=prompt, max_age=max_age)
        except SignInFailed as failure:
            failure.org_id = org_id  # type: ignore[attr-defined]
            raise

    async def _begin(
        self,
        org_id: UUID,
        enabled: bool | None,
        target: str,
        *,
        prompt: str | None,
        max_age: int | None,
    ) -> tuple[str, str]:
        bind_when_used(self.session, org_id)
        await bind_tenant(self.session, org_id)  # the lookup began the transaction unbound
        if enabled is None and await ensure_dev_provider(
            self.request.app.state, self.settings, self.session, org_id
        ):
            enabled = True
        if not enabled:
            raise SignInFailed(
                "no_provider",
                "This organization has no identity provider set up for sign-in. An "
                "administrator can configure one, or use an API key meanwhile.",
                status=409,
            )
        loaded = await load_provider(self.request, self.session, org_id)
        await release_connection(self.session)
        metadata = await self._metadata(loaded)
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        verifier, binding = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
        now = self.runtime.clock.now()
        states = LoginStateRepository(self.session)
        await states.prune(org_id, now)
        await states.add(
            LoginState(
                org_id=org_id,
                state_digest=self.runtime.keyring.hmac(STATE_PURPOSE, state.encode()),
                binding_digest=self.runtime.keyring.hmac(BINDING_PURPOSE, binding.encode()),
                nonce=nonce,
                code_verifier=verifier,
                redirect_uri=self.redirect_uri,
                return_to=target,
                max_age=max_age,
                expires_at=now + timedelta(seconds=LOGIN_STATE_SECONDS),
            )
        )
        params = {
            "response_type": "code",
            "client_id": loaded.provider.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(loaded.provider.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if prompt:
            params["prompt"] = prompt
        if max_age is not None:
            params["max_age"] = str(max_age)
        if self.settings.step_up_acr and prompt == "login":
            params["acr_values"] = self.settings.step_up_acr
        sep = "&" if urlsplit(metadata.authorization_endpoint).query else "?"
        return f"{metadata.authorization_endpoint}{sep}{urlencode(params)}", binding

    async def take_state(self, state: str | None, binding: str | None) -> dict[str, Any]:
        """The login state, taken (and committed as taken) so that it is never used twice."""
        if not state or len(state) > 200:
            raise SignInFailed("state_missing", "The sign-in response is incomplete.")
        taken = await LoginStateRepository(self.session).take(
            self.runtime.keyring.hmac(STATE_PURPOSE, state.encode())
        )
        await release_connection(self.session)  # the take stands whatever happens next
        if taken is None:
            raise SignInFailed(
                "state_unknown",
                "This sign-in link is not valid or was already used. Start again.",
            )
        failure: SignInFailed | None = None
        if taken["expires_at"] < self.runtime.clock.now():
            failure = SignInFailed("state_expired", "The sign-in took too long. Start again.")
        elif binding is None or not hmac.compare_digest(
            self.runtime.keyring.hmac(BINDING_PURPOSE, binding.encode()),
            bytes(taken["binding_digest"]),
        ):
            failure = SignInFailed(
                "browser_mismatch",
                "This sign-in was started in another browser (or its cookie was lost). Start "
                "again from this browser.",
            )
        if failure is not None:
            failure.org_id = taken["org_id"]  # type: ignore[attr-defined]
            raise failure
        return taken

    async def complete(
        self,
        *,
        code: str | None,
        state: str | None,
        error: str | None,
        binding: str | None,
        issuer: str | None = None,
    ) -> Completed:
        taken = await self.take_state(state, binding)
        org_id: UUID = taken["org_id"]
        try:
            return await self._complete(taken, code, error, issuer)
        except SignInFailed as failure:
            failure.org_id = org_id  # type: ignore[attr-defined]
            raise

    async def _complete(
        self, taken: dict[str, Any], code: str | None, error: str | None, issuer: str | None
    ) -> Completed:
        org_id: UUID = taken["org_id"]
        if error:
            raise SignInFailed(
                "provider_error",
                f"The identity provider did not sign you in ({error[:64]}).",
            )
        if not code or len(code) > 2000:
            raise SignInFailed("code_missing", "The sign-in response is incomplete.")
        if taken["redirect_uri"] != self.redirect_uri:
            raise SignInFailed("redirect_uri", "The sign-in was started for another address.")
        bind_when_used(self.session, org_id)
        loaded = await load_provider(self.request, self.session, org_id)
        await release_connection(self.session)
        provider = loaded.provider
        if issuer is not None and issuer != provider.issuer:
            # RFC 9207: the response names another issuer (a mix-up attack).
            raise SignInFailed(
                "issuer_mismatch", "The sign-in response came from another identity provider."
            )
        metadata = await self._metadata(loaded)
        policy = policy_for(self.settings, provider.issuer, loaded.allowlist, org_id)
        try:
            answer = await token_request(
                metadata,
                policy,
                client_id=provider.client_id,
                client_secret=loaded.secret,
                form={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": taken["redirect_uri"],
                    "code_verifier": taken["code_verifier"],
                },
            )
        except ProviderUnavailable as exc:
            raise SignInFailed(
                "code_exchange_failed",
                "The identity provider did not accept this sign-in (the code may have been "
                "used already or expired). Start again.",
            ) from exc
        now = self.runtime.clock.now()
        claims = await self._verify_id_token(answer.get("id_token"), metadata, loaded, taken, now)
        claimed = self._claimed(provider, claims)
        user_id = await provision(self.session, provider, claimed, now)
        return await self._open_session(org_id, user_id, provider, claims, answer, taken, now)

    async def _verify_id_token(
        self,
        id_token: Any,
        metadata: ProviderMetadata,
        loaded: LoadedProvider,
        taken: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        provider = loaded.provider
        if not isinstance(id_token, str):
            raise SignInFailed("id_token_missing", "The identity provider sent no ID token.")
        policy = policy_for(self.settings, provider.issuer, loaded.allowlist, provider.org_id)
        keys = directory(self.request.app.state, self.settings).keys(
            provider.org_id, metadata, policy
        )
        expect = Expectations(
            issuer=provider.issuer,
            audiences=frozenset({provider.client_id}),
            token_types=frozenset({"jwt", ""}),
            algorithms=metadata.algorithms,
        )
        try:
            claims = await verify_jwt(id_token, keys, expect, now=now)
        except TokenRejected as exc:
            log.warning("sign_in.id_token_rejected", reason=exc.reason)
            raise SignInFailed(
                f"id_token_{exc.reason}",
                f"The identity provider's answer could not be verified: {exc.description}",
            ) from exc
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(
            nonce.encode(), str(taken["nonce"]).encode()
        ):
            raise SignInFailed(
                "id_token_nonce", "The identity provider's answer is not for this sign-in."
            )
        aud = claims.get("aud")
        azp = claims.get("azp")
        several = isinstance(aud, list) and len(aud) > 1
        if (azp is not None or several) and azp != provider.client_id:
            raise SignInFailed(
                "id_token_azp", "The identity provider's answer was issued to another client."
            )
        max_age = taken.get("max_age")
        if max_age is not None:
            auth_time = claims.get("auth_time")
            if isinstance(auth_time, int | float) and now.timestamp() - auth_time > max_age + 30:
                raise SignInFailed(
                    "stale_authentication",
                    "The identity provider did not ask you to sign in again. Start again.",
                )
        return claims

    def _claimed(self, provider: IdentityProvider, claims: dict[str, Any]) -> Claimed:
        raw = claims.get(provider.claim_email)
        try:
            email = normalize_email(raw) if isinstance(raw, str) else ""
        except ValueError:
            email = ""
        if not email:
            raise SignInFailed(
                "email_missing",
                "The identity provider did not share a valid email address. Allow the 'email' "
                "scope for SprintConnect at the provider.",
            )
        if claims.get("email_verified") is False:
            raise SignInFailed(
                "email_unverified",
                "Your email address is not verified at the identity provider.",
                status=403,
            )
        domain = email.rpartition("@")[2].lower()
        if provider.allowed_email_domains and domain not in provider.allowed_email_domains:
            raise SignInFailed(
                "email_domain",
                f"Accounts with {domain} addresses cannot sign in to this organization.",
                status=403,
            )
        name = claims.get(provider.claim_name)
        groups_raw = claims.get(provider.claim_groups)
        groups: tuple[str, ...] = ()
        if isinstance(groups_raw, list):
            groups = tuple(g for g in groups_raw if isinstance(g, str))[:500]
        elif isinstance(groups_raw, str):
            groups = (groups_raw,)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise SignInFailed("id_token_sub", "The identity provider's answer is not usable.")
        return Claimed(
            issuer=provider.issuer,
            subject=subject,
            email=email,
            name=name[:200] if isinstance(name, str) and name else None,
            groups=groups,
        )

    async def _open_session(
        self,
        org_id: UUID,
        user_id: UUID,
        provider: IdentityProvider,
        claims: dict[str, Any],
        answer: dict[str, Any],
        taken: dict[str, Any],
        now: datetime,
    ) -> Completed:
        token = secrets.token_urlsafe(32)
        session_id = uuid4()
        auth_time = claims.get("auth_time")
        authenticated = now
        if isinstance(auth_time, int | float) and auth_time <= now.timestamp() + 30:
            authenticated = min(now, datetime.fromtimestamp(auth_time, UTC))
        refresh = answer.get("refresh_token")
        expires_in = answer.get("expires_in")
        access_expires = (
            now + timedelta(seconds=int(expires_in))
            if isinstance(expires_in, int | float) and expires_in > 0 and isinstance(refresh, str)
            else None
        )
        amr = claims.get("amr")
        meta = current_request()
        keyring = self.runtime.keyring
        record = SessionRecord(
            id=session_id,
            org_id=org_id,
            user_id=user_id,
            token_digest=token_digest(keyring, token),
            issuer=provider.issuer,
            created_at=now,
            authenticated_at=authenticated,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=self.settings.session_max_seconds),
            acr=str(claims["acr"])[:200] if isinstance(claims.get("acr"), str) else None,
            amr=[a for a in amr if isinstance(a, str)][:20] if isinstance(amr, list) else [],
            refresh_sealed=seal(keyring, session_id, refresh if isinstance(refresh, str) else None),
            id_token_sealed=seal(keyring, session_id, answer.get("id_token")),
            access_expires_at=access_expires,
            ip=meta.ip,
            user_agent=meta.user_agent[:512] if meta.user_agent else None,
        )
        await session_store(self.request.app.state, self.settings).create(self.session, record)
        await audit.record(
            self.session,
            audit.AuditTag.SESSION_SIGNED_IN,
            org_id=org_id,
            actor=Actor("user", str(user_id), str(user_id)),
            target=audit.Target("session", session_id),
            details={"issuer": provider.issuer, "acr": record.acr, "amr": record.amr},
        )
        log.info("sign_in.completed", org_id=str(org_id), session_id=str(session_id))
        return Completed(org_id, token, record, str(taken["return_to"]))
