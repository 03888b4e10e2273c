"""Helpers for the health read-side tests: servers whose schedule is held, and health data
written through the repository functions the checker uses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.health.repository import HealthRepository, add_check
from sprintconnect.models import HealthCheck, HealthTransition, ServerHealth
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant

URL = "https://mcp.example.com/mcp"


async def register(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    name: str | None = None,
    *,
    environment: str = "staging",
) -> uuid.UUID:
    """A server that no scheduler checks during the test (its next check is a year away)."""
    response = await client.post(
        "/api/v1/servers",
        json={
            "name": name or f"srv-{uuid.uuid4().hex[:8]}",
            "url": URL,
            "environment": environment,
            "auto_discover": False,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    server_id = uuid.UUID(response.json()["server"]["id"])
    await set_health(
        runtime, tenant, server_id, next_check_at=runtime.clock.now() + timedelta(days=365)
    )
    return server_id


async def set_health(runtime: Runtime, tenant: Tenant, server_id: uuid.UUID, **values: Any) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            update(ServerHealth).where(ServerHealth.server_id == server_id).values(**values)
        )


async def record(
    runtime: Runtime,
    tenant: Tenant,
    server_id: uuid.UUID,
    checks: list[tuple[datetime, bool, float]],
) -> None:
    """Store checks (time, succeeded, response ms) as the checker does: raw row and rollup."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        for at, ok, ms in checks:
            await add_check(
                session,
                HealthCheck(
                    org_id=tenant.org_id,
                    server_id=server_id,
                    checked_at=at,
                    check_type="ping",
                    trigger="scheduled",
                    outcome="healthy" if ok else "unhealthy",
                    response_ms=ms,
                    error_class=None if ok else "timeout",
                    message=None if ok else "no answer",
                ),
            )


async def transition(
    runtime: Runtime,
    tenant: Tenant,
    server_id: uuid.UUID,
    at: datetime,
    from_status: str,
    to_status: str,
    reason: str = "check",
) -> int:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        row = await HealthRepository(session).add_transition(
            HealthTransition(
                org_id=tenant.org_id,
                server_id=server_id,
                at=at,
                from_status=from_status,
                to_status=to_status,
                reason=reason,
            )
        )
        return row.id
