"""Reading health: a server's details, and its health in lists, single reads and search."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from sprintconnect.runtime import Runtime
from tests.catalog.conftest import Seed
from tests.catalog.conftest import seed as seed  # the catalog's fixture, used here too
from tests.conftest import MemberFactory, Tenant, assert_problem
from tests.health.read_support import register, set_health

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


async def test_a_new_server_is_unknown_until_its_first_check(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)

    response = await client.get(f"/api/v1/servers/{server_id}/health", headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["server_id"] == str(server_id)
    assert body["status"] == "unknown"
    assert body["last_check_at"] is None
    assert body["response_ms"] is None
    assert body["error_class"] is None
    assert body["guidance"] is None
    assert body["failure_streak"] == 0
    assert body["enabled"] is True
    assert body["next_check_at"] is not None
    assert body["thresholds"] == {
        "failure_threshold": 3,
        "degraded_after_seconds": 900,
        "overridden": [],
        "min_interval_seconds": runtime.settings.health_min_interval_seconds,
    }


async def test_details_show_the_last_check_error_guidance_and_thresholds(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    await set_health(
        runtime,
        tenant,
        server_id,
        status="unhealthy",
        status_changed_at=AT - timedelta(minutes=10),
        last_check_at=AT,
        last_response_ms=10003.2,
        last_error_class="timeout",
        last_error="The server did not answer within 10 s.",
        failure_streak=2,
        unhealthy_since=AT - timedelta(minutes=10),
        interval_seconds=120,
        check_type="capability",
        failure_threshold=5,
    )

    body = (await client.get(f"/api/v1/servers/{server_id}/health", headers=tenant.headers)).json()

    assert body["status"] == "unhealthy"
    assert body["last_check_at"] == "2026-11-28T09:00:00Z"
    assert body["response_ms"] == 10003.2
    assert body["error_class"] == "timeout"
    assert body["error"] == "The server did not answer within 10 s."
    assert body["guidance"].startswith("The server did not answer in time.")
    assert body["failure_streak"] == 2
    assert body["unhealthy_since"] == "2026-11-28T08:50:00Z"
    assert body["interval_seconds"] == 120
    assert body["check_type"] == "capability"
    assert body["thresholds"]["failure_threshold"] == 5
    assert body["thresholds"]["degraded_after_seconds"] == 900
    assert body["thresholds"]["overridden"] == ["failure_threshold"]


async def test_a_paused_server_has_no_next_check(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    server_id = await register(client, runtime, tenant)
    await set_health(runtime, tenant, server_id, enabled=False)

    body = (await client.get(f"/api/v1/servers/{server_id}/health", headers=tenant.headers)).json()

    assert body["enabled"] is False
    assert body["next_check_at"] is None


async def test_reading_health_needs_health_read(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, make_member: MemberFactory
) -> None:
    server_id = await register(client, runtime, tenant)
    viewer = await make_member(tenant, ["viewer"], ["read"])

    allowed = await client.get(f"/api/v1/servers/{server_id}/health", headers=viewer.headers)
    history = await client.get(
        f"/api/v1/servers/{server_id}/health/history", headers=viewer.headers
    )

    assert allowed.status_code == 200, allowed.text
    assert history.status_code == 200, history.text


async def test_lists_and_single_reads_carry_health(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    sick = await register(client, runtime, tenant, "sick")
    fresh = await register(client, runtime, tenant, "fresh")
    await set_health(
        runtime, tenant, sick, status="unhealthy", last_check_at=AT, last_response_ms=42.0
    )

    listed = await client.get("/api/v1/servers", params={"sort": "name"}, headers=tenant.headers)
    one = await client.get(f"/api/v1/servers/{sick}", headers=tenant.headers)

    assert listed.status_code == 200, listed.text
    health = {item["id"]: item["health"] for item in listed.json()["items"]}
    assert health[str(sick)]["status"] == "unhealthy"
    assert health[str(sick)]["last_check_at"] == "2026-11-28T09:00:00Z"
    assert health[str(fresh)]["status"] == "unknown"
    assert health[str(fresh)]["last_check_at"] is None
    assert one.json()["health"]["status"] == "unhealthy"


async def _found(
    client: httpx.AsyncClient, tenant: Tenant, **params: Any
) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/v1/discovery/servers", params=params, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {item["server"]["name"]: item["health"] for item in response.json()["items"]}


async def test_search_shows_health_and_filters_by_it(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, seed: Seed
) -> None:
    ids = {
        name: uuid.UUID(await seed(tenant, name, {f"{name}_weather": "Weather"}))
        for name in ("up", "down", "worse", "new")
    }
    for name, status in (("up", "healthy"), ("down", "unhealthy"), ("worse", "degraded")):
        await set_health(
            runtime,
            tenant,
            ids[name],
            status=status,
            last_check_at=AT,
            last_response_ms=7.5,
            next_check_at=AT + timedelta(days=365),
        )
    await set_health(runtime, tenant, ids["new"], next_check_at=AT + timedelta(days=365))

    everything = await _found(client, tenant, capability="weather")
    assert everything["up"] == {
        "status": "healthy",
        "last_check_at": "2026-11-28T09:00:00Z",
        "response_ms": 7.5,
        "last_checked_at": "2026-11-28T09:00:00Z",
    }
    assert everything["new"]["status"] == "unknown"
    assert everything["new"]["last_check_at"] is None
    expected = {"healthy": "up", "unhealthy": "down", "degraded": "worse", "unknown": "new"}
    for status, name in expected.items():
        # With terms (the capability SQL) and without (browsing by filters alone).
        assert set(await _found(client, tenant, capability="weather", health=status)) == {name}
        assert set(await _found(client, tenant, health=status)) == {name}, status
    bad = await client.get(
        "/api/v1/discovery/servers", params={"health": "sick"}, headers=tenant.headers
    )
    assert_problem(bad, 422)
