"""An ID token from an issuer the organization did not configure is refused."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import Request

from sprintconnect.identity.session.errors import SignInFailed
from sprintconnect.identity.session.loading import LoadedProvider
from sprintconnect.identity.session.provider import fetch_metadata, policy_for
from sprintconnect.identity.session.service import SignInService
from sprintconnect.models.sign_in import IdentityProvider
from tests.conftest import Tenant
from tests.identity.session.conftest import Provider, SignInApp


def _id_token_from(provider: Provider, client_id: str, nonce: str) -> str:
    """A real ID token of ``provider`` for ``client_id`` (code flow, done by hand)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "https://testserver/auth/callback",
        "scope": "openid email",
        "state": "s",
        "nonce": nonce,
    }
    authorize = f"{provider.issuer}/oauth2/authorize?{urlencode(params)}"
    chosen = httpx.post(authorize, data={"sub": "mallory@example.com"})
    code = parse_qs(urlsplit(chosen.headers["location"]).query)["code"][0]
    answer = httpx.post(
        f"{provider.issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "client_id": client_id,
            "client_secret": "x",
        },
    )
    token: str = answer.json()["id_token"]
    return token


@pytest.mark.parametrize("same_client", [True, False])
async def test_an_id_token_of_an_unconfigured_issuer_is_refused(
    sign_in_app: SignInApp,
    tenant: Tenant,
    provider: Provider,
    other_provider: Provider,
    same_client: bool,
) -> None:
    runtime = sign_in_app.runtime
    client_id = "sprintconnect-app"
    nonce = secrets.token_urlsafe(16)
    foreign = _id_token_from(other_provider, client_id if same_client else "another", nonce)
    configured = IdentityProvider(
        org_id=tenant.org_id,
        issuer=provider.issuer,
        client_id=client_id,
        scopes=["openid"],
        allowed_email_domains=[],
        claim_name="name",
        claim_email="email",
        claim_groups="groups",
        group_roles={},
        enabled=True,
    )
    policy = policy_for(runtime.settings, provider.issuer, [], tenant.org_id)
    metadata = await fetch_metadata(provider.issuer, policy)
    request = Request({"type": "http", "app": sign_in_app.app, "headers": [], "client": None})
    async with runtime.db.sessionmaker() as session:
        service = SignInService(request, runtime, session)
        with pytest.raises(SignInFailed) as refused:
            await service._verify_id_token(
                foreign,
                metadata,
                LoadedProvider(configured, None, []),
                {"nonce": nonce, "max_age": None},
                runtime.clock.now(),
            )
    # Signed by a key the configured issuer does not publish, naming another issuer.
    assert refused.value.reason in {"id_token_unknown_kid", "id_token_issuer", "id_token_signature"}
