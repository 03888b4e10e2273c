"""The outbox relay wakes on NOTIFY, and polling still does the work when notifications fail.

Each test runs a job runner on a database of its own (no other test's jobs there). Events use
a topic with no route, so the relay only marks them dispatched: whether that happened is the
observable. No timing is asserted: "before the poll" means with a poll interval of an hour.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from sprintconnect.db import migrate
from sprintconnect.db.owner import owner_transaction
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.db.urls import normalize
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.outbox import CHANNEL, Wakeup, emit
from sprintconnect.jobs.runner import JobRunner
from sprintconnect.models import OutboxEvent
from sprintconnect.runtime import Runtime, build_runtime
from sprintconnect.secret import build_secret_store
from tests import services
from tests.conftest import make_settings
from tests.jobs.conftest import new_tenant


@pytest.fixture(scope="module")
def wake_db(pg_admin: str, scratch: Path) -> Iterator[str]:
    url = services.create_database(pg_admin, prefix="sc_wake")
    migrate.upgrade(build_runtime(make_settings(url, scratch / "wake-data")).db)
    yield url
    services.drop_database(pg_admin, url)


@pytest.fixture
async def start(wake_db: str, scratch: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[Runtime, JobRunner]] = []

    async def run(
        poll: float, wakeup: Wakeup | None = None, job_poll: float = 5.0
    ) -> tuple[Runtime, JobRunner]:
        rt = build_runtime(make_settings(wake_db, scratch / "wake-data", outbox_poll_seconds=poll))
        runner = JobRunner(TaskServices(runtime=rt, secrets=build_secret_store(rt)))
        if wakeup is not None:
            runner.wakeup = wakeup
        runner.job_poll_seconds = job_poll
        await runner.start()
        started.append((rt, runner))
        return rt, runner

    yield run
    for rt, runner in started:
        await runner.stop()
        await rt.db.dispose()


async def emit_event(
    rt: Runtime, topic: str = "tests.wakeup", payload: dict[str, str] | None = None
) -> str:
    tenant = await new_tenant(rt)
    key = f"tests:{uuid.uuid4()}"
    async with rt.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await emit(session, org_id=tenant.org_id, topic=topic, payload=payload or {}, key=key)
    return key


async def job_succeeded(rt: Runtime, discovery_id: str, seconds: float = 20.0) -> bool:
    """Whether the discovery job for ``discovery_id`` has run to success within ``seconds``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        async with owner_transaction(rt.db) as session:
            state = await session.scalar(
                text(
                    "SELECT status::text FROM procrastinate_jobs WHERE args->>'discovery_id' = :id"
                ),
                {"id": discovery_id},
            )
        if state == "succeeded":
            return True
        await asyncio.sleep(0.05)
    return False


async def relayed(rt: Runtime, key: str, seconds: float = 20.0) -> bool:
    """Whether the event is marked dispatched within ``seconds`` (a generous bound)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        async with owner_transaction(rt.db) as session:
            done = await session.scalar(
                select(OutboxEvent.dispatched_at).where(OutboxEvent.idempotency_key == key)
            )
        if done is not None:
            return True
        await asyncio.sleep(0.05)
    return False


def listener_pids(admin: str, url: str) -> list[int]:
    from sqlalchemy.engine import make_url

    engine = create_engine(normalize(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        pids = conn.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :db AND query = :q"),
            {"db": make_url(url).database, "q": f"LISTEN {CHANNEL}"},
        ).all()
    engine.dispose()
    return list(pids)


def terminate(admin: str, pids: list[int]) -> None:
    engine = create_engine(normalize(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


async def test_a_new_event_wakes_the_relay_long_before_its_poll(start: Any) -> None:
    rt, runner = await start(poll=3600.0)
    await asyncio.wait_for(runner.wakeup.listening.wait(), 20)
    await asyncio.sleep(0.2)  # let the relay's first pass end: it then sleeps for the hour
    key = await emit_event(rt)
    assert await relayed(rt, key)


async def test_a_deferred_job_wakes_the_worker_long_before_its_poll(start: Any) -> None:
    # Both polls at an hour: only the outbox NOTIFY and procrastinate's own NOTIFY can get the
    # job run. A discovery that does not exist is skipped, so the job simply succeeds.
    rt, runner = await start(poll=3600.0, job_poll=3600.0)
    await asyncio.wait_for(runner.wakeup.listening.wait(), 20)
    await asyncio.sleep(0.5)  # the first passes end; procrastinate's listener is in place
    discovery_id = str(uuid.uuid4())
    payload = {"discovery_id": discovery_id, "server_id": str(uuid.uuid4())}
    await emit_event(rt, topic="discovery.requested", payload=payload)
    assert await job_succeeded(rt, discovery_id)


async def test_without_notifications_the_poll_still_relays(start: Any) -> None:
    # A listener that can never connect: no notification ever arrives.
    rt, _runner = await start(poll=0.2, wakeup=Wakeup("postgresql://127.0.0.1:1/nowhere"))
    key = await emit_event(rt)
    assert await relayed(rt, key)


async def test_a_killed_listen_connection_loses_no_event_and_comes_back(
    start: Any, pg_admin: str, wake_db: str
) -> None:
    rt, runner = await start(poll=0.2)
    await asyncio.wait_for(runner.wakeup.listening.wait(), 20)
    before = listener_pids(pg_admin, wake_db)
    assert before
    terminate(pg_admin, before)
    key = await emit_event(rt)  # sent while the listener may be gone: the poll finds it
    assert await relayed(rt, key)
    deadline = asyncio.get_running_loop().time() + 20
    while not set(listener_pids(pg_admin, wake_db)) - set(before):
        assert asyncio.get_running_loop().time() < deadline, "LISTEN never came back"
        await asyncio.sleep(0.1)


async def test_a_worker_pruned_by_another_process_comes_back(start: Any, wake_db: str) -> None:
    # Another process's stalled-worker check deletes this worker's row (its heartbeats were
    # late). The worker's next fetch fails; the runner starts a new worker, and jobs run again.
    rt, _ = await start(poll=3600.0, job_poll=0.2)
    async with owner_transaction(rt.db) as session:
        await session.execute(text("DELETE FROM procrastinate_workers"))
    discovery_id = str(uuid.uuid4())
    payload = {"discovery_id": discovery_id, "server_id": str(uuid.uuid4())}
    await emit_event(rt, topic="discovery.requested", payload=payload)
    assert await job_succeeded(rt, discovery_id, seconds=60.0)
