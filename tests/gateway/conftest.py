"""Gateway fixtures: an app with an in-process worker, a real upstream MCP server registered
and discovered in a fresh organization, and an MCP client of the gateway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, TenantFactory
from tests.discovery.conftest import (  # noqa: F401 - fixtures used by this package
    Waiter,
    settled,
    wclient,
    worker_app,
    worker_runtime,
)
from tests.gateway.upstream import Upstream, running


@pytest.fixture(scope="package")
def upstream() -> Iterator[Upstream]:
    with running() as served:
        yield served


@dataclass
class Registered:
    tenant: Tenant
    server_id: str
    server_name: str


async def register_and_discover(
    client: httpx.AsyncClient, tenant: Tenant, url: str, wait: Waiter, **extra: Any
) -> Registered:
    body = {
        "name": extra.pop("name", "upstream"),
        "url": url,
        "environment": "staging",
        "auto_discover": True,
        **extra,
    }
    response = await client.post("/api/v1/servers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    registered = response.json()
    finished = await wait(str(registered["discovery_id"]), tenant.headers)
    assert finished["status"] == "succeeded", finished
    return Registered(tenant, registered["server"]["id"], body["name"])


@pytest.fixture
async def registered(
    wclient: httpx.AsyncClient,  # noqa: F811
    make_tenant: TenantFactory,
    upstream: Upstream,
    settled: Waiter,  # noqa: F811
) -> Registered:
    tenant = await make_tenant()
    return await register_and_discover(wclient, tenant, upstream.url, settled)
