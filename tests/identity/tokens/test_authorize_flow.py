"""The authorization-code flow over HTTP through a real browser session: a member signs in
with the organization's provider (a real OIDC provider on loopback), the CLI's authorization
request gets a code, the code + PKCE gives tokens that act as that member."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from urllib.parse import parse_qs, urlsplit

import pytest

from sprintconnect.app import create_app
from sprintconnect.identity.tokens.clients import CLI_CLIENT_ID
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import Tenant, assert_problem, make_settings
from tests.identity.session.conftest import (
    BASE,
    Provider,
    SignInApp,
    _serve,
    configure,
    new_email,
    sign_in,
)
from tests.identity.tokens.support import bearer, claims_of

REDIRECT = "http://127.0.0.1:49152/callback"


@pytest.fixture(scope="module")
def idp() -> Iterator[Provider]:
    yield from _serve()


@pytest.fixture
async def signed_app(runtime: Runtime, database_url: str) -> AsyncIterator[SignInApp]:
    async with AsyncExitStack() as stack:
        rt = build_runtime(
            make_settings(
                database_url,
                runtime.settings.data_dir,
                public_url=BASE,
                egress_allow_loopback=True,
            ),
            clock=runtime.clock,
        )
        stack.push_async_callback(rt.db.dispose)
        application = create_app(runtime=rt)
        await stack.enter_async_context(application.router.lifespan_context(application))
        yield SignInApp(application, rt)


async def test_cli_authorization_through_a_browser_session(
    signed_app: SignInApp, idp: Provider, tenant: Tenant
) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    params = {
        "response_type": "code",
        "client_id": CLI_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-1",
        "scope": "read offline_access",
        "org": tenant.slug,
    }
    async with signed_app.browser() as browser:
        assert (
            await configure(browser, tenant, idp, group_roles={"eng": ["engineer"]})
        ).status_code == 200
        email = new_email()
        idp.put_user(email, {"email": email, "name": "Grace Hopper", "groups": ["eng"]})

        # Not signed in: the authorization request sends the browser to sign in, and back.
        first = await browser.get("/oauth/authorize", params=params)
        assert first.status_code == 302
        login = urlsplit(first.headers["location"])
        assert login.path == "/auth/login"
        return_to = parse_qs(login.query)["return_to"][0]

        flow = await sign_in(browser, tenant.slug, email, return_to=return_to)
        assert flow.done.status_code == 302, flow.done.text
        back_here = flow.done.headers["location"]
        assert urlsplit(back_here).path == "/oauth/authorize"

        granted = await browser.get(back_here)
        assert granted.status_code == 302, granted.text
        target = urlsplit(granted.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
        answer = parse_qs(target.query)
        assert answer["state"] == ["st-1"]
        assert answer["iss"] == [BASE]
        code = answer["code"][0]

        exchanged = await browser.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": CLI_CLIENT_ID,
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
        )
        assert exchanged.status_code == 200, exchanged.text
        tokens = exchanged.json()
        assert tokens["scope"] == "read"
        assert tokens["refresh_token"]
        claims = claims_of(tokens["access_token"])
        assert claims["auth_time"] > 0
        assert claims["client_id"] == CLI_CLIENT_ID

        me = await browser.get("/api/v1/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["credential"] == "token"
        assert body["email"] == email
        assert body["roles"] == ["engineer"]
        # The token's scope bounds the member's roles: read only.
        refused = await browser.post(
            "/api/v1/api-keys",
            json={"name": "x", "scopes": ["read"]},
            headers=bearer(tokens["access_token"]),
        )
        assert_problem(refused, 403, "insufficient-scope")

        # A code is single use.
        again = await browser.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": CLI_CLIENT_ID,
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            },
        )
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
