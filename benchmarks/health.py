"""Scheduled health checks: how many servers one (then two) worker processes keep checked.

Dataset, generated here: ``--servers`` (2,000) MCP servers on loopback. A ping needs nothing of
a server but a session, so each of ``--server-processes`` (4) uvicorn processes serves one tiny
``mcp`` SDK ``MCPServer`` (stateful streamable HTTP, the SDK defaults) mounted at
``/s/{n}/mcp`` for every ``n`` of its share: every registered server has its own URL, and
requests reach the same server object whatever ``n`` is.

SprintConnect: a scratch database (PostgreSQL on 127.0.0.1:5432 when it answers, else the
embedded one) is migrated, an organization bootstrapped (its server quota raised), and every
server registered through the HTTP app in-process with ``health: {interval_seconds:
--interval (60), check_type: ping}`` and ``auto_discover: false``; registration puts each
server's first check at a random point of its first interval, so checks are spread. The egress
guard allows loopback and its per-organization rate limit is raised so it does not throttle.

Workers: each worker is a separate process running a ``JobRunner`` (what ``sprintconnect
worker`` runs: procrastinate worker, outbox relay, stalled-job recovery and the health
scheduler, with the default ``health_concurrency`` and batch size). Phase one runs one worker,
phase two two workers at once, each for a warm-up (``--warmup``, default one interval: every
server has been checked once, the backlog of registration or of the previous phase's leases is
gone) and then ``--minutes`` (5) of measurement. In the measured window:

- checks per second: ``health_checks`` rows whose ``checked_at`` falls in the window, over its
  length (the schedule asks for servers / interval);
- schedule lag p50/p99/max: the scheduler's own value, a check's start minus its due time, the
  one it observes into ``sprintconnect_health_schedule_lag_seconds``; the worker process records
  each observation with its time as well, and sends them back when it stops;
- CPU seconds per check: user + system CPU time of the worker processes (psutil) over the
  window, divided by the checks in it (PostgreSQL's own CPU is not counted; the MCP server
  processes' CPU is shown beside it, as cores);
- double checks: from the raw rows of the whole run, a check of a server that began
  (``checked_at - response_ms``) before the server's previous check ended: must be zero; and
  how many consecutive checks of one server came less than half an interval apart;
- the ratio of a check's ``response_ms`` p50 (connect through the egress guard, initialize,
  ping) to a bare ``mcp`` SDK client's initialize + ping against the same servers, timed
  sequentially in this process (``--ping-rounds`` rounds) before the workers start.

The goal: one worker holds 2,000 servers at a 1-minute interval with a schedule lag p99 under
5 s. Run: ``python -m benchmarks health [--servers N --interval S --minutes M]``; about 14
minutes at the defaults (mostly the two 6-minute phases).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import secrets
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from .discovery import scratch_database
from .fleet import await_ports
from .stats import percentile

# -- the loopback MCP servers ----------------------------------------------------------------


def _serve_paths(ready: Connection) -> None:
    """Child process: one tiny MCP server, mounted at /s/{n}/mcp for any n."""
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from starlette.applications import Starlette
    from starlette.routing import Mount

    # CRITICAL: a check cut off when a worker stops is not worth a traceback here.
    server = MCPServer("ping-target", version="1.0.0", log_level="CRITICAL")

    @server.tool()
    def echo(text: str) -> str:
        """Return the text given."""
        return text

    inner = server.streamable_http_app(streamable_http_path="/mcp")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            yield

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ready.send(sock.getsockname()[1])
    ready.close()
    config = uvicorn.Config(
        Starlette(routes=[Mount("/s/{n:int}", app=inner)], lifespan=lifespan),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


@contextlib.contextmanager
def ping_fleet(servers: int, processes: int) -> Iterator[tuple[list[str], list[int]]]:
    """Start ``processes`` server processes; yield ``servers`` distinct MCP URLs over them and
    the processes' ids."""
    context = multiprocessing.get_context("spawn")
    children = []
    pipes = []
    try:
        for _ in range(processes):
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_serve_paths, args=(send,), daemon=True)
            child.start()
            send.close()
            children.append(child)
            pipes.append(receive)
        ports = await_ports(children, pipes, seconds=60)
        per = math.ceil(servers / processes)
        urls = [f"http://127.0.0.1:{ports[n // per]}/s/{n}/mcp" for n in range(servers)]
        yield urls, [child.pid for child in children if child.pid is not None]
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join()


# -- the bare SDK client ---------------------------------------------------------------------


async def bare_ping(url: str) -> None:
    """Initialize and ping, as a plain SDK client does."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.send_ping()


async def run_baseline(urls: list[str], rounds: int) -> list[float]:
    """Seconds per round, one round at a time, spread over the servers and processes."""
    step = max(1, len(urls) // rounds)
    picked = [urls[(n * step) % len(urls)] for n in range(rounds)]
    for base in sorted({u.split("/s/", 1)[0] for u in urls}):  # warm every process once
        await bare_ping(next(u for u in urls if u.startswith(base + "/")))
    durations = []
    for url in picked:
        started = time.perf_counter()
        await bare_ping(url)
        durations.append(time.perf_counter() - started)
    return durations


# -- the worker processes --------------------------------------------------------------------


class _LagRecorder:
    """Stands in for the schedule-lag histogram in a worker: observes into it and keeps every
    value with the wall-clock time it was observed at."""

    def __init__(self, histogram: Any) -> None:
        self.histogram = histogram
        self.samples: list[tuple[float, float]] = []

    def observe(self, amount: float, *args: Any, **kwargs: Any) -> None:
        self.samples.append((time.time(), amount))
        self.histogram.observe(amount, *args, **kwargs)


def _worker_process(options: dict[str, Any], conn: Connection) -> None:
    """Child process: a JobRunner, as ``sprintconnect worker`` runs it, until told to stop;
    then send back the schedule lags the scheduler observed."""
    asyncio.run(_worker_main(options, conn))


async def _worker_main(options: dict[str, Any], conn: Connection) -> None:
    from sprintconnect.config import Settings
    from sprintconnect.health import metrics
    from sprintconnect.jobs.context import TaskServices
    from sprintconnect.jobs.runner import JobRunner
    from sprintconnect.logging import configure_logging
    from sprintconnect.runtime import build_runtime
    from sprintconnect.secret import build_secret_store

    _quiet_logs(configure_logging)
    recorder = _LagRecorder(metrics.SCHEDULE_LAG)
    metrics.SCHEDULE_LAG = recorder  # type: ignore[assignment]
    runtime = build_runtime(Settings(**options))
    secret_store = build_secret_store(runtime)
    runner = JobRunner(TaskServices(runtime=runtime, secrets=secret_store))
    await runner.start()
    conn.send("started")
    try:
        await asyncio.to_thread(conn.recv)  # the parent's "stop"
    finally:
        await runner.stop()
        await secret_store.close()
        await runtime.db.dispose()
    conn.send(recorder.samples)
    conn.close()


def _quiet_logs(configure_logging: Any) -> None:
    """Log as in production (JSON, info), into a null stream."""
    configure_logging("info", "json")
    handler = logging.getLogger().handlers[0]
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115


@dataclass
class Phase:
    workers: int
    started: datetime  # the workers' start (the warm-up begins)
    window_start: datetime
    window_end: datetime
    cpu_seconds: float  # of the worker processes, over the window
    server_cpu_seconds: float  # of the MCP server processes, over the window
    lags: list[tuple[float, float]]  # (observed at, lag seconds), every worker, whole phase


async def run_phase(
    options: dict[str, Any], workers: int, warmup: float, seconds: float, server_pids: list[int]
) -> Phase:
    import psutil

    context = multiprocessing.get_context("spawn")
    children = []
    try:
        for _ in range(workers):
            mine, theirs = context.Pipe()
            child = context.Process(target=_worker_process, args=(options, theirs), daemon=True)
            child.start()
            theirs.close()
            children.append((child, mine))
        for _, mine in children:
            if not await asyncio.to_thread(mine.poll, 60) or mine.recv() != "started":
                raise RuntimeError("a worker process did not start")
        started = datetime.now(UTC)
        processes = [psutil.Process(child.pid) for child, _ in children]
        servers = [psutil.Process(pid) for pid in server_pids]
        await asyncio.sleep(warmup)
        window_start = datetime.now(UTC)
        cpu_before = sum(_cpu(p) for p in processes)
        server_before = sum(_cpu(p) for p in servers)
        await asyncio.sleep(seconds)
        cpu_after = sum(_cpu(p) for p in processes)
        server_after = sum(_cpu(p) for p in servers)
        window_end = datetime.now(UTC)
        for child, _ in children:
            if not child.is_alive():
                raise RuntimeError(f"worker process {child.pid} died during the run")
        lags: list[tuple[float, float]] = []
        for _, mine in children:
            mine.send("stop")
        for _, mine in children:
            if not await asyncio.to_thread(mine.poll, 60):
                raise RuntimeError("a worker process did not stop")
            lags += mine.recv()
        return Phase(
            workers,
            started,
            window_start,
            window_end,
            cpu_after - cpu_before,
            server_after - server_before,
            lags,
        )
    finally:
        for child, _ in children:
            child.join(30)
            if child.is_alive():
                child.kill()
                child.join()


def _cpu(process: Any) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


# -- SprintConnect setup and the numbers -----------------------------------------------------


async def register(
    urls: list[str], interval: int, options: dict[str, Any]
) -> tuple[Any, float, tuple[float, float]]:
    """Migrate, bootstrap and register every server through the app; (org id, seconds it
    took, first due times' spread after registration as (min, max) seconds from the end)."""
    from sqlalchemy import func, select

    from sprintconnect.api_key.service import ApiKeyService
    from sprintconnect.app import create_app
    from sprintconnect.config import Settings
    from sprintconnect.db import migrate
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.models import ServerHealth
    from sprintconnect.organization.service import bootstrap
    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(Settings(**options))
    await asyncio.to_thread(migrate.upgrade, runtime.db)
    async with runtime.db.sessionmaker() as session, session.begin():
        keys = ApiKeyService(session, runtime.keyring, runtime.clock)
        booted = await bootstrap(session, keys, org_name="Health Bench", email="bench@example.com")
    org_id = booted.organization.id
    headers = {"Authorization": f"Bearer {booted.api_key.plaintext}"}
    app = create_app(runtime=runtime)
    gate = asyncio.Semaphore(8)
    started = time.perf_counter()

    async def one(api: httpx.AsyncClient, n: int, url: str) -> None:
        async with gate:
            answer = await api.post(
                "/api/v1/servers",
                json={
                    "name": f"health-{n:05d}",
                    "url": url,
                    "environment": "production",
                    "auto_discover": False,
                    "health": {"interval_seconds": interval, "check_type": "ping"},
                },
                headers=headers,
            )
        if answer.status_code != 201:
            raise RuntimeError(f"registration failed: {answer.status_code} {answer.text}")

    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://sprintconnect"
            ) as api,
        ):
            await asyncio.gather(*(one(api, n, url) for n, url in enumerate(urls)))
        took = time.perf_counter() - started
        now = datetime.now(UTC)
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            first, last = (
                await session.execute(
                    select(
                        func.min(ServerHealth.next_check_at), func.max(ServerHealth.next_check_at)
                    )
                )
            ).one()
    finally:
        await runtime.db.dispose()
    return org_id, took, ((first - now).total_seconds(), (last - now).total_seconds())


@dataclass
class Counted:
    checks: int
    unhealthy: int
    response_ms: list[float]


async def count_window(options: dict[str, Any], org_id: Any, phase: Phase) -> Counted:
    from sqlalchemy import select

    from sprintconnect.config import Settings
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.models import HealthCheck
    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(Settings(**options))
    try:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            rows = (
                await session.execute(
                    select(HealthCheck.outcome, HealthCheck.response_ms).where(
                        HealthCheck.trigger == "scheduled",
                        HealthCheck.checked_at >= phase.window_start,
                        HealthCheck.checked_at < phase.window_end,
                    )
                )
            ).all()
    finally:
        await runtime.db.dispose()
    return Counted(
        checks=len(rows),
        unhealthy=sum(1 for r in rows if r.outcome != "healthy"),
        response_ms=[float(r.response_ms) for r in rows if r.outcome == "healthy"],
    )


# Per server, in order: a check that began before the previous one ended overlapped it; one
# that began less than half an interval after the previous one was a second check of a slot.
_OVERLAPS = """
WITH ordered AS (
    SELECT server_id,
           checked_at - make_interval(secs => response_ms / 1000) AS began,
           lag(checked_at) OVER (PARTITION BY server_id ORDER BY checked_at) AS previous_end
    FROM health_checks
    WHERE trigger = 'scheduled'
)
SELECT count(*) FILTER (WHERE began < previous_end) AS overlapping,
       count(*) FILTER (WHERE began - previous_end < make_interval(secs => :half)) AS close,
       count(*) FILTER (WHERE previous_end IS NOT NULL) AS pairs,
       count(DISTINCT server_id) AS servers
FROM ordered
"""


async def count_overlaps(options: dict[str, Any], org_id: Any, interval: int) -> Any:
    from sqlalchemy import text

    from sprintconnect.config import Settings
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(Settings(**options))
    try:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            return (await session.execute(text(_OVERLAPS), {"half": interval / 2})).one()
    finally:
        await runtime.db.dispose()


def _report(phase: Phase, counted: Counted, servers: int, interval: int, bare_p50: float) -> bool:
    window = (phase.window_end - phase.window_start).total_seconds()
    start, end = phase.window_start.timestamp(), phase.window_end.timestamp()
    lags = [lag for at, lag in phase.lags if start <= at < end]
    warm = [lag for at, lag in phase.lags if at < start]
    rate = counted.checks / window
    warmed = (phase.window_start - phase.started).total_seconds()
    label = f"{phase.workers} worker process{'es' if phase.workers > 1 else ''}"
    print(f"  {label}: {window:.0f} s measured after {warmed:.0f} s warm-up")
    print(
        f"    checks/s {rate:7.2f} (schedule asks {servers / interval:.2f})  "
        f"checks {counted.checks}  unhealthy {counted.unhealthy}"
    )
    if lags:
        print(
            f"    schedule lag p50={percentile(lags, 50):.3f}s p99={percentile(lags, 99):.3f}s "
            f"max={max(lags):.3f}s  ({len(lags)} starts; warm-up max "
            f"{max(warm, default=0.0):.1f}s)"
        )
    else:
        print("    schedule lag: no check started in the window")
    per_check = phase.cpu_seconds / counted.checks if counted.checks else math.nan
    print(
        f"    CPU of the workers {phase.cpu_seconds:.1f}s = {per_check * 1e3:.2f} ms per check "
        f"({phase.cpu_seconds / window:.2f} cores); the MCP servers' "
        f"{phase.server_cpu_seconds / window:.2f} cores"
    )
    if counted.response_ms:
        p50 = percentile(counted.response_ms, 50)
        print(
            f"    check response_ms p50={p50:.2f} p99={percentile(counted.response_ms, 99):.2f}"
            f"  ratio to bare SDK initialize+ping p50: {p50 / (bare_p50 * 1e3):.2f}x"
        )
    return bool(lags) and percentile(lags, 99) < 5.0


# -- the run ---------------------------------------------------------------------------------


async def run(
    args: argparse.Namespace, urls: list[str], server_pids: list[int], database_url: str, where: str
) -> None:
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as folder:
        options: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": str(Path(folder) / "data"),
            "secret_key": secrets.token_urlsafe(48),
            "inprocess_worker": False,
            "egress_allow_loopback": True,
            # The per-organization egress limit still runs, raised so it does not throttle.
            "egress_rate_limit": "1000000/minute",
            "api_key_rate_limit": "1000000/minute",
            "org_rate_limit": "1000000/minute",
            "default_server_quota": max(1000, args.servers),
            "health_min_interval_seconds": min(60, args.interval),
            "log_level": "info",
            "log_format": "json",
            "_env_file": None,  # the benchmark's settings only, whatever a .env file says
        }
        org_id, took, (first, last) = await register(urls, args.interval, options)
        print(
            f"  registered {len(urls)} servers in {took:.1f}s; first checks due from "
            f"{first:+.1f}s to {last:+.1f}s  [{where}]",
            flush=True,
        )
        bare = await run_baseline(urls, args.ping_rounds)
        bare_p50 = percentile(bare, 50)
        print(
            f"  bare mcp SDK client, initialize+ping: p50={bare_p50 * 1e3:.2f}ms "
            f"p99={percentile(bare, 99) * 1e3:.2f}ms ({len(bare)} rounds)",
            flush=True,
        )
        held = []
        for workers in args.workers:
            phase = await run_phase(options, workers, args.warmup, args.minutes * 60, server_pids)
            counted = await count_window(options, org_id, phase)
            held.append(_report(phase, counted, len(urls), args.interval, bare_p50))
            print(f"    machine load: {_load()}", flush=True)
        overlaps = await count_overlaps(options, org_id, args.interval)
        print(
            f"  double checks over the whole run: {overlaps.overlapping} overlapping, "
            f"{overlaps.close} less than half an interval apart "
            f"({overlaps.pairs} consecutive pairs over {overlaps.servers} servers)"
        )
        if args.workers and args.workers[0] == 1:
            verdict = "holds" if held[0] else "does NOT hold"
            print(
                f"  goal (1 worker, {len(urls)} servers every {args.interval}s, "
                f"lag p99 < 5s): {verdict}"
            )
        if overlaps.overlapping:
            raise SystemExit(1)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks health",
        description="Scheduled health checks of many loopback MCP servers by one, then two, "
        "SprintConnect worker processes: checks per second, schedule lag, CPU per check, no "
        "double checks, and a check's time against a bare MCP SDK ping. Uses the machine's "
        "PostgreSQL on 127.0.0.1:5432 when it is up, else the embedded one.",
        epilog="Goal: one worker holds 2,000 servers at a 1-minute interval with lag p99 < 5 s.",
    )
    parser.add_argument("--servers", type=int, default=2000, help="MCP servers (default 2000)")
    parser.add_argument(
        "--interval", type=int, default=60, help="check interval in seconds (default 60)"
    )
    parser.add_argument(
        "--minutes", type=float, default=5, help="measured minutes per phase (default 5)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds each phase runs before measuring (default: one interval)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="worker processes of each phase, in order (default: 1 2)",
    )
    parser.add_argument(
        "--server-processes", type=int, default=4, help="processes serving them (default 4)"
    )
    parser.add_argument(
        "--ping-rounds", type=int, default=200, help="bare SDK pings timed (default 200)"
    )
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = float(args.interval)
    if min(args.servers, args.interval, args.server_processes, args.ping_rounds, *args.workers) < 1:
        parser.error("every count must be at least 1")
    if args.minutes <= 0 or args.warmup < 0:
        parser.error("--minutes must be positive and --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> None:
    from sprintconnect.logging import configure_logging

    args = parse(argv or [])
    _quiet_logs(configure_logging)
    processes = min(args.server_processes, args.servers)
    print(
        f"  dataset: {args.servers} MCP servers in {processes} uvicorn processes; interval "
        f"{args.interval}s; {args.minutes:g} min measured per phase after {args.warmup:g}s; "
        f"machine load {_load()}",
        flush=True,
    )
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-pg-") as folder,
        scratch_database(Path(folder)) as (database_url, where),
        ping_fleet(args.servers, processes) as (urls, server_pids),
    ):
        print(f"  servers up in {time.perf_counter() - started:.1f}s", flush=True)
        asyncio.run(run(args, urls, server_pids, database_url, where))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
