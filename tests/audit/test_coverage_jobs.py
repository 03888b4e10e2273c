"""Every background job is classified: the audit entry it writes, or why it writes none.

Adding a task to the job app? Add it to ``JOBS``: the tag its state change records (in the
job's transaction), or ``None`` with the reason it changes nothing an organization would
audit. ``test_every_task_is_classified`` fails until the task is listed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from sprintconnect.app import create_app
from sprintconnect.audit import AuditTag
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.runner import run_discovery
from sprintconnect.jobs.app import build_job_app
from sprintconnect.jobs.context import TaskServices
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime, build_runtime
from sprintconnect.secret.factory import build_secret_store
from tests.conftest import TenantFactory, make_settings
from tests.discovery.servers import changing_server, serving, streamable

# Task name -> (the tag it records, or None; why).
JOBS: dict[str, tuple[AuditTag | None, str]] = {
    "discovery.run": (
        AuditTag.DISCOVERY_COMPLETED,
        "stores a new capability snapshot; an unchanged one is only confirmed",
    ),
    "health.check": (
        None,
        "an observation, kept as health history (checks, transitions); a check someone asked "
        "for is audited by the request (org:server_health:checked)",
    ),
    "health.prune": (None, "retention of raw checks already summed into rollups"),
    "gateway.prune": (None, "retention of raw call measurements (each call is audited)"),
    "notification.dispatch": (None, "sends messages; the notification domain keeps them"),
    "notification.deliver": (None, "sends messages; the notification domain keeps them"),
    "notification.remind": (None, "sends reminders; the notification domain keeps them"),
    "webhook.fanout": (None, "queues deliveries; each attempt is kept in the delivery history"),
    "webhook.deliver": (
        None,
        "an attempt, kept in the delivery history; disabling an endpoint is audited "
        "(org:webhook:disabled)",
    ),
    "webhook.sweep": (None, "finds due deliveries; each attempt is kept in the history"),
    # The audit log's own machinery (Merkle leaves, signed checkpoints): auditing it would
    # audit itself; checkpoints are published and verifiable on their own.
    "audit.ledger": (None, "the audit ledger itself"),
    "tokens.rotate_keys": (
        AuditTag.TOKEN_KEY_ROTATED,
        "a new token signing key (platform-wide); nothing happens while the current one is young",
    ),
}
# procrastinate's own maintenance tasks, not ours.
_BUILTIN = "procrastinate."


def test_every_task_is_classified(runtime: Runtime) -> None:
    app = build_job_app(runtime.db)
    # The last part: procrastinate prefixes its shared built-in blueprint's names again with
    # every app a process creates (``builtin:builtin:procrastinate...`` in a long test run).
    names = {name.rpartition(":")[2] for name in app.tasks}
    served = {name for name in names if not name.startswith(_BUILTIN)}
    unlisted = sorted(served - set(JOBS))
    assert not unlisted, f"jobs neither audited nor exempted in JOBS: {unlisted}"
    assert not sorted(set(JOBS) - served), "JOBS names tasks the job app no longer has"
    for tag, reason in JOBS.values():
        assert tag is not None or reason


@pytest.fixture
async def loopback_runtime(runtime: Runtime) -> AsyncIterator[Runtime]:
    """The tests' database, with loopback reachable (the MCP server below is on loopback)."""
    settings = make_settings(
        str(runtime.settings.database_url.get_secret_value())
        if runtime.settings.database_url
        else None,
        runtime.settings.data_dir,
        egress_allow_loopback=True,
    )
    rt = build_runtime(settings, clock=runtime.clock)
    yield rt
    await rt.db.dispose()


async def test_a_discovery_that_stores_a_snapshot_is_audited(
    loopback_runtime: Runtime, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    app = create_app(runtime=loopback_runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        with serving(streamable(changing_server())) as base:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                registered = await client.post(
                    "/api/v1/servers",
                    json={"name": f"jobs-{uuid.uuid4().hex[:6]}", "url": f"{base}/mcp"},
                    headers=tenant.headers,
                )
                assert registered.status_code == 201, registered.text
            discovery_id = uuid.UUID(registered.json()["discovery_id"])
            services = TaskServices(
                runtime=loopback_runtime, secrets=build_secret_store(loopback_runtime)
            )
            outcome = await run_discovery(services, discovery_id=discovery_id, org_id=tenant.org_id)
            assert outcome == "succeeded"
            # A second run of the same finished discovery changes nothing and records nothing.
            again = await run_discovery(services, discovery_id=discovery_id, org_id=tenant.org_id)
            assert again == "skipped"
    async with loopback_runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        stmt = select(AuditEvent).where(AuditEvent.tag == str(AuditTag.DISCOVERY_COMPLETED))
        entries = list((await session.scalars(stmt)).all())
    [entry] = entries
    assert (entry.actor_type, entry.actor_id) == ("system", "discovery")
    assert entry.target_id == registered.json()["server"]["id"]
    assert entry.details["discovery_id"] == str(discovery_id)
    assert entry.details["outcome"] == "first"
    assert entry.details["version"] == 1
    assert entry.details["items"] > 0
