"""Check kinds (ping, capability, full) against real MCP servers, and Check Now (200 and 202)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select, text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.runner import run_discovery
from sprintconnect.health.tasks import build_blueprint
from sprintconnect.jobs import context
from sprintconnect.models import AuditEvent, Discovery
from tests.discovery.servers import changing_server, serving, streamable, weather_forecast
from tests.fixtures.flaky_server import FlakyServer
from tests.health.check_support import HealthDb, path_name
from tests.jobs.conftest import running_worker


async def _discover(
    h: HealthDb, tenant_headers: dict[str, str], org_id: uuid.UUID, sid: str
) -> None:
    response = await h.client.post(f"/api/v1/servers/{sid}/discoveries", headers=tenant_headers)
    assert response.status_code == 202, response.text
    outcome = await run_discovery(
        h.services, discovery_id=uuid.UUID(response.json()["id"]), org_id=org_id
    )
    assert outcome == "succeeded"


async def _discoveries(h: HealthDb, org_id: uuid.UUID, sid: str) -> list[Discovery]:
    async with h.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        rows = await session.scalars(select(Discovery).where(Discovery.server_id == uuid.UUID(sid)))
        return list(rows)


async def test_a_capability_check_reports_a_change_and_queues_a_discovery(h: HealthDb) -> None:
    tenant = await h.tenant()
    server = changing_server("health-capability")
    with serving(streamable(server)) as base:
        sid = (
            await h.register(
                tenant, f"{base}/mcp", auto_discover=False, health={"check_type": "capability"}
            )
        )["server"]["id"]
        await _discover(h, tenant.headers, tenant.org_id, sid)
        url = f"/api/v1/servers/{sid}/health/checks"
        same = (await h.client.post(url, headers=tenant.headers)).json()
        assert (same["outcome"], same["check_type"], same["message"]) == (
            "healthy",
            "capability",
            None,
        )
        server.add_tool(weather_forecast)
        changed = (await h.client.post(url, headers=tenant.headers)).json()
        assert changed["outcome"] == "healthy"
        assert changed["message"] == "the tools changed: 2 in the snapshot, 3 listed now"
        assert changed["discovery_id"] is None  # auto_discover is off: reported only
        patched = await h.client.patch(
            f"/api/v1/servers/{sid}", json={"auto_discover": True}, headers=tenant.headers
        )
        assert patched.status_code == 200
        queued = (await h.client.post(url, headers=tenant.headers)).json()
        assert queued["discovery_id"] is not None
        ids = {str(d.id) for d in await _discoveries(h, tenant.org_id, sid)}
        assert queued["discovery_id"] in ids


async def test_a_full_check_lists_and_queues_a_discovery(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, flaky.url(path_name()), health={"check_type": "full"}))[
        "server"
    ]["id"]
    body = (
        await h.client.post(f"/api/v1/servers/{sid}/health/checks", headers=tenant.headers)
    ).json()
    assert (body["check_type"], body["outcome"]) == ("full", "healthy")
    assert "1 tools and has no snapshot yet" in body["message"]
    assert [str(d.id) for d in await _discoveries(h, tenant.org_id, sid)] == [body["discovery_id"]]


async def test_check_now_is_audited_and_other_tenants_get_404(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant, other = await h.tenant(), await h.tenant()
    sid = (await h.register(tenant, flaky.url(path_name())))["server"]["id"]
    url = f"/api/v1/servers/{sid}/health/checks"
    response = await h.client.post(url, headers=other.headers)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/server-not-found")
    queued = await h.client.post(url, params={"wait": "false"}, headers=other.headers)
    assert queued.status_code == 404
    assert (await h.client.post(url, headers=tenant.headers)).status_code == 200
    async with h.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = list(
            await session.scalars(
                select(AuditEvent.tag).where(AuditEvent.target_id == sid).order_by(AuditEvent.seq)
            )
        )
    assert "org:server_health:checked" in tags
    assert await h.checks(other, sid) == []  # RLS: the other tenant sees none of it


async def test_check_now_without_waiting_queues_a_job_that_records_the_check(
    h: HealthDb,
    flaky: FlakyServer,
) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, flaky.url(path_name())))["server"]["id"]
    response = await h.client.post(
        f"/api/v1/servers/{sid}/health/checks", params={"wait": "false"}, headers=tenant.headers
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["health_url"] == f"/api/v1/servers/{sid}/health"
    async with h.runtime.db.sessionmaker() as session, session.begin():
        task = await session.scalar(
            text("SELECT task_name FROM procrastinate_jobs WHERE id = :id"), {"id": body["job_id"]}
        )
    assert task == "sc:health.check"
    context.install(h.services)
    async with running_worker(h.runtime, build_blueprint(), "health"):
        for _ in range(200):
            checks = await h.checks(tenant, sid)
            if checks:
                break
            await asyncio.sleep(0.05)
    assert [(c.trigger, c.outcome) for c in checks] == [("manual", "healthy")]
    assert (await h.health_row(tenant, sid)).status == "healthy"
