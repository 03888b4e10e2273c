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
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.session import bind_when_used, release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.session.devidp import ensure_dev_provider
from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.id_token import check_id_token, read_claims
from sprintconnect.identity.session.links import safe_return_to
from sprintconnect.identity.session.loading import LoadedProvider, load_provider
from sprintconnect.identity.session.opening import open_session
from sprintconnect.identity.session.provider import (
    ProviderMetadata,
    ProviderUnavailable,
    directory,
    policy_for,
    token_request,
)
from sprintconnect.identity.session.provision import provision
from sprintconnect.identity.session.repository import LoginStateRepository, ProviderRepository
from sprintconnect.identity.session.store import SessionRecord
from sprintconnect.models.sign_in import LoginState
from sprintconnect.runtime import Runtime

LOGIN_STATE_SECONDS = 600
BINDING_PURPOSE = "sign-in-binding"
STATE_PURPOSE = "sign-in-state"


@dataclass(frozen=True)
class Completed:
    org_id: UUID
    token: str
    record: SessionRecord
    return_to: str


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
        claimed = read_claims(provider, claims)
        user_id = await provision(self.session, provider, claimed, now)
        token, record = await open_session(
            self.request,
            self.runtime,
            self.session,
            org_id=org_id,
            user_id=user_id,
            provider=provider,
            claims=claims,
            answer=answer,
            now=now,
        )
        return Completed(org_id, token, record, str(taken["return_to"]))

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
        return await check_id_token(id_token, keys, metadata, provider, taken, now)
