"""Access tokens from an organization's own identity provider, through the bearer path: a
provider on loopback (metadata and JWKS over real HTTP, fetched through the egress guard)
whose tokens are minted here with its key."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from sprintconnect.app import create_app
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.session.repository import IdentityRepository
from sprintconnect.models.sign_in import UserIdentity
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import Tenant, assert_problem, make_settings
from tests.identity.tokens.support import (
    DpopKey,
    TokenApp,
    bearer,
    claims_of,
)

AUDIENCE = "https://api.sprintconnect.example"
PUBLIC = "https://testserver"


class FakeProvider:
    """Serves ``/.well-known/openid-configuration`` and ``/jwks`` for one EC key."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True, parameters={"kid": "k1"})
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": provider.issuer,
                        "authorization_endpoint": provider.issuer + "/authorize",
                        "token_endpoint": provider.issuer + "/token",
                        "jwks_uri": provider.issuer + "/jwks",
                        "id_token_signing_alg_values_supported": ["ES256"],
                    }
                elif self.path == "/jwks":
                    public = dict(provider.key.as_dict(private=False))
                    body = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "ES256"}]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"

    def token(self, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "client_id": "cli",
            **claims,
        }
        return jwt.encode({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, body, self.key)


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


@pytest.fixture
async def ext_app(runtime: Runtime, database_url: str) -> AsyncIterator[TokenApp]:
    async with AsyncExitStack() as stack:
        rt = build_runtime(
            make_settings(
                database_url,
                runtime.settings.data_dir,
                public_url=PUBLIC,
                egress_allow_loopback=True,
            ),
            clock=runtime.clock,
        )
        stack.push_async_callback(rt.db.dispose)
        app = create_app(runtime=rt)
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=PUBLIC)
        )
        yield TokenApp(app, rt, client)


async def test_provider_access_tokens(ext_app: TokenApp, idp: FakeProvider, tenant: Tenant) -> None:
    client = ext_app.client
    configured = await client.put(
        "/api/v1/organization/identity-provider",
        json={
            "issuer": idp.issuer,
            "client_id": "sprintconnect-web",
            "client_secret": "s3cret-value",
            "access_token_audience": AUDIENCE,
        },
        headers=tenant.headers,
    )
    assert configured.status_code == 200, configured.text
    async with ext_app.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await IdentityRepository(session).add(
            UserIdentity(
                org_id=tenant.org_id, issuer=idp.issuer, subject="user-1", user_id=tenant.user_id
            )
        )

    ok = await client.get("/api/v1/me", headers=bearer(idp.token()))
    assert ok.status_code == 200, ok.text
    assert ok.json()["credential"] == "token"
    assert ok.json()["user_id"] == str(tenant.user_id)
    typed_jwt = jwt.encode(
        {"alg": "ES256", "kid": "k1", "typ": "JWT"},
        {**claims_of(idp.token())},
        idp.key,
    )
    assert (await client.get("/api/v1/me", headers=bearer(typed_jwt))).status_code == 200

    # An ID token (audience: the client id) is not an access token.
    id_token = idp.token(aud="sprintconnect-web", nonce="n")
    assert_problem(await client.get("/api/v1/me", headers=bearer(id_token)), 401, "invalid-token")
    # Unknown subject, expired, forged signature: refused.
    stranger = idp.token(sub=f"u-{uuid.uuid4().hex}")
    assert_problem(await client.get("/api/v1/me", headers=bearer(stranger)), 401)
    expired = idp.token(exp=int(time.time()) - 120)
    assert_problem(await client.get("/api/v1/me", headers=bearer(expired)), 401, "invalid-token")
    other_key = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode(
        {"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, claims_of(idp.token()), other_key
    )
    assert_problem(await client.get("/api/v1/me", headers=bearer(forged)), 401, "invalid-token")
    # A prefix of the issuer is another issuer.
    prefixed = idp.token(iss=idp.issuer + "/evil")
    assert_problem(await client.get("/api/v1/me", headers=bearer(prefixed)), 401, "invalid-token")

    # A DPoP-bound provider token needs its proof.
    key = DpopKey()
    bound = idp.token(cnf={"jkt": key.jkt})
    assert_problem(await client.get("/api/v1/me", headers=bearer(bound)), 401, "invalid-token")
    proof = key.proof("GET", PUBLIC + "/api/v1/me", access_token=bound)
    with_proof = await client.get(
        "/api/v1/me", headers={"Authorization": f"DPoP {bound}", "DPoP": proof}
    )
    assert with_proof.status_code == 200, with_proof.text
