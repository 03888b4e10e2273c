"""Helpers for the registry tests: registering, reading raw rows, and hunting for secrets."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, text

from tests.conftest import Tenant
from tests.fixtures.mcp_servers import MtlsMaterial

SERVERS = "/api/v1/servers"
PUBLIC_URL = "https://mcp.example.com/mcp"


def unique(prefix: str = "srv") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def register(
    client: httpx.AsyncClient, tenant: Tenant, expect: int = 201, **body: Any
) -> dict[str, Any]:
    """POST a server (a public URL, a unique name, no auto-discovery unless given)."""
    body.setdefault("name", unique())
    body.setdefault("url", PUBLIC_URL)
    # Discovery is its own feature with its own tests; registry tests leave it off.
    body.setdefault("auto_discover", False)
    response = await client.post(SERVERS, json=body, headers=tenant.headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def registered_id(client: httpx.AsyncClient, tenant: Tenant, **body: Any) -> str:
    server_id: str = (await register(client, tenant, **body))["server"]["id"]
    return server_id


async def check(client: httpx.AsyncClient, tenant: Tenant, server_id: str) -> dict[str, Any]:
    """Run a connection check; it always answers 200 with the outcome."""
    response = await client.post(f"{SERVERS}/{server_id}/connection-check", headers=tenant.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def list_all(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every page of a listing, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(SERVERS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def secret_path(server_id: str) -> str:
    return f"servers/{server_id}/auth"


@dataclass(frozen=True)
class AuthCase:
    """Auth settings to register with, the summary the API should show, and the secret parts."""

    auth: dict[str, Any]
    summary: dict[str, Any]
    secrets: list[str]


def auth_cases(mtls: MtlsMaterial) -> dict[str, AuthCase]:
    """One case per auth type, each with fresh secret values."""
    token = "tok-" + secrets.token_hex(16)
    value = "hdr-" + secrets.token_hex(16)
    client_secret = "cs-" + secrets.token_hex(16)
    # The key's base64 body: what would show if the PEM leaked in any re-wrapped form.
    key_lines = [line for line in mtls.client.key_pem.splitlines() if "-----" not in line]
    return {
        "none": AuthCase({"type": "none"}, {"type": "none", "configured": False}, []),
        "bearer": AuthCase(
            {"type": "bearer", "token": token}, {"type": "bearer", "configured": True}, [token]
        ),
        "header": AuthCase(
            {"type": "header", "header_name": "X-Api-Key", "value": value},
            {"type": "header", "configured": True, "header_name": "X-Api-Key"},
            [value],
        ),
        "oauth2_client_credentials": AuthCase(
            {
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.example.com/oauth/token",
                "client_id": "sc-client",
                "client_secret": client_secret,
                "scopes": ["mcp:read"],
                "audience": "https://mcp.example.com",
            },
            {
                "type": "oauth2_client_credentials",
                "configured": True,
                "token_url": "https://auth.example.com/oauth/token",
                "client_id": "sc-client",
                "scopes": ["mcp:read"],
                "audience": "https://mcp.example.com",
            },
            [client_secret],
        ),
        "mtls": AuthCase(
            {
                "type": "mtls",
                "client_cert_pem": mtls.client.cert_pem,
                "client_key_pem": mtls.client.key_pem,
                "ca_bundle_pem": mtls.ca_pem,
            },
            {"type": "mtls", "configured": True},
            [mtls.client.key_pem, *key_lines],
        ),
    }


def assert_absent(secret_values: Iterable[str], *texts: str) -> None:
    """No secret value (nor its hex spelling, as a bytea column would print it) in any text."""
    haystack = "\n".join(texts)
    for value in secret_values:
        assert value not in haystack, "a secret value leaked"
        assert value.encode().hex() not in haystack, "a secret value leaked (as hex)"


def audit_rows(engine: Engine, org_id: uuid.UUID) -> list[dict[str, Any]]:
    """An organization's audit events in order, read as the database owner."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT tag, target_type, target_id, details, actor_type, actor_id "
                "FROM audit_events WHERE org_id = :o ORDER BY seq"
            ),
            {"o": org_id},
        ).mappings()
        return [dict(row) for row in rows]


def server_audit(engine: Engine, org_id: uuid.UUID) -> list[dict[str, Any]]:
    return [row for row in audit_rows(engine, org_id) if row["tag"].startswith("org:server:")]


def secret_rows(engine: Engine, org_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """The raw rows of the local secret store for an organization, by path."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM secrets WHERE org_id = :o"), {"o": org_id}
        ).mappings()
        return {row["path"]: dict(row) for row in rows}


def database_text(engine: Engine) -> str:
    """Every row of every table in the public schema, as PostgreSQL prints it."""
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ).scalars()
        parts = []
        for table in list(tables):
            quoted = '"' + table.replace('"', '""') + '"'
            parts.append(
                conn.execute(
                    text(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {quoted} t")  # noqa: S608
                ).scalar_one()
            )
        return "\n".join(parts)
