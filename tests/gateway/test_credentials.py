"""MCP clients reach a toolset with an API key, an access token, or a DPoP-bound token."""

from __future__ import annotations

from collections.abc import Generator

import httpx
import httpx2
from fastapi import FastAPI
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from sprintconnect.runtime import Runtime
from tests.gateway.client import gateway_session
from tests.gateway.conftest import Registered
from tests.identity.tokens.support import (
    DpopKey,
    access_token,
    bearer,
    client_token,
    create_account,
)


class Dpop(httpx2.Auth):
    """A fresh proof on every request, with the server's nonce once it asks for one."""

    def __init__(self, key: DpopKey, token: str, base_url: str) -> None:
        self.base_url = base_url
        self.key = key
        self.token = token
        self.nonce: str | None = None

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        url = self.base_url + request.url.path  # the server's public URL, as proofs name it
        request.headers["Authorization"] = f"DPoP {self.token}"
        request.headers["DPoP"] = self.key.proof(
            request.method, url, access_token=self.token, nonce=self.nonce
        )
        response = yield request
        nonce = response.headers.get("DPoP-Nonce")
        if response.status_code == 401 and nonce and nonce != self.nonce:
            self.nonce = nonce
            request.headers["DPoP"] = self.key.proof(
                request.method, url, access_token=self.token, nonce=nonce
            )
            yield request


async def toolset_url(client: httpx.AsyncClient, registered: Registered) -> str:
    created = await client.post(
        "/api/v1/toolsets",
        json={"name": "bots", "servers": [{"server_id": registered.server_id}]},
        headers=registered.tenant.headers,
    )
    assert created.status_code == 201, created.text
    return f"http://testserver{created.json()['endpoint']}"


async def test_an_access_token_and_a_dpop_bound_token_reach_the_toolset(
    wclient: httpx.AsyncClient,
    worker_app: FastAPI,
    worker_runtime: Runtime,
    registered: Registered,
) -> None:
    base = worker_runtime.settings.base_url
    url = await toolset_url(wclient, registered)
    account = await create_account(wclient, registered.tenant, ["engineer"])
    token = await access_token(wclient, account)
    async with gateway_session(url, bearer(token), app=worker_app) as session:
        assert not (await session.call_tool("echo", {"text": "token"})).is_error

    key = DpopKey()
    token_url = base + "/oauth/token"
    issued = await client_token(wclient, account, headers={"DPoP": key.proof("POST", token_url)})
    if issued.status_code == 400 and issued.headers.get("DPoP-Nonce"):
        nonce = issued.headers["DPoP-Nonce"]
        issued = await client_token(
            wclient, account, headers={"DPoP": key.proof("POST", token_url, nonce=nonce)}
        )
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"].lower() == "dpop"
    bound = issued.json()["access_token"]
    client = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=worker_app), auth=Dpop(key, bound, base), timeout=30
    )
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        assert not (await session.call_tool("echo", {"text": "dpop"})).is_error
    # The bound token sent as a plain bearer token is refused before any MCP is spoken.
    refused = await wclient.post(
        url.removeprefix("http://testserver"),
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={**bearer(bound), "Accept": "application/json, text/event-stream"},
    )
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
