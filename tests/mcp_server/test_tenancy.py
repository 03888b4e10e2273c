"""Organization B can neither see, change, delete nor check organization A's servers, nor read
their credentials; each answer is 404 and nothing changes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from sprintconnect.secret import SecretNotFound
from tests.conftest import TenantFactory, assert_problem
from tests.fixtures.mcp_servers import McpFixture
from tests.mcp_server.conftest import Wire
from tests.mcp_server.support import SERVERS, check, list_all, secret_path


async def test_other_orgs_server_ids_are_404_and_unchanged(
    lclient: httpx.AsyncClient,
    loopback_app: FastAPI,
    make_tenant: TenantFactory,
    wire: Wire,
    mcp_bearer: McpFixture,
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    created = await lclient.post(
        SERVERS, json=mcp_bearer.registration(name="Shared name"), headers=org_a.headers
    )
    assert created.status_code == 201
    a_server = created.json()["server"]
    a_path = f"{SERVERS}/{a_server['id']}"
    accepted = mcp_bearer.gate.accepted

    for response in [
        await lclient.get(a_path, headers=org_b.headers),
        await lclient.patch(
            a_path,
            json={"name": "hijacked", "auth": {"type": "bearer", "token": "b-token"}},
            headers=org_b.headers,
        ),
        await lclient.patch(a_path, json={"auth": {"type": "none"}}, headers=org_b.headers),
        await lclient.delete(a_path, headers=org_b.headers),
        await lclient.post(f"{a_path}/connection-check", headers=org_b.headers),
    ]:
        problem = assert_problem(response, 404, "server-not-found")
        assert mcp_bearer.auth["token"] not in response.text
        assert "Shared name" not in str(problem)

    # B's list never includes A's servers, whatever the filters.
    for params in [{}, {"environment": "staging"}, {"q": "Shared"}, {"sort": "name"}]:
        assert await list_all(lclient, org_b.headers, **params) == []
    # B's check made no connection; A's server, credentials and check are untouched.
    assert wire.attempts == []
    assert mcp_bearer.gate.accepted == accepted
    got = await lclient.get(a_path, headers=org_a.headers)
    assert got.json() == a_server
    stored = await loopback_app.state.secret_store.get(org_a.org_id, secret_path(a_server["id"]))
    assert stored.reveal() == {"token": mcp_bearer.auth["token"]}
    assert (await check(lclient, org_a, a_server["id"]))["ok"] is True
    # Names are unique per organization only: B may use A's name.
    mine = await lclient.post(
        SERVERS, json=mcp_bearer.registration(name="shared NAME"), headers=org_b.headers
    )
    assert mine.status_code == 201
    assert [s["id"] for s in await list_all(lclient, org_b.headers)] == [
        mine.json()["server"]["id"]
    ]


async def test_other_orgs_cannot_read_the_secrets(
    client: httpx.AsyncClient, app: FastAPI, runtime: Runtime, make_tenant: TenantFactory
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    created = await client.post(
        SERVERS,
        json={
            "name": "a",
            "url": "https://mcp.example.com/",
            "auth": {"type": "bearer", "token": "a-only"},
        },
        headers=org_a.headers,
    )
    server_id = created.json()["server"]["id"]
    store = app.state.secret_store
    # Through the store, under B's id, A's path is simply not there.
    with pytest.raises(SecretNotFound):
        await store.get(org_b.org_id, secret_path(server_id))
    assert not await store.exists(org_b.org_id, secret_path(server_id))
    assert await store.delete(org_b.org_id, secret_path(server_id)) is False
    assert (await store.get(org_a.org_id, secret_path(server_id))).reveal() == {"token": "a-only"}
    # And through SQL as the application role bound to B, row-level security hides A's rows,
    # both the secret and the server.
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_b.org_id)
        secrets_seen = (await session.execute(text("SELECT org_id FROM secrets"))).scalars().all()
        servers_seen = (
            await session.execute(
                text("SELECT id FROM mcp_servers WHERE id = :i"), {"i": uuid.UUID(server_id)}
            )
        ).all()
    assert org_a.org_id not in secrets_seen
    assert servers_seen == []
