"""Discovery against real MCP servers: snapshots, diffs, failures with guidance."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import CapabilitySnapshot, OutboxEvent
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.discovery.conftest import Waiter
from tests.discovery.servers import (
    BrokenJsonRpc,
    DropsOnListing,
    Hanging,
    OneInvalidTool,
    SchemaInjector,
    big_server,
    changing_server,
    serving,
    streamable,
    weather_forecast,
)
from tests.integration.processes import free_port


@pytest.fixture(scope="module")
def changing() -> Iterator[tuple[object, str]]:
    server = changing_server()
    with serving(streamable(server)) as base:
        yield server, f"{base}/mcp"


async def register(
    client: httpx.AsyncClient, tenant: Tenant, url: str, **extra: object
) -> dict[str, object]:
    body = {
        "name": f"srv-{abs(hash(url + str(extra))) % 10**8}",
        "url": url,
        "environment": "staging",
        **extra,
    }
    response = await client.post("/api/v1/servers", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    registered: dict[str, object] = response.json()
    return registered


def discovery_id(registered: dict[str, object]) -> str:
    return str(registered["discovery_id"])


async def discover(
    client: httpx.AsyncClient, tenant: Tenant, server_id: str, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/servers/{server_id}/discoveries", json=body or None, headers=tenant.headers
    )


async def test_discovery_records_versions_diffs_and_unchanged(
    wclient: httpx.AsyncClient,
    make_tenant: TenantFactory,
    changing: tuple[object, str],
    settled: Waiter,
    worker_runtime: Runtime,
) -> None:
    server, url = changing
    tenant = await make_tenant()
    registered = await register(wclient, tenant, url)
    server_id = registered["server"]["id"]  # type: ignore[index]
    first = await settled(discovery_id(registered), tenant.headers)
    assert first["status"] == "succeeded", first
    assert first["outcome"] == "first"
    assert first["snapshot_version"] == 1
    caps = (
        await wclient.get(f"/api/v1/servers/{server_id}/capabilities", headers=tenant.headers)
    ).json()
    names = {(i["kind"], i["name"]) for i in caps["items"]}
    assert {
        ("tool", "add"),
        ("tool", "get_current_weather"),
        ("resource", "config://app"),
        ("prompt", "summarize"),
    } <= names
    add_tool = next(i for i in caps["items"] if i["name"] == "add")
    assert add_tool["definition"]["inputSchema"]["properties"]["a"]["type"] == "integer"
    assert caps["snapshot"]["server_info"]["version"] == "1.0.0"
    assert (await wclient.get(f"/api/v1/servers/{server_id}", headers=tenant.headers)).json()[
        "status"
    ] == "active"

    again = await settled((await discover(wclient, tenant, server_id)).json()["id"], tenant.headers)
    assert again["outcome"] == "unchanged"
    assert again["snapshot_version"] == 1

    server.add_tool(weather_forecast)  # type: ignore[attr-defined]
    server.remove_tool("add")  # type: ignore[attr-defined]
    changed = await settled(
        (await discover(wclient, tenant, server_id)).json()["id"], tenant.headers
    )
    assert changed["outcome"] == "changed"
    assert changed["snapshot_version"] == 2
    diff = (
        await wclient.get(f"/api/v1/servers/{server_id}/snapshots/1/diff/2", headers=tenant.headers)
    ).json()
    assert diff["added"] == [{"kind": "tool", "name": "weather_forecast"}]
    assert diff["removed"] == [{"kind": "tool", "name": "add"}]
    assert diff["modified"] == []
    history = (
        await wclient.get(f"/api/v1/servers/{server_id}/snapshots", headers=tenant.headers)
    ).json()
    assert [s["version"] for s in history["items"]] == [2, 1]
    assert history["next_cursor"] is None
    assert history["items"][0]["diff"]["added"] == [{"kind": "tool", "name": "weather_forecast"}]
    # One at a time: the cursor leads to the older version.
    newest = (
        await wclient.get(
            f"/api/v1/servers/{server_id}/snapshots", params={"limit": 1}, headers=tenant.headers
        )
    ).json()
    assert [s["version"] for s in newest["items"]] == [2]
    older = (
        await wclient.get(
            f"/api/v1/servers/{server_id}/snapshots",
            params={"limit": 1, "cursor": newest["next_cursor"]},
            headers=tenant.headers,
        )
    ).json()
    assert [s["version"] for s in older["items"]] == [1]

    refreshed = await settled(
        (await discover(wclient, tenant, server_id, force_refresh=True)).json()["id"],
        tenant.headers,
    )
    assert refreshed["outcome"] == "refreshed"
    assert refreshed["snapshot_version"] == 3

    async with worker_runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        events = (
            await session.scalars(
                select(OutboxEvent).where(OutboxEvent.topic == "server.capabilities.changed")
            )
        ).all()
        versions = (
            await session.scalars(
                select(CapabilitySnapshot.version).where(CapabilitySnapshot.server_id == server_id)
            )
        ).all()
    assert [e.payload["version"] for e in events] == [2]
    assert sorted(versions) == [1, 2, 3]
    server.add_tool(__import__("tests.discovery.servers", fromlist=["add"]).add)  # type: ignore[attr-defined]
    server.remove_tool("weather_forecast")  # type: ignore[attr-defined]


async def test_the_same_discovery_requested_ten_times_at_once_runs_once(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter
) -> None:
    tenant = await make_tenant()
    with serving(Hanging()) as base:
        registered = await register(wclient, tenant, f"{base}/mcp", auto_discover=False)
        server_id = registered["server"]["id"]  # type: ignore[index]
        answers = await asyncio.gather(*(discover(wclient, tenant, server_id) for _ in range(10)))
        assert {a.status_code for a in answers} == {202}
        ids = {a.json()["id"] for a in answers}
        assert len(ids) == 1
        assert sum(a.headers.get("x-discovery-reused") == "true" for a in answers) == 9
        final = await settled(ids.pop(), tenant.headers)
    assert final["status"] == "timed_out"
    assert final["reason"] == "timeout"
    assert final["guidance"]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("refused", "connection_refused"),
        ("broken", "protocol_error"),
        ("garbage", "protocol_error"),
        ("dropped", "protocol_error"),
    ],
)
async def test_failures_are_classified_with_guidance(
    wclient: httpx.AsyncClient,
    make_tenant: TenantFactory,
    settled: Waiter,
    kind: str,
    reason: str,
) -> None:
    tenant = await make_tenant()
    apps = {
        "broken": BrokenJsonRpc(b'{"jsonrpc": "1.0", "oops": true}'),
        "garbage": BrokenJsonRpc(b"<html>not json</html>"),
        "dropped": DropsOnListing(streamable(changing_server("dropping"), json_response=True)),
    }
    if kind == "refused":
        registered = await register(wclient, tenant, f"http://127.0.0.1:{free_port()}/mcp")
        final = await settled(discovery_id(registered), tenant.headers)
    else:
        with serving(apps[kind]) as base:
            registered = await register(wclient, tenant, f"{base}/mcp")
            final = await settled(discovery_id(registered), tenant.headers)
    assert final["status"] == "failed", final
    assert final["reason"] == reason, final
    assert final["guidance"]
    server = (
        await wclient.get(
            f"/api/v1/servers/{registered['server']['id']}",  # type: ignore[index]
            headers=tenant.headers,
        )
    ).json()
    assert server["status"] == "discovery_failed"


async def test_wrong_credentials_are_auth_rejected(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter, mcp_bearer: object
) -> None:
    tenant = await make_tenant()
    url = mcp_bearer.url  # type: ignore[attr-defined]
    registered = await register(wclient, tenant, url, auth={"type": "bearer", "token": "wrong"})
    final = await settled(discovery_id(registered), tenant.headers)
    assert final["reason"] == "auth_rejected", final
    right = await register(wclient, tenant, url, auth=mcp_bearer.auth)  # type: ignore[attr-defined]
    assert (await settled(discovery_id(right), tenant.headers))["status"] == "succeeded"


async def test_enormous_and_invalid_schemas_are_capped_and_recorded(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter
) -> None:
    tenant = await make_tenant()
    app = SchemaInjector(streamable(big_server(200), json_response=True), huge_bytes=200_000)
    with serving(app) as base:
        registered = await register(wclient, tenant, f"{base}/mcp")
        final = await settled(discovery_id(registered), tenant.headers)
    assert final["status"] == "succeeded", final
    caps = (
        await wclient.get(
            f"/api/v1/servers/{registered['server']['id']}/capabilities",  # type: ignore[index]
            headers=tenant.headers,
        )
    ).json()
    notes = caps["snapshot"]["truncation"]
    assert notes["items_dropped"] == {"tool": 50}
    assert len(caps["items"]) == 150
    assert notes["fields_truncated"][0]["fields"] == ["inputSchema"]
    huge = next(i for i in caps["items"] if i["name"] == "tool_0000")
    assert huge["definition"]["inputSchema"]["x-sprintconnect-truncated"] is True
    invalid = SchemaInjector(
        streamable(big_server(3), json_response=True), huge_bytes=10, invalid=True
    )
    with serving(invalid) as base:
        registered = await register(wclient, tenant, f"{base}/mcp")
        final = await settled(discovery_id(registered), tenant.headers)
    # A tool the SDK rejects no longer fails the listing: it is recorded as invalid.
    assert final["status"] == "succeeded", final
    caps = (
        await wclient.get(
            f"/api/v1/servers/{registered['server']['id']}/capabilities",  # type: ignore[index]
            headers=tenant.headers,
        )
    ).json()
    assert sorted(i["name"] for i in caps["items"]) == ["tool_0000", "tool_0002"]
    (rejected,) = caps["snapshot"]["invalid_items"]
    assert rejected["name"] == "tool_0001"
    assert "inputSchema" in rejected["reason"]


async def test_a_tool_the_sdk_rejects_is_an_invalid_item_beside_the_valid_ones(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter
) -> None:
    tenant = await make_tenant()
    with serving(OneInvalidTool(streamable(changing_server("half"), json_response=True))) as base:
        registered = await register(wclient, tenant, f"{base}/mcp")
        final = await settled(discovery_id(registered), tenant.headers)
    assert final["status"] == "succeeded", final
    assert final["reason"] is None
    server_id = registered["server"]["id"]  # type: ignore[index]
    caps = (
        await wclient.get(f"/api/v1/servers/{server_id}/capabilities", headers=tenant.headers)
    ).json()
    kept = sorted((i["kind"], i["name"]) for i in caps["items"])
    assert kept == [("prompt", "summarize"), ("resource", "config://app"), ("tool", "add")]
    snapshot = caps["snapshot"]
    (rejected,) = snapshot["invalid_items"]
    assert rejected["kind"] == "tool"
    assert rejected["name"] == OneInvalidTool.INVALID
    assert "inputSchema.type" in rejected["reason"]
    assert "object" in rejected["reason"]
    assert snapshot["counts"] == {"tool": 1, "resource": 1, "prompt": 1}
    assert snapshot["truncation"]["invalid_items"] == snapshot["invalid_items"]
    listed = (
        await wclient.get(f"/api/v1/servers/{server_id}/snapshots", headers=tenant.headers)
    ).json()
    entries = listed["items"] if isinstance(listed, dict) else listed
    assert entries[0]["invalid_items"] == snapshot["invalid_items"]


async def test_other_tenants_cannot_see_discoveries_or_snapshots(
    wclient: httpx.AsyncClient,
    make_tenant: TenantFactory,
    changing: tuple[object, str],
    settled: Waiter,
) -> None:
    _, url = changing
    owner, stranger = await make_tenant(), await make_tenant()
    registered = await register(wclient, owner, url)
    done = await settled(discovery_id(registered), owner.headers)
    server_id = registered["server"]["id"]  # type: ignore[index]
    for path in (
        f"/api/v1/discoveries/{done['id']}",
        f"/api/v1/servers/{server_id}/capabilities",
        f"/api/v1/servers/{server_id}/snapshots",
        f"/api/v1/servers/{server_id}/snapshots/1/diff/1",
    ):
        assert_problem(await wclient.get(path, headers=stranger.headers), 404)
    assert_problem(await discover(wclient, stranger, server_id), 404)
    assert_problem(
        await wclient.get(f"/api/v1/servers/{server_id}/snapshots/1/diff/9", headers=owner.headers),
        404,
        "snapshot-not-found",
    )
