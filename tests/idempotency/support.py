"""Helpers shared by the idempotency tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Tenant

KEYS = "/api/v1/api-keys"


def headers(tenant: Tenant, key: str | bytes | None = None, **extra: str) -> dict[str, Any]:
    result: dict[str, Any] = {**tenant.headers, **extra}
    if key is not None:
        result["Idempotency-Key"] = key
    return result


async def create_key(
    client: httpx.AsyncClient, tenant: Tenant, key: str | bytes | None, **body: object
) -> httpx.Response:
    payload = {"name": "idem", "scopes": ["servers:read"], **body}
    return await client.post(KEYS, json=payload, headers=headers(tenant, key))


async def key_names(client: httpx.AsyncClient, tenant: Tenant) -> list[str]:
    listed = await client.get(KEYS, params={"limit": 200}, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    return [item["name"] for item in listed.json()["items"]]


def replayed(response: httpx.Response) -> bool:
    return bool(response.headers.get("idempotent-replayed") == "true")
