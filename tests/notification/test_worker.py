"""The whole path with a real worker: outbox event, relay, dispatch job, delivery job, SMTP."""

from __future__ import annotations

import asyncio

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.jobs import context
from sprintconnect.jobs.outbox import ROUTES, emit, relay_once
from sprintconnect.notification.tasks import build_blueprint
from tests.conftest import Tenant
from tests.jobs.conftest import running_worker
from tests.notification.conftest import Env, add_server, deliveries, payload


async def test_health_event_is_emailed_through_the_job_system(env: Env, tenant: Tenant) -> None:
    for topic in ("unhealthy", "degraded", "recovered"):
        assert ROUTES[f"server.health.{topic}"].task == "sc:notification.dispatch"
    server = await add_server(env, tenant, name="billing")
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await emit(
            session,
            org_id=tenant.org_id,
            topic="server.health.unhealthy",
            payload=payload(server, "unhealthy", "healthy", 7),
            key=f"health:{server.id}:7",
        )
    context.install(env.services)
    async with running_worker(env.runtime, build_blueprint(), "notifications"):
        assert await relay_once(env.runtime.db.sessionmaker) >= 1
        deadline = asyncio.get_running_loop().time() + 30
        while [r["status"] for r in await deliveries(env, tenant)] != ["sent"]:
            assert asyncio.get_running_loop().time() < deadline, "the delivery was not sent"
            await asyncio.sleep(0.1)
    [message] = [m for m in env.mailbox.messages if server.name in m["Subject"]]
    assert "unhealthy" in message["Subject"]
