"""Changing and deleting servers: names, environments, credentials, and the audit trail."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from sprintconnect.secret import SecretNotFound
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.fixtures.mcp_servers import MtlsMaterial
from tests.mcp_server.support import (
    SERVERS,
    assert_absent,
    auth_cases,
    database_text,
    register,
    secret_path,
    secret_rows,
    server_audit,
)


async def _patch(
    client: httpx.AsyncClient, tenant: Tenant, server_id: str, **body: Any
) -> httpx.Response:
    return await client.patch(f"{SERVERS}/{server_id}", json=body, headers=tenant.headers)


async def _get(client: httpx.AsyncClient, tenant: Tenant, server_id: str) -> dict[str, Any]:
    response = await client.get(f"{SERVERS}/{server_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_patch_changes_only_what_is_sent(
    client: httpx.AsyncClient, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    before = (
        await register(
            client,
            tenant,
            name="Maps",
            description="Tiles",
            tags=["geo"],
            environment="staging",
            health_check_interval_seconds=60,
        )
    )["server"]
    response = await _patch(
        client,
        tenant,
        before["id"],
        description="Vector tiles",
        tags=["geo", "maps", "geo"],
        health_check_interval_seconds=120,
        transport="sse",
        auto_discover=True,
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["description"] == "Vector tiles"
    assert after["tags"] == ["geo", "maps"]
    assert after["health_check_interval_seconds"] == 120
    assert after["transport"] == "sse"
    assert after["auto_discover"] is True
    for unchanged in ("id", "name", "url", "environment", "created_at", "auth", "status"):
        assert after[unchanged] == before[unchanged], unchanged
    assert after["updated_at"] > before["updated_at"]
    assert await _get(client, tenant, before["id"]) == after
    # Explicit nulls leave required fields alone; a description may be cleared.
    cleared = await _patch(client, tenant, before["id"], name=None, url=None, description=None)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["name"], cleared.json()["description"]) == ("Maps", None)


@pytest.mark.parametrize(
    "body",
    [
        {"owner": "x"},
        {"name": ""},
        {"environment": "Prod"},
        {"tags": ["Not A Slug"]},
        {"auth": {"type": "bearer"}},
        {"auth": {"type": "header", "header_name": "Host", "value": "v"}},
        {"health_check_interval_seconds": 0},
        {"transport": "grpc"},
    ],
)
async def test_invalid_patches_are_422_and_change_nothing(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]
) -> None:
    before = (await register(client, tenant, auth={"type": "bearer", "token": "t0"}))["server"]
    assert_problem(await _patch(client, tenant, before["id"], **body), 422, "validation-failed")
    assert await _get(client, tenant, before["id"]) == before


async def test_rename_onto_a_taken_name_is_409(client: httpx.AsyncClient, tenant: Tenant) -> None:
    taken = (await register(client, tenant, name="Search", environment="staging"))["server"]
    other = (await register(client, tenant, name="Other", environment="staging"))["server"]
    problem = assert_problem(
        await _patch(client, tenant, other["id"], name="SEARCH"), 409, "server-name-taken"
    )
    assert problem["conflicting_server_id"] == taken["id"]
    assert (await _get(client, tenant, other["id"]))["name"] == "Other"
    # Renaming a server to its own name in another case is not a clash.
    renamed = await _patch(client, tenant, taken["id"], name="search")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "search"


async def test_moving_environments_checks_the_name_there(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    staging = (await register(client, tenant, name="Maps", environment="staging"))["server"]
    production = (await register(client, tenant, name="maps", environment="production"))["server"]
    problem = assert_problem(
        await _patch(client, tenant, staging["id"], environment="production"),
        409,
        "server-name-taken",
    )
    assert problem["conflicting_server_id"] == production["id"]
    assert (await _get(client, tenant, staging["id"]))["environment"] == "staging"
    moved = await _patch(client, tenant, staging["id"], environment="development")
    assert moved.status_code == 200
    assert moved.json()["environment"] == "development"
    # Moving and renaming together is checked as the final pair.
    both = await _patch(client, tenant, staging["id"], environment="production", name="Maps 2")
    assert both.status_code == 200, both.text


async def test_patching_the_url_goes_through_the_egress_check(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    before = (await register(client, tenant))["server"]
    problem = assert_problem(
        await _patch(client, tenant, before["id"], url="http://169.254.169.254/latest/"),
        422,
        "egress-denied",
    )
    assert problem["reason"] == "metadata_address"
    assert (await _get(client, tenant, before["id"]))["url"] == before["url"]
    ok = await _patch(client, tenant, before["id"], url="https://new.example.com/mcp")
    assert ok.json()["url"] == "https://new.example.com/mcp"


async def test_replacing_and_removing_credentials(
    client: httpx.AsyncClient,
    app: FastAPI,
    tenant: Tenant,
    admin_engine: Engine,
    mtls_material: MtlsMaterial,
    moved_clock: ShiftableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cases = auth_cases(mtls_material)
    store = app.state.secret_store
    created = (await register(client, tenant, auth=cases["bearer"].auth))["server"]
    server_id, path = created["id"], secret_path(created["id"])
    assert (await store.get(tenant.org_id, path)).reveal() == {"token": cases["bearer"].secrets[0]}
    first_cipher = bytes(secret_rows(admin_engine, tenant.org_id)[path]["ciphertext"])

    # Replace with another kind: the store holds the new value, the summary the new kind.
    moved_clock.offset += timedelta(seconds=5)
    header = cases["header"]
    replaced = await _patch(client, tenant, server_id, auth=header.auth)
    assert replaced.status_code == 200, replaced.text
    summary = replaced.json()["auth"]
    assert (summary["type"], summary["header_name"], summary["configured"]) == (
        "header",
        "X-Api-Key",
        True,
    )
    assert summary["updated_at"] > created["auth"]["updated_at"]
    assert (await store.get(tenant.org_id, path)).reveal() == {"value": header.secrets[0]}
    assert bytes(secret_rows(admin_engine, tenant.org_id)[path]["ciphertext"]) != first_cipher

    # Each kind in turn, ending with the one with the most parts.
    for kind in ("oauth2_client_credentials", "mtls"):
        response = await _patch(client, tenant, server_id, auth=cases[kind].auth)
        assert response.status_code == 200, response.text
        assert response.json()["auth"]["type"] == kind
    assert set((await store.get(tenant.org_id, path)).reveal()) == {
        "client_cert_pem",
        "client_key_pem",
        "ca_bundle_pem",
    }

    # Remove: {"type": "none"} deletes the secret itself.
    removed = await _patch(client, tenant, server_id, auth={"type": "none"})
    assert removed.status_code == 200
    assert removed.json()["auth"] == {
        "type": "none",
        "configured": False,
        "updated_at": None,
        "header_name": None,
        "token_url": None,
        "client_id": None,
        "scopes": None,
        "audience": None,
        "certificate": None,
    }
    with pytest.raises(SecretNotFound):
        await store.get(tenant.org_id, path)
    assert secret_rows(admin_engine, tenant.org_id) == {}

    audit = server_audit(admin_engine, tenant.org_id)
    assert [row["tag"] for row in audit] == [
        "org:server:registered",
        *["org:server:credentials_updated", "org:server:updated"] * 4,
    ]
    assert [row["details"].get("auth_type") for row in audit[1::2]] == [
        "header",
        "oauth2_client_credentials",
        "mtls",
        "none",
    ]
    assert all(row["target_id"] == server_id for row in audit)
    every_secret = [s for case in cases.values() for s in case.secrets]
    assert_absent(
        every_secret,
        repr(audit),
        database_text(admin_engine),
        replaced.text,
        removed.text,
        caplog.text,
    )


async def test_a_refused_credentials_change_keeps_the_old_secret(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant
) -> None:
    created = (await register(client, tenant, auth={"type": "bearer", "token": "old-token"}))[
        "server"
    ]
    await register(client, tenant, name="Taken", environment=created["environment"])
    refused = [
        # A token URL the egress policy refuses.
        {
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "http://10.0.0.1/token",
                "client_id": "c",
                "client_secret": "new-secret",
            }
        },
        # A name clash, sent with new credentials.
        {"name": "taken", "auth": {"type": "bearer", "token": "new-token"}},
    ]
    for body in refused:
        response = await _patch(client, tenant, created["id"], **body)
        assert response.status_code in (409, 422), response.text
        assert "new-" not in response.text
    stored = await app.state.secret_store.get(tenant.org_id, secret_path(created["id"]))
    assert stored.reveal() == {"token": "old-token"}
    assert (await _get(client, tenant, created["id"]))["auth"] == created["auth"]


async def test_delete_removes_the_server_and_its_secret(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, admin_engine: Engine
) -> None:
    created = (
        await register(client, tenant, name="Gone", auth={"type": "bearer", "token": "bye"})
    )["server"]
    keep = (await register(client, tenant, auth={"type": "bearer", "token": "stay"}))["server"]
    server_id = created["id"]
    deleted = await client.delete(f"{SERVERS}/{server_id}", headers=tenant.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(
        await client.get(f"{SERVERS}/{server_id}", headers=tenant.headers),
        404,
        "server-not-found",
    )
    assert_problem(
        await client.delete(f"{SERVERS}/{server_id}", headers=tenant.headers),
        404,
        "server-not-found",
    )
    with pytest.raises(SecretNotFound):
        await app.state.secret_store.get(tenant.org_id, secret_path(server_id))
    assert set(secret_rows(admin_engine, tenant.org_id)) == {secret_path(keep["id"])}
    listed = (await client.get(SERVERS, headers=tenant.headers)).json()["items"]
    assert [s["id"] for s in listed] == [keep["id"]]
    audit = server_audit(admin_engine, tenant.org_id)
    assert audit[-1]["tag"] == "org:server:deleted"
    assert audit[-1]["target_id"] == server_id
    assert audit[-1]["details"] == {"name": "Gone", "url": created["url"]}
    # The name is free again.
    again = await register(client, tenant, name="gone", environment=created["environment"])
    assert again["server"]["id"] != server_id


async def test_audit_rows_name_the_actor_and_the_changes(
    client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine
) -> None:
    created = (await register(client, tenant, name="Audited", environment="staging"))["server"]
    await _patch(client, tenant, created["id"], description="d", tags=["x"])
    await client.delete(f"{SERVERS}/{created['id']}", headers=tenant.headers)
    audit = server_audit(admin_engine, tenant.org_id)
    assert [row["tag"] for row in audit] == [
        "org:server:registered",
        "org:server:updated",
        "org:server:deleted",
    ]
    assert audit[0]["details"] == {
        "name": "Audited",
        "url": created["url"],
        "environment": "staging",
        "auth_type": "none",
    }
    assert audit[1]["details"] == {"changed": ["description", "tags"]}
    assert {row["actor_type"] for row in audit} == {"api_key"}
    assert {row["actor_id"] for row in audit} == {str(tenant.key_id)}
    assert {row["target_type"] for row in audit} == {"mcp_server"}


async def test_unknown_ids_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for method, suffix in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/connection-check"),
    ]:
        response = await client.request(
            method,
            f"{SERVERS}/{missing}{suffix}",
            headers=tenant.headers,
            json={} if method == "PATCH" else None,
        )
        assert_problem(response, 404, "server-not-found")
    assert_problem(await client.get(f"{SERVERS}/not-a-uuid", headers=tenant.headers), 422)
