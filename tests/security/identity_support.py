"""What the identity attack tests share: one app with sign-in, tokens and service accounts on
the tests' database, a real OIDC provider on loopback, and org B's credentials of every kind.

Nothing of our code is mocked: the browser is an ``httpx`` client keeping cookies (the app in
process at ``https://testserver`` so that ``__Host-`` cookies are sent; the provider over real
HTTP on 127.0.0.1), tokens come from ``POST /oauth/token``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import werkzeug.serving
from oidc_provider_mock import app as provider_app

from sprintconnect.app import create_app
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import Tenant, make_settings
from tests.identity.session.conftest import BASE, Provider, SignInApp, configure, sign_in
from tests.identity.tokens.support import (
    DpopKey,
    access_token,
    client_token,
    create_account,
)

ADMIN_GROUP = "sc-admins"


def serve_provider() -> Iterator[Provider]:
    """A real ``oidc_provider_mock`` on a free loopback port (as the session tests start it)."""
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, provider_app(require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}", server.server_port)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@asynccontextmanager
async def identity_app(
    runtime: Runtime, database_url: str, **extra: Any
) -> AsyncIterator[SignInApp]:
    """The whole app (``create_app`` includes sign-in, token and service-account routes) with
    an https public URL, loopback egress allowed (the provider), on the tests' database."""
    settings = {"public_url": BASE, "egress_allow_loopback": True, **extra}
    rt = build_runtime(
        make_settings(database_url, runtime.settings.data_dir, **settings), clock=runtime.clock
    )
    try:
        application = create_app(runtime=rt)
        async with application.router.lifespan_context(application):
            yield SignInApp(application, rt)
    finally:
        await rt.db.dispose()


async def configure_admins(
    client: httpx.AsyncClient, tenant: Tenant, provider: Provider, **fields: Any
) -> None:
    """The tenant signs in with ``provider``; members of ADMIN_GROUP get the admin role."""
    answer = await configure(
        client, tenant, provider, group_roles={ADMIN_GROUP: ["admin"]}, **fields
    )
    assert answer.status_code == 200, answer.text


async def sign_in_admin(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider, email: str | None = None
) -> str:
    """Sign ``browser`` in to ``tenant`` as an admin (through the real provider); the CSRF token."""
    email = email or f"admin-{uuid.uuid4().hex[:10]}@example.com"
    provider.put_user(email, {"email": email, "groups": [ADMIN_GROUP], "name": "Ada"})
    flow = await sign_in(browser, tenant.slug, email)
    assert flow.done.status_code == 302, flow.done.text
    answer = await browser.get("/auth/session")
    assert answer.status_code == 200, answer.text
    csrf: str = answer.json()["csrf_token"]
    return csrf


@dataclass
class Credential:
    """One kind of org B credential, able to send any request as org B.

    ``session``: the browser's cookie plus its CSRF token; ``api_key``: ``Bearer sc_...``;
    ``token``: a client-credentials access token; ``dpop``: a DPoP-bound access token with a
    fresh proof on every request.
    """

    kind: str
    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    dpop: DpopKey | None = None

    def _headers(self, method: str, path: str) -> dict[str, str]:
        if self.kind == "dpop":
            assert self.dpop is not None
            assert self.token is not None
            url = BASE + path.split("?")[0]
            proof = self.dpop.proof(method, url, access_token=self.token)
            return {"Authorization": f"DPoP {self.token}", "DPoP": proof}
        return dict(self.headers)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.request(
            method, path, json=json, data=data, headers=self._headers(method, path)
        )


async def credential_of(
    kind: str, browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> Credential:
    """Org ``tenant``'s credential of ``kind``, as an admin (so that a 404 is tenancy's doing,
    never a missing permission). ``browser`` must not be signed in yet."""
    if kind == "api_key":
        return Credential(kind, browser, headers=tenant.headers)
    if kind == "session":
        csrf = await sign_in_admin(browser, tenant, provider)
        return Credential(kind, browser, headers={"X-CSRF-Token": csrf})
    account = await create_account(browser, tenant, ["admin"])
    if kind == "token":
        token = await access_token(browser, account)
        return Credential(kind, browser, headers={"Authorization": f"Bearer {token}"}, token=token)
    assert kind == "dpop"
    key = DpopKey()
    issued = await client_token(
        browser, account, headers={"DPoP": key.proof("POST", BASE + "/oauth/token")}
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "DPoP"
    return Credential(kind, browser, token=issued.json()["access_token"], dpop=key)


KINDS = ("api_key", "session", "token", "dpop")
CLI_CLIENT_ID = "sprintconnect-cli"  # the documented public client (docs/tokens.md)
REDIRECT = "http://127.0.0.1:53682/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()
    ).decode().rstrip("=")


async def cli_grant(
    app: SignInApp, browser: httpx.AsyncClient, dpop: DpopKey | None = None
) -> dict[str, Any]:
    """The CLI's authorization code + PKCE flow through a signed-in browser: the token answer."""
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": CLI_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
    }
    if dpop is not None:
        params["dpop_jkt"] = dpop.jkt
    answer = await browser.get("/oauth/authorize", params=params)
    assert answer.status_code == 302, answer.text
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLI_CLIENT_ID,
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    headers = {} if dpop is None else {"DPoP": dpop.proof("POST", BASE + "/oauth/token")}
    async with app.browser() as cli:  # the CLI: no cookies
        issued = await cli.post("/oauth/token", data=form, headers=headers)
    assert issued.status_code == 200, issued.text
    body: dict[str, Any] = issued.json()
    return body
