"""Registering servers: the answer's shape, write-only credentials, validation, names, quotas.

These run on the default app (loopback denied) with public-looking URLs: registration makes no
connection, and the autouse nets would turn any attempt into a failure.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, text

from sprintconnect.runtime import Runtime
from sprintconnect.secret import SecretNotFound
from tests.conftest import MemberFactory, Tenant, TenantFactory, assert_problem
from tests.fixtures.mcp_servers import MtlsMaterial
from tests.mcp_server.conftest import Wire
from tests.mcp_server.support import (
    SERVERS,
    AuthCase,
    assert_absent,
    auth_cases,
    database_text,
    register,
    registered_id,
    secret_path,
    secret_rows,
    server_audit,
    unique,
)

AUTH_TYPES = ["none", "bearer", "header", "oauth2_client_credentials", "mtls"]


@pytest.fixture
def cases(mtls_material: MtlsMaterial) -> dict[str, AuthCase]:
    return auth_cases(mtls_material)


@pytest.mark.parametrize("auth_type", AUTH_TYPES)
async def test_register_each_auth_type_answers_a_summary_without_secrets(
    client: httpx.AsyncClient,
    tenant: Tenant,
    cases: dict[str, AuthCase],
    auth_type: str,
    admin_engine: Engine,
    wire: Wire,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = cases[auth_type]
    caplog.set_level(logging.DEBUG)
    body = {
        "name": "Weather " + uuid.uuid4().hex[:6],
        "url": "https://mcp.example.com/mcp",
        "environment": "staging",
        "tags": ["weather", "public", "weather"],
        "description": "Forecasts",
        "auth": case.auth,
    }
    created = await client.post(SERVERS, json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    answer = created.json()
    server = answer["server"]
    assert set(answer) == {"server", "discovery_id", "discovery", "next_steps"}
    assert server["status"] == "pending_discovery"
    assert server["name"] == body["name"]
    assert server["tags"] == ["public", "weather"]  # deduplicated and sorted
    assert server["environment"] == "staging"
    assert server["transport"] == "streamable_http"
    assert server["health_check_interval_seconds"] == 300  # the default: 5 minutes
    assert server["health"]["interval_seconds"] == 300
    assert server["health"]["status"] == "unknown"
    assert server["auto_discover"] is True
    assert server["created_by_user_id"] == str(tenant.user_id)
    assert any(
        f"POST /api/v1/servers/{server['id']}/connection-check" in step
        for step in answer["next_steps"]
    )
    assert any("discovery" in step.lower() for step in answer["next_steps"])
    summary = server["auth"]
    for key, value in case.summary.items():
        assert summary[key] == value, key
    assert (summary["updated_at"] is None) == (auth_type == "none")
    if auth_type == "mtls":
        certificate = summary["certificate"]
        assert certificate["subject"] == "CN=sprintconnect-client"
        assert len(certificate["sha256"]) == 64
        assert datetime.fromisoformat(certificate["not_after"]) > datetime.fromisoformat(
            server["created_at"]
        )
    else:
        assert summary["certificate"] is None

    # Nothing that answers about the server says the secret: get, list, audit, logs.
    server_id = server["id"]
    got = await client.get(f"{SERVERS}/{server_id}", headers=tenant.headers)
    listed = await client.get(SERVERS, headers=tenant.headers)
    assert got.json() == server
    assert [item["id"] for item in listed.json()["items"]] == [server_id]
    audit = server_audit(admin_engine, tenant.org_id)
    assert [row["tag"] for row in audit] == ["org:server:registered"]
    assert audit[0]["target_id"] == server_id
    assert audit[0]["details"]["auth_type"] == auth_type
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "http.request" in logs  # the request log was captured, so its absence check bites
    assert_absent(
        case.secrets,
        created.text,
        got.text,
        listed.text,
        repr(audit),
        caplog.text,
        *(repr(record.msg) + repr(record.args) for record in caplog.records),
        captured.out,
        captured.err,
    )
    # Registration made no connection and resolved no name.
    assert wire.attempts == []
    assert wire.resolver.calls == []


@pytest.mark.parametrize("auth_type", AUTH_TYPES[1:])
async def test_the_local_store_holds_only_ciphertext(
    client: httpx.AsyncClient,
    app: FastAPI,
    tenant: Tenant,
    cases: dict[str, AuthCase],
    auth_type: str,
    admin_engine: Engine,
) -> None:
    case = cases[auth_type]
    server_id = await registered_id(client, tenant, auth=case.auth)
    rows = secret_rows(admin_engine, tenant.org_id)
    assert set(rows) == {secret_path(server_id)}
    row = rows[secret_path(server_id)]
    ciphertext = bytes(row["ciphertext"])
    assert len(row["nonce"]) == 12
    assert len(ciphertext) > 16  # payload and the GCM tag
    for value in case.secrets:
        assert value.encode() not in ciphertext
    # Nowhere in PostgreSQL is the secret readable: not in mcp_servers.auth_config, not in
    # audit details, not in any other table.
    assert_absent(case.secrets, database_text(admin_engine))
    # The store itself gives it back, to the owning organization.
    stored = await app.state.secret_store.get(tenant.org_id, secret_path(server_id))
    assert set(stored.reveal().values()) & set(case.secrets)


async def test_mcp_servers_row_keeps_only_the_non_secret_half(
    client: httpx.AsyncClient,
    tenant: Tenant,
    cases: dict[str, AuthCase],
    admin_engine: Engine,
) -> None:
    server_id = await registered_id(client, tenant, auth=cases["oauth2_client_credentials"].auth)
    with admin_engine.connect() as conn:
        row = (
            conn.execute(
                text("SELECT auth_type, auth_config FROM mcp_servers WHERE id = :i"),
                {"i": server_id},
            )
            .mappings()
            .one()
        )
    assert row["auth_type"] == "oauth2_client_credentials"
    assert row["auth_config"] == {
        "token_url": "https://auth.example.com/oauth/token",
        "client_id": "sc-client",
        "scopes": ["mcp:read"],
        "audience": "https://mcp.example.com",
    }


async def test_defaults_and_sse_transport(client: httpx.AsyncClient, tenant: Tenant) -> None:
    server = (
        await register(
            client,
            tenant,
            transport="sse",
            auto_discover=False,
            health_check_interval_seconds=90,
        )
    )["server"]
    assert server["environment"] == "development"
    assert server["transport"] == "sse"
    assert server["health_check_interval_seconds"] == 90
    assert server["auto_discover"] is False
    assert server["auth"]["configured"] is False
    assert server["description"] is None


# --- validation: every bad body is a 422 that creates nothing and echoes no secret ---

LEAKY = "leak-" + uuid.uuid4().hex


def _bearer(token: str) -> dict[str, Any]:
    return {"type": "bearer", "token": token}


def _header(name: str, value: str = LEAKY) -> dict[str, Any]:
    return {"type": "header", "header_name": name, "value": value}


INVALID_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("empty url", {"url": ""}),
    ("url too long", {"url": "https://mcp.example.com/" + "a" * 2048}),
    ("transport unknown", {"transport": "websocket"}),
    ("name empty", {"name": ""}),
    ("name blank", {"name": "   "}),
    ("name too long", {"name": "n" * 101}),
    ("name control character", {"name": "bell\x07"}),
    ("description too long", {"description": "d" * 2001}),
    ("description control character", {"description": "esc \x1b[31m"}),
    ("environment upper case", {"environment": "Production"}),
    ("environment too long", {"environment": "e" * 33}),
    ("environment one letter", {"environment": "p"}),
    ("too many tags", {"tags": [f"t{i}" for i in range(21)]}),
    ("tag upper case", {"tags": ["Prod"]}),
    ("tag with space", {"tags": ["has space"]}),
    ("tag with underscore", {"tags": ["under_score"]}),
    ("tag leading dash", {"tags": ["-lead"]}),
    ("tag not ascii", {"tags": ["ünï"]}),
    ("tag too long", {"tags": ["t" * 64]}),
    ("interval zero", {"health_check_interval_seconds": 0}),
    ("interval too long", {"health_check_interval_seconds": 86401}),
    ("unknown field", {"owner": "someone"}),
    ("unknown auth type", {"auth": {"type": "basic", "password": LEAKY}}),
    ("unknown auth field", {"auth": {"type": "bearer", "token": LEAKY, "extra": 1}}),
    ("bearer without token", {"auth": {"type": "bearer"}}),
    ("bearer empty token", {"auth": _bearer("")}),
    ("bearer token with newline", {"auth": _bearer(LEAKY + "\r\nX-Injected: 1")}),
    ("bearer token with NUL", {"auth": _bearer(LEAKY + "\x00")}),
    ("bearer token too long", {"auth": _bearer(LEAKY + "t" * 8192)}),
    ("header value too long", {"auth": _header("X-Api-Key", LEAKY + "v" * 8192)}),
    ("header value with newline", {"auth": _header("X-Api-Key", LEAKY + "\nx")}),
    ("header name empty", {"auth": _header("")}),
    ("header name with space", {"auth": _header("X Api")}),
    ("header name with colon", {"auth": _header("X-Api:")}),
    ("header name too long", {"auth": _header("X" * 65)}),
    *[
        (f"reserved header {name}", {"auth": _header(name)})
        for name in [
            "Host",
            "content-length",
            "Content-Type",
            "Transfer-Encoding",
            "Connection",
            "Upgrade",
            "TE",
            "Trailer",
            "Cookie",
            "Mcp-Session-Id",
            "MCP-Protocol-Version",
            "Accept",
        ]
    ],
    (
        "oauth2 without client id",
        {
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.example.com/token",
                "client_id": "",
                "client_secret": LEAKY,
            }
        },
    ),
    (
        "oauth2 scope with a space",
        {
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.example.com/token",
                "client_id": "c",
                "client_secret": LEAKY,
                "scopes": ["read write"],
            }
        },
    ),
]


async def _nothing_created(client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine) -> None:
    listed = (await client.get(SERVERS, headers=tenant.headers)).json()
    assert listed["items"] == []
    assert server_audit(admin_engine, tenant.org_id) == []
    assert secret_rows(admin_engine, tenant.org_id) == {}


@pytest.mark.parametrize(
    ("label", "change"), INVALID_BODIES, ids=[label for label, _ in INVALID_BODIES]
)
async def test_invalid_bodies_are_422_and_create_nothing(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin_engine: Engine,
    label: str,
    change: dict[str, Any],
) -> None:
    body = {"name": unique(), "url": "https://mcp.example.com/mcp", **change}
    response = await client.post(SERVERS, json=body, headers=tenant.headers)
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"], label
    assert LEAKY not in response.text
    await _nothing_created(client, tenant, admin_engine)


def _mtls(material: MtlsMaterial, **override: str) -> dict[str, Any]:
    return {
        "type": "mtls",
        "client_cert_pem": material.client.cert_pem,
        "client_key_pem": material.client.key_pem,
        **override,
    }


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"client_cert_pem": "not a certificate"}, "client_cert_pem"),
        (
            {"client_cert_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
            "client_cert_pem",
        ),
        ({"client_key_pem": "not a key"}, "client_key_pem"),
        ("stranger_key", "client_key_pem"),
        ("encrypted_key", "client_key_pem"),
        ({"ca_bundle_pem": "not a bundle"}, "ca_bundle_pem"),
    ],
    ids=[
        "cert garbage",
        "cert bad base64",
        "key garbage",
        "key of another cert",
        "key encrypted",
        "ca garbage",
    ],
)
async def test_bad_mtls_material_is_422_naming_the_field(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin_engine: Engine,
    mtls_material: MtlsMaterial,
    override: dict[str, str] | str,
    field: str,
) -> None:
    if override == "stranger_key":
        override = {"client_key_pem": mtls_material.stranger.key_pem}
    elif override == "encrypted_key":
        override = {"client_key_pem": _encrypted(mtls_material.client.key_pem)}
    assert isinstance(override, dict)
    response = await client.post(
        SERVERS,
        json={
            "name": unique(),
            "url": "https://mcp.example.com/mcp",
            "auth": _mtls(mtls_material, **override),
        },
        headers=tenant.headers,
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"][0]["loc"] == ["body", "auth", field]
    # Neither private key is echoed back.
    for key in (mtls_material.client.key_pem, mtls_material.stranger.key_pem):
        body_lines = [line for line in key.splitlines() if "-----" not in line]
        assert_absent(body_lines, response.text)
    await _nothing_created(client, tenant, admin_engine)


def _encrypted(key_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


async def test_a_body_over_the_size_limit_is_413(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    big = "x" * (runtime.settings.max_body_bytes + 1)
    response = await client.post(
        SERVERS,
        content=b'{"name": "big", "url": "https://a.example/", "description": "'
        + big.encode()
        + b'"}',
        headers={**tenant.headers, "content-type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


# --- names ---


async def test_names_are_unique_per_org_and_environment_ignoring_case(
    client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine, cases: dict[str, AuthCase]
) -> None:
    first = (await register(client, tenant, name="Weather", environment="staging"))["server"]
    response = await client.post(
        SERVERS,
        json={
            "name": "WEATHER",
            "url": "https://other.example.com/mcp",
            "environment": "staging",
            "auth": cases["bearer"].auth,
        },
        headers=tenant.headers,
    )
    problem = assert_problem(response, 409, "server-name-taken")
    assert problem["conflicting_server_id"] == first["id"]
    assert "'Weather'" in problem["detail"]
    assert "'staging'" in problem["detail"]
    # The refused registration stored nothing, not even its credentials.
    assert secret_rows(admin_engine, tenant.org_id) == {}
    assert len(server_audit(admin_engine, tenant.org_id)) == 1
    # Another environment may use the name; so may another organization (see test_tenancy).
    elsewhere = await register(client, tenant, name="weather", environment="production")
    assert elsewhere["server"]["name"] == "weather"
    # Surrounding whitespace does not make a different name.
    assert_problem(
        await client.post(
            SERVERS,
            json={"name": "  weather ", "url": "https://a.example/", "environment": "staging"},
            headers=tenant.headers,
        ),
        409,
        "server-name-taken",
    )


# --- quotas ---


def _set_quota(engine: Engine, org_id: uuid.UUID, quota: int | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE organizations SET server_quota = :q WHERE id = :o"),
            {"q": quota, "o": org_id},
        )


async def test_org_quota_is_enforced_and_frees_up_on_delete(
    client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine, cases: dict[str, AuthCase]
) -> None:
    _set_quota(admin_engine, tenant.org_id, 2)
    first = await registered_id(client, tenant)
    await registered_id(client, tenant)
    response = await client.post(
        SERVERS,
        json={"name": unique(), "url": "https://a.example/mcp", "auth": cases["bearer"].auth},
        headers=tenant.headers,
    )
    problem = assert_problem(response, 403, "server-quota-exceeded")
    assert (problem["limit"], problem["used"]) == (2, 2)
    assert len((await client.get(SERVERS, headers=tenant.headers)).json()["items"]) == 2
    assert set(secret_rows(admin_engine, tenant.org_id)) == set()
    deleted = await client.delete(f"{SERVERS}/{first}", headers=tenant.headers)
    assert deleted.status_code == 204
    await registered_id(client, tenant)


async def test_a_zero_quota_allows_no_server(
    client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine
) -> None:
    _set_quota(admin_engine, tenant.org_id, 0)
    response = await client.post(
        SERVERS, json={"name": unique(), "url": "https://a.example/"}, headers=tenant.headers
    )
    problem = assert_problem(response, 403, "server-quota-exceeded")
    assert (problem["limit"], problem["used"]) == (0, 0)


async def test_the_operator_default_quota_applies_without_an_org_quota(
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await make_tenant()
    monkeypatch.setattr(runtime.settings, "default_server_quota", 1)
    await registered_id(client, tenant)
    response = await client.post(
        SERVERS, json={"name": unique(), "url": "https://a.example/"}, headers=tenant.headers
    )
    problem = assert_problem(response, 403, "server-quota-exceeded")
    assert problem["limit"] == 1


# --- who may register ---


async def test_a_read_only_key_cannot_register(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory, admin_engine: Engine
) -> None:
    reader = await make_member(tenant, ["admin"], scopes=["read"])
    response = await client.post(
        SERVERS,
        json={"name": unique(), "url": "https://a.example/", "auth": _bearer(LEAKY)},
        headers=reader.headers,
    )
    assert response.status_code == 403
    assert LEAKY not in response.text
    await _nothing_created(client, tenant, admin_engine)


async def test_a_member_without_production_cannot_register_there(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    role = await client.post(
        "/api/v1/roles",
        json={"name": "staging-writer", "permissions": ["servers:read", "servers:write"]},
        headers=tenant.headers,
    )
    assert role.status_code == 201, role.text
    writer = await make_member(tenant, ["staging-writer"])
    assert_problem(
        await client.post(
            SERVERS,
            json={"name": unique(), "url": "https://a.example/", "environment": "production"},
            headers=writer.headers,
        ),
        403,
        "policy-denied",
    )
    staging = await client.post(
        SERVERS,
        json={"name": unique(), "url": "https://a.example/", "environment": "staging"},
        headers=writer.headers,
    )
    assert staging.status_code == 201, staging.text


async def test_unauthenticated_requests_are_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(SERVERS), 401)
    assert_problem(await client.post(SERVERS, json={"name": "x", "url": "https://a.example/"}), 401)


async def test_no_secret_is_stored_without_credentials(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant
) -> None:
    server_id = await registered_id(client, tenant)  # auth none: nothing to store
    with pytest.raises(SecretNotFound):
        await app.state.secret_store.get(tenant.org_id, secret_path(server_id))
