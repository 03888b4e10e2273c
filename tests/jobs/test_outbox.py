"""The transactional outbox: one event per key, relayed to exactly one job."""

from __future__ import annotations

import contextlib
import json
import uuid

from sqlalchemy import func, select, text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.jobs.outbox import emit, relay_once
from sprintconnect.models import OutboxEvent
from tests.jobs.conftest import Isolated, new_tenant


class ChangeFailed(Exception):
    pass


async def test_the_same_key_twice_is_one_event(isolated: Isolated) -> None:
    runtime = isolated.runtime
    tenant = await new_tenant(runtime)
    key = f"tests:{uuid.uuid4()}"
    for version in (1, 2):  # a retried request, or a re-run job, emitting again
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            await emit(
                session,
                org_id=tenant.org_id,
                topic="server.capabilities.changed",
                payload={"version": version},
                key=key,
            )
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = (
            await session.scalars(select(OutboxEvent).where(OutboxEvent.idempotency_key == key))
        ).all()
    assert len(rows) == 1
    assert rows[0].payload == {"version": 1}  # the first one stands
    assert rows[0].dispatched_at is None


async def test_an_event_rolled_back_with_its_change_is_never_relayed(isolated: Isolated) -> None:
    runtime = isolated.runtime
    tenant = await new_tenant(runtime)
    key = f"tests:{uuid.uuid4()}"
    with contextlib.suppress(ChangeFailed):
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, tenant.org_id)
            await emit(session, org_id=tenant.org_id, topic="x", payload={}, key=key)
            raise ChangeFailed  # the change fails after emitting: all of it rolls back
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        count = await session.scalar(select(func.count()).where(OutboxEvent.idempotency_key == key))
    assert count == 0


async def test_relay_turns_a_discovery_request_into_exactly_one_job(isolated: Isolated) -> None:
    runtime = isolated.runtime
    sessionmaker = runtime.db.sessionmaker
    tenant = await new_tenant(runtime)
    while await relay_once(sessionmaker):  # what earlier tests left pending
        pass
    discovery_id, server_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await emit(
            session,
            org_id=tenant.org_id,
            topic="discovery.requested",
            payload={"discovery_id": discovery_id, "server_id": server_id},
            key=f"discovery:{discovery_id}",
        )
        await emit(
            session,
            org_id=tenant.org_id,
            topic="server.capabilities.changed",
            payload={"server_id": server_id, "version": 2},
            key=f"capabilities:{server_id}:2",
        )

    moved = await relay_once(sessionmaker)
    assert moved == 2
    assert await relay_once(sessionmaker) == 0  # claimed rows are never taken twice

    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        events = {
            e.topic: e
            for e in (
                await session.scalars(
                    select(OutboxEvent).where(OutboxEvent.org_id == tenant.org_id)
                )
            ).all()
        }
        assert all(e.dispatched_at is not None for e in events.values())
        requested = events["discovery.requested"]
        changed = events["server.capabilities.changed"]
        jobs = (
            await session.execute(
                text(
                    "SELECT id, task_name, queue_name, lock, queueing_lock, args, status "
                    "FROM procrastinate_jobs WHERE queueing_lock IN (:a, :b)"
                ),
                {"a": f"outbox:{requested.id}", "b": f"outbox:{changed.id}"},
            )
        ).all()
        # The capability change starts the webhook fan-out only (it has no other route).
        assert len(jobs) == 2
        [fanout] = [j for j in jobs if j.task_name == "sc:webhook.fanout"]
        assert fanout.queueing_lock == f"outbox:{changed.id}"
        assert fanout.lock == f"sc:webhook.fanout:{tenant.org_id}"
        [job] = [j for j in jobs if j.task_name == "sc:discovery.run"]
        assert job.task_name == "sc:discovery.run"
        assert job.queue_name == "discovery"
        assert job.lock == f"sc:discovery.run:{server_id}"
        assert job.queueing_lock == f"outbox:{requested.id}"
        assert str(job.status) == "todo"
        args = job.args if isinstance(job.args, dict) else json.loads(job.args)
        assert args == {
            "discovery_id": discovery_id,
            "server_id": server_id,
            "org_id": str(tenant.org_id),
            "event_key": f"discovery:{discovery_id}",
        }
        # Workers of the crash test share this database: this job is not theirs to run.
        for done in (job, fanout):
            await session.execute(
                text("DELETE FROM procrastinate_jobs WHERE id = :id"), {"id": done.id}
            )
