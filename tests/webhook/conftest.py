"""A database of the webhook tests' own, an app on it, a loopback receiver, and helpers that
move events along (outbox, fan-out, sender) as the jobs would, on a clock the tests move.

Own database: the tests relay outbox events and look at jobs, which must not meet other
packages' events.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.outbox import relay_once
from sprintconnect.mcp_server.connector import Network
from sprintconnect.runtime import Runtime
from sprintconnect.webhook.delivery import drain
from sprintconnect.webhook.events import fan_out
from tests.conftest import ShiftableClock, Tenant
from tests.fixtures.isolated_app import isolated_app
from tests.jobs.conftest import new_tenant


@dataclass
class Env:
    runtime: Runtime
    client: httpx.AsyncClient
    clock: ShiftableClock
    services: TaskServices
    fanned: set[int] = field(default_factory=set)

    def with_network(self, network: Network) -> TaskServices:
        return dataclasses.replace(self.services, network=network)


@pytest.fixture(scope="package")
async def package_env(pg_admin: str, scratch: Path) -> AsyncIterator[Env]:
    clock = ShiftableClock()
    async with isolated_app(
        pg_admin,
        scratch / "webhook-data",
        prefix="sc_webhook",
        clock=clock,
        webhook_timeout_seconds=3.0,
        webhook_max_endpoints=5,
    ) as app:
        yield Env(runtime=app.runtime, client=app.client, clock=clock, services=app.services)


@pytest.fixture
def env(package_env: Env) -> Iterator[Env]:
    yield package_env
    package_env.clock.offset = timedelta()


@pytest.fixture
async def tenant(package_env: Env) -> Tenant:
    return await new_tenant(package_env.runtime)


async def create_webhook(
    env: Env, tenant: Tenant, url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    response = await env.client.post(
        "/api/v1/webhooks",
        json={"url": url, "event_types": events, **extra},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fan(env: Env, tenant: Tenant) -> int:
    """Relay the outbox and run the fan-out jobs of ``tenant`` not run yet, in order."""
    await relay_once(env.runtime.db.sessionmaker, limit=1000)
    async with env.runtime.db.sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                text(
                    "SELECT id, args FROM procrastinate_jobs WHERE task_name = "
                    "'sc:webhook.fanout' AND args->>'org_id' = :org ORDER BY id"
                ),
                {"org": str(tenant.org_id)},
            )
        ).all()
    count = 0
    for row in rows:
        if row.id in env.fanned:
            continue
        env.fanned.add(row.id)
        args = dict(row.args if isinstance(row.args, dict) else json.loads(row.args))
        org_id = UUID(args.pop("org_id"))
        async with env.runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            count += len(
                await fan_out(
                    session,
                    org_id=org_id,
                    topic=args.pop("topic"),
                    event_key=args.pop("event_key"),
                    payload=args,
                    now=env.clock.now(),
                )
            )
    return count


async def send(
    env: Env, tenant: Tenant, webhook_id: str, services: TaskServices | None = None
) -> int:
    return await drain(services or env.services, org_id=tenant.org_id, endpoint_id=UUID(webhook_id))


async def deliveries(env: Env, tenant: Tenant, webhook_id: str) -> list[dict[str, Any]]:
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = await session.execute(
            text(
                "SELECT id, event_type, status, attempts, next_attempt_at, payload "
                "FROM webhook_deliveries WHERE endpoint_id = :e ORDER BY seq"
            ),
            {"e": webhook_id},
        )
        return [dict(r._mapping) for r in rows]


async def later(env: Env, hours: float = 25) -> None:
    """Move the clock past any retry wait."""
    env.clock.offset += timedelta(hours=hours)
