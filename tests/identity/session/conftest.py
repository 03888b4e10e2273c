"""A real OIDC provider on loopback (``oidc_provider_mock``) and an app that signs in with it.

The browser is an ``httpx`` client that keeps cookies: requests to the app go to it in
process (``https://testserver``, so that the ``__Host-`` cookies are sent), requests to the
provider go over real HTTP to 127.0.0.1.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import werkzeug.serving
from fastapi import FastAPI
from oidc_provider_mock import app as provider_app

from sprintconnect.app import create_app
from sprintconnect.identity.session.lifecycle import close_sign_in
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import Tenant, make_settings

BASE = "https://testserver"


@dataclass
class Provider:
    issuer: str
    port: int

    def put_user(self, sub: str, claims: dict[str, Any]) -> None:
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text

    def revoke(self, sub: str) -> None:
        response = httpx.post(f"{self.issuer}/users/{sub}/revoke-tokens")
        assert response.status_code == 204, response.text


def _serve(**options: Any) -> Iterator[Provider]:
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, provider_app(require_nonce=True, **options), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}", server.server_port)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    yield from _serve()


@pytest.fixture(scope="session")
def other_provider() -> Iterator[Provider]:
    yield from _serve()


@dataclass
class SignInApp:
    app: FastAPI
    runtime: Runtime

    def browser(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(
            mounts={BASE: transport}, base_url=BASE, timeout=15, follow_redirects=False
        )


SignInAppFactory = Callable[..., Awaitable[SignInApp]]


@pytest.fixture
async def make_app(runtime: Runtime, database_url: str) -> AsyncIterator[SignInAppFactory]:
    async with AsyncExitStack() as stack:

        async def make(**extra: Any) -> SignInApp:
            settings = {"public_url": BASE, "egress_allow_loopback": True, **extra}
            rt = build_runtime(
                make_settings(database_url, runtime.settings.data_dir, **settings),
                clock=runtime.clock,
            )
            stack.push_async_callback(rt.db.dispose)
            application = create_app(runtime=rt)
            await stack.enter_async_context(application.router.lifespan_context(application))
            stack.push_async_callback(close_sign_in, application.state)  # the lead's lifespan
            return SignInApp(application, rt)

        yield make


@pytest.fixture
async def sign_in_app(make_app: SignInAppFactory) -> SignInApp:
    return await make_app()


@pytest.fixture
async def browser(sign_in_app: SignInApp) -> AsyncIterator[httpx.AsyncClient]:
    async with sign_in_app.browser() as client:
        yield client


async def configure(
    client: httpx.AsyncClient, tenant: Tenant, provider: Provider, **fields: Any
) -> httpx.Response:
    body = {
        "issuer": provider.issuer,
        "client_id": f"sprintconnect-{tenant.slug}",
        "client_secret": "s3cret-value",
        **fields,
    }
    return await client.put(
        "/api/v1/organization/identity-provider", json=body, headers=tenant.headers
    )


@dataclass
class Flow:
    """The steps of one sign-in, kept so that tests can replay or tamper with them."""

    login: httpx.Response
    authorize_url: str
    callback_url: str
    done: httpx.Response


async def sign_in(
    browser: httpx.AsyncClient, slug: str, sub: str, *, return_to: str = "/api/v1/me"
) -> Flow:
    login = await browser.get("/auth/login", params={"org": slug, "return_to": return_to})
    assert login.status_code == 302, login.text
    authorize_url = login.headers["location"]
    page = await browser.get(authorize_url)
    assert page.status_code == 200, page.text
    chosen = await browser.post(authorize_url, data={"sub": sub})
    assert chosen.status_code == 302, chosen.text
    callback_url = chosen.headers["location"]
    done = await browser.get(callback_url)
    return Flow(login, authorize_url, callback_url, done)


def new_email(domain: str = "example.com") -> str:
    return f"user-{uuid.uuid4().hex[:10]}@{domain}"
