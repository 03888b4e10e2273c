"""A database of the notification tests' own, with a real SMTP server and an app on loopback.

Own database: the tests relay outbox events and run jobs, which must not meet other packages'
events. Time comes from a shiftable clock, moved by the cool-down and reminder tests.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.outbox import emit
from sprintconnect.models import McpServer
from sprintconnect.notification.dispatch import Outcome, dispatch_event
from sprintconnect.runtime import Runtime
from tests.conftest import Member, ShiftableClock, Tenant
from tests.fixtures.isolated_app import isolated_app
from tests.fixtures.smtp import Mailbox, running_smtp
from tests.jobs.conftest import new_tenant


@dataclass
class Env:
    runtime: Runtime
    client: httpx.AsyncClient
    clock: ShiftableClock
    mailbox: Mailbox
    services: TaskServices

    def with_settings(self, **changes: Any) -> TaskServices:
        """The task services with some settings changed (another worker's configuration)."""
        settings = self.runtime.settings.model_copy(update=changes)
        runtime = dataclasses.replace(self.runtime, settings=settings)
        return dataclasses.replace(self.services, runtime=runtime)


@pytest.fixture(scope="package")
def package_mailbox() -> Iterator[Mailbox]:
    with running_smtp() as mailbox:
        yield mailbox


@pytest.fixture(scope="package")
async def package_env(pg_admin: str, scratch: Path, package_mailbox: Mailbox) -> AsyncIterator[Env]:
    clock = ShiftableClock()
    async with isolated_app(
        pg_admin,
        scratch / "notification-data",
        prefix="sc_notif",
        clock=clock,
        smtp_host="127.0.0.1",
        smtp_port=package_mailbox.port,
        smtp_tls="none",
        smtp_sender="alerts@sprintconnect.example.com",
        smtp_timeout_seconds=3.0,
        notification_max_attempts=3,
    ) as app:
        yield Env(
            runtime=app.runtime,
            client=app.client,
            clock=clock,
            mailbox=package_mailbox,
            services=app.services,
        )


@pytest.fixture
def env(package_env: Env) -> Iterator[Env]:
    package_env.mailbox.messages.clear()
    package_env.mailbox.recipients.clear()
    yield package_env
    package_env.clock.offset = timedelta()


@pytest.fixture
async def tenant(package_env: Env) -> Tenant:
    return await new_tenant(package_env.runtime)


async def add_member(env: Env, tenant: Tenant, roles: list[str]) -> Member:
    """A member with ``roles`` and an ``admin``-scoped key (bounded by the roles)."""
    email = f"member-{uuid.uuid4().hex[:10]}@example.com"
    added = await env.client.post(
        "/api/v1/users", json={"email": email, "roles": roles}, headers=tenant.headers
    )
    assert added.status_code == 201, added.text
    user_id = uuid.UUID(added.json()["user_id"])
    issued = await env.client.post(
        f"/api/v1/users/{user_id}/api-keys",
        json={"name": "member key", "scopes": ["admin"], "never_expires": True},
        headers=tenant.headers,
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    return Member(user_id=user_id, key_id=uuid.UUID(body["api_key"]["id"]), key=body["key"])


async def add_server(
    env: Env, tenant: Tenant, *, name: str = "weather", environment: str = "staging"
) -> McpServer:
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        server = McpServer(
            id=uuid.uuid4(),
            org_id=tenant.org_id,
            name=f"{name}-{uuid.uuid4().hex[:6]}",
            url="http://127.0.0.1:9/mcp",
            transport="streamable_http",
            environment=environment,
            tags=[],
            status="active",
            auth_type="none",
            auth_config={},
            auto_discover=False,
        )
        session.add(server)
        await session.flush()
        session.expunge(server)
    return server


_TRANSITIONS = {"unhealthy": "unhealthy", "degraded": "degraded", "healthy": "recovered"}


def payload(server: McpServer, status: str, previous: str, transition_id: int) -> dict[str, Any]:
    """An event body as the health checker writes it."""
    failing = status != "healthy"
    return {
        "server_id": str(server.id),
        "server_name": server.name,
        "environment": server.environment,
        "status": status,
        "previous_status": previous,
        "at": "2026-11-28T10:00:00+00:00",
        "transition_id": transition_id,
        "error_class": "connection_refused" if failing else None,
        "message": "Connection refused" if failing else None,
        "failure_streak": 3 if failing else 0,
        "response_ms": None if failing else 12.5,
    }


async def fire(
    env: Env, tenant: Tenant, server: McpServer, status: str, previous: str, transition_id: int
) -> Outcome:
    """Emit a health event through the outbox and dispatch it as the job would."""
    body = payload(server, status, previous, transition_id)
    key = f"health:{server.id}:{transition_id}"
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await emit(
            session,
            org_id=tenant.org_id,
            topic=f"server.health.{_TRANSITIONS[status]}",
            payload=body,
            key=key,
        )
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        return await dispatch_event(
            session, org_id=tenant.org_id, payload=body, event_key=key, now=env.clock.now()
        )


async def deliveries(env: Env, tenant: Tenant) -> list[dict[str, Any]]:
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = await session.execute(
            text(
                "SELECT id, user_id, channel, topic, status, attempts, last_error, address "
                "FROM notification_deliveries ORDER BY created_at, id"
            )
        )
        return [dict(r._mapping) for r in rows]
