"""A database of the health-check tests' own (schedulers claim due servers of every tenant, so
they must not meet other packages' servers), an app on it, and helpers.

Test modules import the fixtures they use from here (``from tests.health.check_support import
hdb``), so that pytest finds them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from sprintconnect.app import create_app
from sprintconnect.db import migrate
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.health.scheduler import HealthScheduler
from sprintconnect.jobs.context import TaskServices
from sprintconnect.mcp_server.connector import Network
from sprintconnect.models import HealthCheck, OutboxEvent, ServerHealth
from sprintconnect.runtime import Runtime, build_runtime
from tests import services
from tests.conftest import ShiftableClock, Tenant, make_settings
from tests.egress.support import LoopbackOnly1, LoopbackOnly2
from tests.fixtures.flaky_server import FlakyServer
from tests.jobs.conftest import new_tenant

CHECK_TIMEOUT = 2.0
SETTINGS: dict[str, Any] = {
    "egress_allow_loopback": True,
    "health_check_timeout_seconds": CHECK_TIMEOUT,
    "health_min_interval_seconds": 60,
}


@dataclass
class HealthDb:
    url: str
    runtime: Runtime
    clock: ShiftableClock
    client: httpx.AsyncClient
    services: TaskServices
    data_dir: Path
    registered: list[tuple[Tenant, str]] = field(default_factory=list)

    def scheduler(self, name: str | None = None) -> HealthScheduler:
        return HealthScheduler(self.services, name=name)

    async def tenant(self) -> Tenant:
        return await new_tenant(self.runtime)

    async def register(
        self, tenant: Tenant, url: str, *, expect: int = 201, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "name": f"srv-{uuid.uuid4().hex[:8]}",
            "url": url,
            "environment": "staging",
            "auto_discover": False,
            **extra,
        }
        response = await self.client.post("/api/v1/servers", json=body, headers=tenant.headers)
        assert response.status_code == expect, response.text
        answer: dict[str, Any] = response.json()
        if response.status_code == 201:
            self.registered.append((tenant, answer["server"]["id"]))
        return answer

    async def health_row(self, tenant: Tenant, server_id: str | uuid.UUID) -> ServerHealth:
        async with self.runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            row = await session.scalar(
                select(ServerHealth).where(ServerHealth.server_id == uuid.UUID(str(server_id)))
            )
            assert row is not None
            return row

    async def set_health(self, tenant: Tenant, server_id: str | uuid.UUID, **values: Any) -> None:
        async with self.runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            await session.execute(
                update(ServerHealth)
                .where(ServerHealth.server_id == uuid.UUID(str(server_id)))
                .values(**values)
            )

    async def due_now(self, tenant: Tenant, server_id: str | uuid.UUID) -> datetime:
        """Make the server due now (by the test clock); its due time."""
        due = self.clock.now() - timedelta(seconds=1)
        await self.set_health(tenant, server_id, next_check_at=due)
        return due

    async def checks(self, tenant: Tenant, server_id: str | uuid.UUID) -> list[HealthCheck]:
        async with self.runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            rows = await session.scalars(
                select(HealthCheck)
                .where(HealthCheck.server_id == uuid.UUID(str(server_id)))
                .order_by(HealthCheck.id)
            )
            return list(rows)

    async def events(self, tenant: Tenant, prefix: str = "server.health.") -> list[OutboxEvent]:
        async with self.runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            rows = await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.topic.startswith(prefix))
                .order_by(OutboxEvent.id)
            )
            return list(rows)

    async def park_all(self) -> None:
        """Pause every server the tests registered, so later tests' schedulers skip them."""
        for tenant, server_id in self.registered:
            await self.set_health(tenant, server_id, enabled=False)
        self.registered.clear()


@pytest.fixture(scope="package")
async def hdb(pg_admin: str, scratch: Path) -> AsyncIterator[HealthDb]:
    url = services.create_database(pg_admin, prefix="sc_health")
    data_dir = scratch / "health-data"
    clock = ShiftableClock()
    runtime = build_runtime(make_settings(url, data_dir, **SETTINGS), clock=clock)
    try:
        migrate.upgrade(runtime.db)
        application = create_app(runtime=runtime)
        network = Network(backend=LoopbackOnly2(), httpx_backend=LoopbackOnly1())
        application.state.network = network
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                task_services = TaskServices(
                    runtime=runtime,
                    secrets=application.state.secret_store,
                    network=network,
                    tokens=application.state.token_cache,
                )
                yield HealthDb(url, runtime, clock, c, task_services, data_dir)
    finally:
        await runtime.db.dispose()
        services.drop_database(pg_admin, url)


@pytest.fixture
async def h(hdb: HealthDb) -> AsyncIterator[HealthDb]:
    """The health database; the test's servers are paused when it ends."""
    yield hdb
    await hdb.park_all()
    hdb.clock.offset = timedelta()


@pytest.fixture
async def flaky(flaky_server: FlakyServer) -> AsyncIterator[FlakyServer]:
    """The switchable server, back in ``ok`` mode after the test."""
    flaky_server.set_mode("ok")
    yield flaky_server
    flaky_server.set_mode("ok")


def path_name() -> str:
    return f"s{uuid.uuid4().hex[:10]}"
