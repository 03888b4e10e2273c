"""The whole path with a real worker: audited change, outbox, relay, fan-out job, sender job,
receiver; and the sweep that starts a sender whatever became of its job."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.jobs import context
from sprintconnect.jobs.outbox import FAN_OUT, ROUTES, relay_once, routes
from sprintconnect.webhook.delivery import sweep
from sprintconnect.webhook.tasks import build_blueprint
from tests.conftest import Tenant
from tests.fixtures.receiver import Receiver
from tests.jobs.conftest import running_worker
from tests.webhook.conftest import Env, create_webhook, deliveries
from tests.webhook.support import event, signed_by


def test_health_events_start_notifications_and_webhooks() -> None:
    for kind in ("unhealthy", "degraded", "recovered"):
        tasks = [r.task for r in routes(f"server.health.{kind}")]
        assert tasks == ["sc:notification.dispatch", "sc:webhook.fanout"]
    assert [r.task for r in routes("audit.checkpoint")] == ["sc:webhook.fanout"]
    assert [r.task for r in routes("discovery.requested")] == ["sc:discovery.run"]
    assert routes("webhook.disabled") == ()
    assert "server.capabilities.changed" in FAN_OUT
    assert "server.capabilities.changed" not in ROUTES


async def test_an_event_goes_all_the_way_through_the_job_system(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["api_key.*"])
    created = await env.client.post(
        "/api/v1/api-keys", json={"name": "worker", "scopes": ["read"]}, headers=tenant.headers
    )
    assert created.status_code == 201
    context.install(env.services)
    async with running_worker(env.runtime, build_blueprint(), "webhooks"):
        await relay_once(env.runtime.db.sessionmaker)
        deadline = asyncio.get_running_loop().time() + 30
        while not receiver.requests:
            assert asyncio.get_running_loop().time() < deadline, "nothing was delivered"
            await asyncio.sleep(0.1)
        while [r["status"] for r in await deliveries(env, tenant, hook["id"])] != ["delivered"]:
            assert asyncio.get_running_loop().time() < deadline, "the delivery was not recorded"
            await asyncio.sleep(0.1)
    [request] = receiver.requests
    assert event(request)["type"] == "api_key.created"
    assert signed_by(hook["secret"], request)


async def test_the_sweep_starts_a_sender_for_due_deliveries(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            text(
                "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_key, event_type, "
                "occurred_at, payload, next_attempt_at) VALUES (gen_random_uuid(), :o, :e, "
                "'lost-job', 'server.registered', now(), '{}', now())"
            ),
            {"o": tenant.org_id, "e": hook["id"]},
        )
    async with env.runtime.db.sessionmaker() as session, session.begin():
        before = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'sc:webhook.deliver' "
                "AND args->>'endpoint_id' = :e"
            ),
            {"e": hook["id"]},
        )
    assert await sweep(env.services) >= 1
    async with env.runtime.db.sessionmaker() as session, session.begin():
        after = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'sc:webhook.deliver' "
                "AND args->>'endpoint_id' = :e"
            ),
            {"e": hook["id"]},
        )
    assert after == before + 1
