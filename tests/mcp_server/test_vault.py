"""The registry with credentials in OpenBao (KV v2): stored there, never in PostgreSQL, used on
the wire, replaced and deleted there, and out of other organizations' reach."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from hvac import exceptions as vault_errors
from sqlalchemy import Engine

from sprintconnect.secret import SecretNotFound
from tests.conftest import TenantFactory
from tests.fixtures.mcp_servers import McpFixture
from tests.fixtures.vault import VAULT_MOUNT, VaultEnv
from tests.mcp_server.support import (
    SERVERS,
    assert_absent,
    check,
    database_text,
    secret_path,
    secret_rows,
)

FIXTURES = ["mcp_bearer", "mcp_header", "mcp_oauth", "mcp_mtls"]


@pytest.mark.parametrize("which", FIXTURES)
async def test_credentials_live_in_openbao_and_are_used_on_the_wire(
    vclient: httpx.AsyncClient,
    vault_app: FastAPI,
    vault_env: VaultEnv,
    make_tenant: TenantFactory,
    admin_engine: Engine,
    request: pytest.FixtureRequest,
    which: str,
) -> None:
    assert vault_app.state.secret_store.backend == "vault"
    fixture: McpFixture = request.getfixturevalue(which)
    tenant = await make_tenant()
    created = await vclient.post(SERVERS, json=fixture.registration(), headers=tenant.headers)
    assert created.status_code == 201, created.text
    server_id = created.json()["server"]["id"]
    secret_keys = ("token", "value", "client_secret", "client_key_pem")
    values = [fixture.auth[k] for k in secret_keys if k in fixture.auth]

    stored = vault_env.read(tenant.org_id, secret_path(server_id))
    assert stored is not None
    assert set(values) <= set(stored.values())
    assert secret_rows(admin_engine, tenant.org_id) == {}
    assert_absent(values, database_text(admin_engine), created.text)

    result = await check(vclient, tenant, server_id)
    assert result["ok"] is True, result
    assert result["server_name"] == fixture.name


async def test_replace_remove_and_delete_reach_openbao(
    vclient: httpx.AsyncClient,
    vault_env: VaultEnv,
    make_tenant: TenantFactory,
    mcp_bearer: McpFixture,
) -> None:
    tenant = await make_tenant()
    server_id = (
        await vclient.post(SERVERS, json=mcp_bearer.registration(), headers=tenant.headers)
    ).json()["server"]["id"]
    path = secret_path(server_id)
    url = f"{SERVERS}/{server_id}"

    wrong = await vclient.patch(
        url, json={"auth": {"type": "bearer", "token": "wrong-token"}}, headers=tenant.headers
    )
    assert wrong.status_code == 200
    assert vault_env.read(tenant.org_id, path) == {"token": "wrong-token"}
    result = await check(vclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "auth_rejected")

    await vclient.patch(url, json={"auth": mcp_bearer.auth}, headers=tenant.headers)
    assert (await check(vclient, tenant, server_id))["ok"] is True

    removed = await vclient.patch(url, json={"auth": {"type": "none"}}, headers=tenant.headers)
    assert removed.json()["auth"]["configured"] is False
    assert vault_env.read(tenant.org_id, path) is None

    await vclient.patch(url, json={"auth": mcp_bearer.auth}, headers=tenant.headers)
    assert vault_env.read(tenant.org_id, path) == {"token": mcp_bearer.auth["token"]}
    assert (await vclient.delete(url, headers=tenant.headers)).status_code == 204
    assert vault_env.read(tenant.org_id, path) is None
    # Deleted means gone with every version and the metadata, not a soft-deleted version.
    with pytest.raises(vault_errors.InvalidPath):
        vault_env.root.secrets.kv.v2.read_secret_metadata(
            path=vault_env.location(tenant.org_id, path), mount_point=VAULT_MOUNT
        )


async def test_other_orgs_cannot_reach_the_secret_in_openbao(
    vclient: httpx.AsyncClient,
    vault_app: FastAPI,
    vault_env: VaultEnv,
    make_tenant: TenantFactory,
    mcp_bearer: McpFixture,
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    server_id = (
        await vclient.post(SERVERS, json=mcp_bearer.registration(), headers=org_a.headers)
    ).json()["server"]["id"]
    store = vault_app.state.secret_store
    with pytest.raises(SecretNotFound):
        await store.get(org_b.org_id, secret_path(server_id))
    response = await vclient.post(f"{SERVERS}/{server_id}/connection-check", headers=org_b.headers)
    assert response.status_code == 404
    assert vault_env.read(org_a.org_id, secret_path(server_id)) == {
        "token": mcp_bearer.auth["token"]
    }
    # A's secret sits under A's subtree only.
    assert vault_env.read(org_b.org_id, secret_path(server_id)) is None
