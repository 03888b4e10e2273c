"""What token tests share: an app with the token routes, service accounts, DPoP proofs."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey

from sprintconnect.app import create_app
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import Tenant, make_settings

PUBLIC_URL = "https://sc.example.test"
CERT_HEADER = "X-Client-Cert"


@dataclass
class TokenApp:
    app: FastAPI
    runtime: Runtime
    client: httpx.AsyncClient


TokenAppFactory = Callable[..., Awaitable[TokenApp]]


async def token_apps(runtime: Runtime, database_url: str) -> AsyncIterator[TokenAppFactory]:
    async with AsyncExitStack() as stack:

        async def make(**extra: Any) -> TokenApp:
            settings = {"public_url": PUBLIC_URL, "client_cert_header": CERT_HEADER, **extra}
            rt = build_runtime(
                make_settings(database_url, runtime.settings.data_dir, **settings),
                clock=runtime.clock,
            )
            stack.push_async_callback(rt.db.dispose)
            app = create_app(runtime=rt)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            return TokenApp(app, rt, client)

        yield make


@dataclass
class Account:
    id: str
    client_id: str
    secret: str
    user_id: str


async def create_account(
    client: httpx.AsyncClient, tenant: Tenant, roles: list[str], name: str | None = None
) -> Account:
    answer = await client.post(
        "/api/v1/service-accounts",
        json={"name": name or f"bot-{uuid.uuid4().hex[:8]}", "roles": roles},
        headers=tenant.headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    account = body["service_account"]
    return Account(account["id"], account["client_id"], body["client_secret"], account["user_id"])


async def client_token(
    client: httpx.AsyncClient,
    account: Account,
    *,
    scope: str | None = None,
    headers: dict[str, str] | None = None,
    basic: bool = True,
) -> httpx.Response:
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    if basic:
        auth = httpx.BasicAuth(account.client_id, account.secret)
        return await client.post("/oauth/token", data=form, auth=auth, headers=headers or {})
    form.update({"client_id": account.client_id, "client_secret": account.secret})
    return await client.post("/oauth/token", data=form, headers=headers or {})


async def access_token(client: httpx.AsyncClient, account: Account, **kw: Any) -> str:
    answer = await client_token(client, account, **kw)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class DpopKey:
    """A client's DPoP key pair, making proofs (RFC 9449 section 4.2)."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True)

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: int | None = None,
        jti: str | None = None,
    ) -> str:
        claims: dict[str, Any] = {
            "jti": jti or uuid.uuid4().hex,
            "htm": method,
            "htu": url,
            "iat": iat if iat is not None else int(time.time()),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key)


def claims_of(token: str) -> dict[str, Any]:
    import json

    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def header_of(token: str) -> dict[str, Any]:
    import json

    head = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))))
