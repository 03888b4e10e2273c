"""Health settings: the server's ``health`` block (and its deprecated alias), the
organization's minimum interval (a platform quota) and escalation thresholds (org admins)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from sprintconnect.models import AuditEvent
from sprintconnect.organization.service import resolve_organization, update_settings
from tests.conftest import Tenant
from tests.fixtures.flaky_server import FlakyServer
from tests.health.check_support import HealthDb, path_name
from tests.integration.processes import cli_env, run_cli

URL = "https://mcp.example.com/mcp"


async def _patch(h: HealthDb, tenant: Tenant, sid: str, body: dict[str, Any]) -> Any:
    return await h.client.patch(f"/api/v1/servers/{sid}", json=body, headers=tenant.headers)


async def test_the_health_block_changes_only_what_is_sent(h: HealthDb) -> None:
    tenant = await h.tenant()
    server = (await h.register(tenant, URL, health={"interval_seconds": 600}))["server"]
    assert server["health"]["interval_seconds"] == 600
    assert server["health_check_interval_seconds"] == 600  # the deprecated alias shows it
    before = await h.health_row(tenant, server["id"])
    response = await _patch(
        h,
        tenant,
        server["id"],
        {"health": {"check_type": "capability", "failure_threshold": 5}},
    )
    assert response.status_code == 200, response.text
    health = response.json()["health"]
    assert health["check_type"] == "capability"
    assert health["failure_threshold"] == 5
    assert health["interval_seconds"] == 600
    assert health["enabled"] is True
    assert health["degraded_after_seconds"] is None
    after = await h.health_row(tenant, server["id"])
    assert after.next_check_at == before.next_check_at  # same interval: same schedule
    reset = await _patch(h, tenant, server["id"], {"health": {"failure_threshold": None}})
    assert reset.json()["health"]["failure_threshold"] is None  # back to the org's
    async with h.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        details = list(
            await session.scalars(
                select(AuditEvent.details)
                .where(AuditEvent.target_id == server["id"], AuditEvent.tag == "org:server:updated")
                .order_by(AuditEvent.seq)
            )
        )
    assert details[0]["health"] == {"check_type": "capability", "failure_threshold": 5}


async def test_a_new_interval_reschedules_within_one_interval(h: HealthDb) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, URL))["server"]["id"]
    response = await _patch(h, tenant, sid, {"health_check_interval_seconds": 120})
    assert response.status_code == 200, response.text
    assert response.json()["health"]["interval_seconds"] == 120
    row = await h.health_row(tenant, sid)
    assert 0 <= (row.next_check_at - h.clock.now()).total_seconds() <= 120


async def test_an_interval_below_the_minimum_is_422_naming_it(h: HealthDb) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, URL))["server"]["id"]
    response = await _patch(h, tenant, sid, {"health": {"interval_seconds": 30}})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/health-interval-below-minimum")
    assert problem["minimum"] == 60
    assert "at least 60 seconds" in problem["detail"]
    assert problem["errors"][0]["loc"] == ["body", "health", "interval_seconds"]
    alias = await _patch(h, tenant, sid, {"health_check_interval_seconds": 59})
    assert alias.json()["errors"][0]["loc"] == ["body", "health_check_interval_seconds"]
    registered = await h.register(tenant, URL, expect=422, health={"interval_seconds": 10})
    assert registered["minimum"] == 60
    assert (await h.health_row(tenant, sid)).interval_seconds == 300  # unchanged


async def test_the_platform_minimum_is_per_organization(h: HealthDb) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, URL))["server"]["id"]
    async with h.runtime.db.sessionmaker() as session, session.begin():
        org = await resolve_organization(session, str(tenant.org_id))
        await update_settings(
            session, org, {"health_min_interval_seconds": 900}, actor=Actor("system", "cli")
        )
    response = await _patch(h, tenant, sid, {"health": {"interval_seconds": 600}})
    assert response.status_code == 422
    assert response.json()["minimum"] == 900
    shown = (await h.client.get("/api/v1/organization", headers=tenant.headers)).json()
    assert shown["health_min_interval_seconds"] == 900
    # Organization admins may not lift it themselves.
    refused = await h.client.patch(
        "/api/v1/organization",
        json={"health_min_interval_seconds": 60},
        headers=tenant.headers,
    )
    assert refused.status_code == 422


@pytest.mark.parametrize(
    "health",
    [
        {"interval_seconds": 86_401},
        {"interval_seconds": 0},
        {"failure_threshold": 0},
        {"failure_threshold": 1001},
        {"degraded_after_seconds": -1},
        {"check_type": "deep"},
        {"enabled": None, "unknown": 1},
        {"interval_seconds": "often"},
    ],
)
async def test_absurd_health_settings_are_422(h: HealthDb, health: dict[str, Any]) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, URL))["server"]["id"]
    response = await _patch(h, tenant, sid, {"health": health})
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


async def test_the_block_and_the_alias_must_agree(h: HealthDb) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, URL))["server"]["id"]
    response = await _patch(
        h,
        tenant,
        sid,
        {"health": {"interval_seconds": 120}, "health_check_interval_seconds": 180},
    )
    assert response.status_code == 422
    same = await _patch(
        h,
        tenant,
        sid,
        {"health": {"interval_seconds": 180}, "health_check_interval_seconds": 180},
    )
    assert same.json()["health"]["interval_seconds"] == 180


async def test_org_thresholds_apply_when_the_server_has_none(
    h: HealthDb, flaky: FlakyServer
) -> None:
    tenant = await h.tenant()
    shown = (await h.client.get("/api/v1/organization", headers=tenant.headers)).json()
    assert (shown["health_failure_threshold"], shown["health_degraded_after_seconds"]) == (3, 900)
    assert shown["health_min_interval_seconds"] == 60
    response = await h.client.patch(
        "/api/v1/organization",
        json={"health_failure_threshold": 1, "health_degraded_after_seconds": 120},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["health_failure_threshold"] == 1
    name = path_name()
    sid = (await h.register(tenant, flaky.url(name)))["server"]["id"]
    flaky.set_mode("error", name=name)
    body = (
        await h.client.post(f"/api/v1/servers/{sid}/health/checks", headers=tenant.headers)
    ).json()
    assert body["status"] == "degraded"  # the first failure reaches the org's threshold
    bad = await h.client.patch(
        "/api/v1/organization", json={"health_failure_threshold": 0}, headers=tenant.headers
    )
    assert bad.status_code == 422


async def test_the_cli_sets_the_minimum_interval(h: HealthDb) -> None:
    tenant = await h.tenant()
    env = cli_env(h.data_dir, h.url)
    done = await asyncio.to_thread(
        run_cli,
        "admin",
        "set-health-min-interval",
        "--org",
        tenant.slug,
        "--seconds",
        "120",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["effective_seconds"] == 120
    shown = (await h.client.get("/api/v1/organization", headers=tenant.headers)).json()
    assert shown["health_min_interval_seconds"] == 120
    reset = await asyncio.to_thread(
        run_cli, "admin", "set-health-min-interval", "--org", tenant.slug, env=env
    )
    assert json.loads(reset.stdout) == {
        "organization_id": str(tenant.org_id),
        "health_min_interval_seconds": None,
        "effective_seconds": 60,
    }
