"""The scheduler: due times without drift, catch-up spread, pause and delete, no double check
across schedulers, a worker killed mid-check, the database going away."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from sqlalchemy.exc import OperationalError

from sprintconnect.health import scheduler as scheduler_module
from sprintconnect.health.scheduler import HealthScheduler, next_due, spread_fraction
from tests.conftest import TEST_SECRET
from tests.fixtures.flaky_server import FlakyServer
from tests.health.check_support import CHECK_TIMEOUT, HealthDb, path_name
from tests.integration.processes import CLI, cli_env

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_the_next_check_is_one_interval_after_the_previous_due_time() -> None:
    server = uuid.uuid4()
    # Ran 4 s late: still due exactly 300 s after the previous due time (no drift).
    assert next_due(T0, 300, T0 + timedelta(seconds=4), server) == T0 + timedelta(seconds=300)


def test_a_schedule_behind_by_an_interval_skips_the_missed_slots_and_spreads() -> None:
    now = T0 + timedelta(seconds=1000)
    servers = [uuid.uuid4() for _ in range(50)]
    dues = [next_due(T0, 300, now, s) for s in servers]
    assert all(now <= d < now + timedelta(seconds=300) for d in dues)
    assert len({d for d in dues}) > 40  # spread over the interval, not all at once
    # Deterministic per server: the same server lands at the same point every time.
    assert next_due(T0, 300, now, servers[0]) == dues[0]
    assert 0 <= spread_fraction(servers[0]) < 1


async def test_a_five_minute_interval_is_honoured(h: HealthDb, flaky: FlakyServer) -> None:
    tenant = await h.tenant()
    name = path_name()
    sid = (await h.register(tenant, flaky.url(name), health={"interval_seconds": 300}))["server"][
        "id"
    ]
    due = await h.due_now(tenant, sid)
    scheduler = h.scheduler("test-a")
    dues = [due]
    for _ in range(3):
        recorded = [r for r in await scheduler.run_once() if str(r.server_id) == sid]
        assert len(recorded) == 1
        row = await h.health_row(tenant, sid)
        assert row.lease_until is None
        assert row.leased_by is None
        dues.append(row.next_check_at)
        # Nothing is due until the clock reaches the next due time.
        assert not [r for r in await scheduler.run_once() if str(r.server_id) == sid]
        h.clock.offset += row.next_check_at - h.clock.now() + timedelta(seconds=2)
    steps = [(b - a).total_seconds() for a, b in itertools.pairwise(dues)]
    assert steps == [300.0, 300.0, 300.0]
    checks = await h.checks(tenant, sid)
    assert [c.trigger for c in checks] == ["scheduled"] * 3
    assert flaky.stats(name).initializes == 3


async def test_paused_and_deleted_servers_are_not_checked(h: HealthDb, flaky: FlakyServer) -> None:
    tenant = await h.tenant()
    paused = (await h.register(tenant, flaky.url(path_name())))["server"]["id"]
    deleted = (await h.register(tenant, flaky.url(path_name())))["server"]["id"]
    await h.due_now(tenant, paused)
    await h.due_now(tenant, deleted)
    patched = await h.client.patch(
        f"/api/v1/servers/{paused}", json={"health": {"enabled": False}}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["health"]["enabled"] is False
    gone = await h.client.delete(f"/api/v1/servers/{deleted}", headers=tenant.headers)
    assert gone.status_code == 204
    checked = {str(r.server_id) for r in await h.scheduler().run_once()}
    assert paused not in checked
    assert deleted not in checked
    assert await h.checks(tenant, paused) == []


async def test_two_schedulers_never_check_one_server_twice(h: HealthDb, flaky: FlakyServer) -> None:
    tenant = await h.tenant()
    names = [path_name() for _ in range(6)]
    ids = []
    for name in names:
        sid = (await h.register(tenant, flaky.url(name)))["server"]["id"]
        await h.due_now(tenant, sid)
        ids.append(sid)
    flaky.set_mode("slow", delay=0.2)  # checks overlap in time
    first, second = h.scheduler("one"), h.scheduler("two")
    results = await asyncio.gather(first.run_once(), first.run_once(), second.run_once())
    checked = [str(r.server_id) for batch in results for r in batch if str(r.server_id) in ids]
    assert sorted(checked) == sorted(ids)  # each exactly once
    for name, sid in zip(names, ids, strict=True):
        assert flaky.stats(name).initializes == 1
        assert flaky.stats(name).max_open_sessions == 1
        assert len(await h.checks(tenant, sid)) == 1


WORKER_SCRIPT = """
import asyncio, sys
from sprintconnect.app import create_app
from sprintconnect.config import Settings
from sprintconnect.health.scheduler import HealthScheduler
from sprintconnect.jobs.context import TaskServices
from sprintconnect.runtime import build_runtime

async def main():
    runtime = build_runtime(Settings())
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        services = TaskServices(runtime=runtime, secrets=app.state.secret_store)
        await HealthScheduler(services, name="doomed").run_once()
    print("finished", flush=True)

asyncio.run(main())
"""


async def test_a_worker_killed_mid_check_loses_nothing(
    h: HealthDb, flaky: FlakyServer, tmp_path: Path
) -> None:
    tenant = await h.tenant()
    name = path_name()
    sid = (await h.register(tenant, flaky.url(name)))["server"]["id"]
    await h.due_now(tenant, sid)
    flaky.set_mode("hang", name=name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTCONNECT_")}
    env.update(
        SPRINTCONNECT_DATABASE_URL=h.url,
        SPRINTCONNECT_DATA_DIR=str(h.data_dir),
        SPRINTCONNECT_SECRET_KEY=TEST_SECRET,
        SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK="true",
        SPRINTCONNECT_INPROCESS_WORKER="false",
        SPRINTCONNECT_HEALTH_CHECK_TIMEOUT_SECONDS="600",
        SPRINTCONNECT_LOG_FORMAT="json",
    )
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once; the test then polls it
        [sys.executable, "-c", WORKER_SCRIPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):  # the worker's check reached the server, and hangs there
            if flaky.stats(name).initializes >= 1:
                break
            assert proc.poll() is None, proc.communicate()[0].decode()[-3000:]
            await asyncio.sleep(0.05)
        assert flaky.stats(name).initializes == 1
        row = await h.health_row(tenant, sid)
        assert row.leased_by == "doomed"
        lease_until = row.lease_until
        assert lease_until is not None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    flaky.set_mode("ok", name=name)
    assert await h.checks(tenant, sid) == []
    survivor = h.scheduler("survivor")
    # The lease still holds: nobody else checks the server yet.
    assert not [r for r in await survivor.run_once() if str(r.server_id) == sid]
    h.clock.offset += lease_until - h.clock.now() + timedelta(seconds=1)
    recorded = [r for r in await survivor.run_once() if str(r.server_id) == sid]
    assert len(recorded) == 1
    assert [c.outcome for c in await h.checks(tenant, sid)] == ["healthy"]
    assert (await h.health_row(tenant, sid)).leased_by is None


async def test_the_loop_survives_the_database_going_away(
    h: HealthDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheduler = h.scheduler("loop")
    scheduler.poll_seconds = 0.01
    calls = {"n": 0}
    real_claim = HealthScheduler.claim
    resumed = asyncio.Event()

    async def claim(self: HealthScheduler, limit: int) -> object:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("database away"))
        resumed.set()
        return await real_claim(self, limit)

    monkeypatch.setattr(HealthScheduler, "claim", claim)
    monkeypatch.setattr(scheduler_module, "MAX_BACKOFF_SECONDS", 0.05)
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def short_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await real_sleep(min(seconds, 0.01))

    scheduler.sleep = short_sleep
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(scheduler.run_forever())
        await asyncio.wait_for(resumed.wait(), 10)
        for _ in range(500):  # until the loop has noticed the database is back
            if any(entry["event"] == "health.database_available" for entry in logs):
                break
            await real_sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    events = [entry["event"] for entry in logs]
    assert events.count("health.database_unavailable") == 1  # once per outage
    assert "health.database_available" in events
    assert sleeps[:3] == [1.0, 0.05, 0.05]  # backed off, capped at the (patched) maximum


def test_timeout_setting_is_the_lease_base(h: HealthDb) -> None:
    assert h.scheduler().lease_seconds == int(CHECK_TIMEOUT) + scheduler_module.LEASE_MARGIN_SECONDS


def _sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(name, labels or None)
    return float(value or 0.0)


async def test_metrics_count_checks_lag_and_stale_servers(h: HealthDb, flaky: FlakyServer) -> None:
    tenant = await h.tenant()
    sid = (await h.register(tenant, flaky.url(path_name())))["server"]["id"]
    await h.set_health(tenant, sid, next_check_at=h.clock.now() - timedelta(seconds=30))
    checks = _sample("sprintconnect_health_checks_total", outcome="healthy", check_type="ping")
    lags = _sample("sprintconnect_health_schedule_lag_seconds_count")
    lag_sum = _sample("sprintconnect_health_schedule_lag_seconds_sum")
    scheduler = h.scheduler()
    assert [r for r in await scheduler.run_once() if str(r.server_id) == sid]
    assert (
        _sample("sprintconnect_health_checks_total", outcome="healthy", check_type="ping")
        == checks + 1
    )
    assert _sample("sprintconnect_health_schedule_lag_seconds_count") == lags + 1
    assert _sample("sprintconnect_health_schedule_lag_seconds_sum") - lag_sum >= 30
    assert await scheduler.refresh_stale() == 0
    h.clock.offset += timedelta(seconds=601)  # twice the 300 s interval, and a second
    assert await scheduler.refresh_stale() == 1
    assert _sample("sprintconnect_health_stale_servers") == 1


async def test_two_worker_processes_check_each_server_once(
    h: HealthDb, flaky: FlakyServer, tmp_path: Path
) -> None:
    """Real ``sprintconnect worker`` processes, each running the scheduler."""
    tenant = await h.tenant()
    names = [path_name() for _ in range(8)]
    ids = []
    for name in names:
        sid = (await h.register(tenant, flaky.url(name), health={"interval_seconds": 3600}))[
            "server"
        ]["id"]
        await h.set_health(tenant, sid, next_check_at=datetime.now(UTC) + timedelta(seconds=3))
        ids.append(sid)
    flaky.set_mode("slow", delay=0.3)
    env = cli_env(
        h.data_dir,
        h.url,
        SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK="true",
        SPRINTCONNECT_HEALTH_CHECK_TIMEOUT_SECONDS="10",
        # Few slots each, so that both processes find due servers while the other is busy.
        SPRINTCONNECT_HEALTH_CONCURRENCY="3",
    )
    procs = []
    try:
        for index in range(2):
            with (tmp_path / f"worker-{index}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(  # noqa: ASYNC220 - started once, then polled
                        [*CLI, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
        for _ in range(600):
            done = [len(await h.checks(tenant, sid)) for sid in ids]
            if all(done):
                break
            for proc in procs:
                assert proc.poll() is None, (tmp_path / "worker-0.log").read_text()[-3000:]
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # anything checked twice would show by now
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    for name, sid in zip(names, ids, strict=True):
        assert len(await h.checks(tenant, sid)) == 1, sid
        assert flaky.stats(name).initializes == 1
        assert flaky.stats(name).max_open_sessions == 1
    workers = {(await h.health_row(tenant, sid)).leased_by for sid in ids}
    assert workers == {None}  # every lease released
    logs = "".join((tmp_path / f"worker-{i}.log").read_text() for i in range(2))
    assert logs.count("health.scheduler_started") == 2
