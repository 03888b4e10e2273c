"""``?wait=true``: registration and discovery answer with the finished discovery, or 202."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.discovery.conftest import Waiter
from tests.discovery.servers import Hanging, changing_server, serving, streamable


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    with serving(streamable(changing_server("waited"))) as base:
        yield f"{base}/mcp"


async def register(
    client: httpx.AsyncClient, tenant: Tenant, url: str, query: str = "", **extra: object
) -> httpx.Response:
    body = {"name": f"srv-{uuid.uuid4().hex[:8]}", "url": url, "environment": "staging", **extra}
    return await client.post(f"/api/v1/servers{query}", json=body, headers=tenant.headers)


async def test_registration_with_wait_answers_with_the_finished_discovery(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, mcp_url: str
) -> None:
    tenant = await make_tenant()
    answer = await register(wclient, tenant, mcp_url, "?wait=true")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["discovery"]["discovery_id"] == body["discovery_id"]
    assert body["discovery"]["status"] == "succeeded", body
    assert body["server"]["status"] == "active"  # as it is after the discovery
    server_id = body["server"]["id"]
    assert any("/capabilities" in step for step in body["next_steps"])
    # The tools are there as soon as the answer is.
    caps = await wclient.get(f"/api/v1/servers/{server_id}/capabilities", headers=tenant.headers)
    assert caps.status_code == 200, caps.text
    assert caps.json()["items"]


async def test_registration_without_wait_is_unchanged(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, mcp_url: str, settled: Waiter
) -> None:
    tenant = await make_tenant()
    answer = await register(wclient, tenant, mcp_url)
    assert answer.status_code == 201, answer.text
    assert answer.json()["discovery"] is None
    await settled(answer.json()["discovery_id"], tenant.headers)


async def test_discovery_with_wait_answers_200_when_finished(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, mcp_url: str, settled: Waiter
) -> None:
    tenant = await make_tenant()
    registered = await register(wclient, tenant, mcp_url, auto_discover=False)
    server_id = registered.json()["server"]["id"]
    answer = await wclient.post(
        f"/api/v1/servers/{server_id}/discoveries?wait=true&wait_timeout=60",
        headers=tenant.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded"
    assert answer.headers["location"] == f"/api/v1/discoveries/{answer.json()['discovery_id']}"


async def test_waits_that_run_out_answer_202_and_the_discovery_goes_on(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter
) -> None:
    tenant = await make_tenant()
    with serving(Hanging()) as base:
        registered = await register(wclient, tenant, f"{base}/mcp", "?wait=true&wait_timeout=0.2")
        assert registered.status_code == 202, registered.text
        body = registered.json()
        assert body["discovery"]["status"] in ("queued", "in_progress")
        assert registered.headers["location"] == f"/api/v1/discoveries/{body['discovery_id']}"
        again = await wclient.post(
            f"/api/v1/servers/{body['server']['id']}/discoveries?wait=true&wait_timeout=0.2",
            headers=tenant.headers,
        )
        assert again.status_code == 202, again.text
        assert again.json()["discovery_id"] == body["discovery_id"]  # the same, still running
        final = await settled(body["discovery_id"], tenant.headers)
    assert final["status"] == "timed_out"


@pytest.mark.parametrize("query", ["wait_timeout=121", "wait_timeout=0", "wait=maybe"])
async def test_bad_wait_parameters_are_422(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, query: str
) -> None:
    tenant = await make_tenant()
    answer = await register(wclient, tenant, "http://127.0.0.1:9/mcp", f"?wait=true&{query}")
    assert_problem(answer, 422)
