"""The cost of one authenticated request: ``GET /api/v1/me`` against a physical-limit baseline.

Dataset: a scratch PostgreSQL database (127.0.0.1:5432, else embedded), migrated, with
``--orgs`` organizations (20 unless told), each with an admin member and one ``admin``-scoped
API key that the member created (keys as ``search_dataset.api_key`` derives them), so ``/me``
runs the whole check of a member's key: prefix lookup, HMAC, expiry and revocation, owner
membership, role facts, rate limits. Requests rotate over the keys; each key is reused every
``orgs / rate`` seconds, which decides how often the in-process key cache
(``SPRINTCONNECT_API_KEY_CACHE_SECONDS``, 5 s) answers: at the peak nearly always.

Servers, each started alone in its own process and stopped before the next one, all under
uvicorn with the settings of ``sprintconnect serve`` (``cli.UVICORN_LIMITS``: httptools with
a bound on unfinished heads, ``ops.http_protocol``; the default loop, uvloop when installed;
no proxy headers, no server header):

* ``baseline``: a minimal ASGI app, no framework at all, on the app's own engine
  (``db.engine.Database``: the same SQLAlchemy async engine, psycopg, pool size, pre-ping and
  application role). Per request it takes a pooled connection, runs one indexed ``SELECT``
  (``sc_api_key_lookup`` on the key's prefix, a unique index) and answers a small JSON body.
  No authentication, logging, rate limiting or validation: the floor any request pays.
* ``me``: the real app (``create_app``) answering ``GET /api/v1/me``, with the production
  logging (JSON lines at ``info``, into a file) and Redis for the rate limits and caches when
  one answers at ``--redis`` (a scale-out deployment configures Redis so that every replica
  spends one budget, and it is the costlier path: round trips; ``--redis ''`` measures the
  single-process default, in memory). Rate limits stay on, raised (``--rate-limit``) so that
  the load never spends them.
* ``me-h11``: the same app under uvicorn's ``h11`` protocol with its own head bound, which
  ``serve`` ran before (what the bounded httptools protocol saves).
* ``me-uncached``: the same app with ``SPRINTCONNECT_API_KEY_CACHE_SECONDS=0``: every request
  checks its key in full (prefix lookup, HMAC, key row, role facts), as before that cache.

Load: a separate process. The peak is measured closed-loop at ``--concurrency`` (32)
connections for ``--duration`` seconds after a ``--warmup``, with ``wrk`` (one thread, a Lua
script rotating the keys) when it is installed, else with this module's own asyncio client;
``--rounds`` (2) rounds alternate the servers and each keeps its best, so that load from
elsewhere on a shared machine spreads over all of them. Latency at a fixed offered load is
measured open-loop by the asyncio client on a warmed server: request ``i`` is due at
``i / rate`` seconds whatever happened to the earlier ones, it waits for a free connection of
``--connections`` (64) if none is idle, and its latency counts from when it was due (no
coordinated omission; ``late ms`` is the client's own worst lag). The rate is half of
``/me``'s peak; ``/me`` is also offered half of the baseline's peak, the other reading of
the goal.

Everything shares the machine's cores (load generator, app, PostgreSQL, Redis), so absolute
figures are lower bounds; the ratios to the baseline measured in the same run are the figures
that compare. Goals (issue 11): ``/me`` at >= 0.5x the baseline's peak, and p99 < 10 ms at a
fixed offered load of half its capacity.

``--profile-out PATH`` records the ``/me`` server under load with py-spy (speedscope JSON;
``.svg``: a flame graph; ``.txt``: collapsed stacks) after its first peak round.

Run: ``python -m benchmarks request [--quick] [--duration S --rounds N --orgs N
--profile-out P --redis URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg

from sprintconnect.api_key.service import HMAC_PURPOSE
from sprintconnect.config import Settings
from sprintconnect.kit.secrets import KeyRing

from .search_dataset import BENCH_SECRET, LOCAL_ADMIN, api_key, bench_settings, conninfo
from .stats import percentile

ME_PATH = "/api/v1/me"
BASELINE_PATH = "/baseline"
THROUGHPUT_GOAL = 0.5
P99_GOAL_MS = 10.0
QUICK = {"duration": 4.0, "warmup": 1.0, "rounds": 1}


# -- the dataset -------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(orgs: int, data_dir: Path) -> Iterator[str]:
    """A migrated scratch database with ``orgs`` organizations, each with an admin member and
    that member's ``admin`` key (``search_dataset.api_key``); dropped afterwards."""
    from sqlalchemy.engine import make_url

    from sprintconnect.db import migrate
    from sprintconnect.db.embedded import embedded_url, release_embedded
    from sprintconnect.runtime import build_runtime

    local = _port_open(5432)
    admin = LOCAL_ADMIN if local else conninfo(embedded_url(data_dir / "pg"))
    name = f"sc_bench_request_{os.getpid()}_{random.randrange(1 << 30):08x}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        try:
            runtime = build_runtime(bench_settings(url, data_dir))
            try:
                migrate.upgrade(runtime.db)  # also creates the app role and its password
            finally:
                asyncio.run(runtime.db.engine.dispose())
            _fill(conninfo(url), orgs)
            yield url
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if not local:
            release_embedded(data_dir / "pg")


def _fill(url: str, orgs: int) -> None:
    keyring = KeyRing(BENCH_SECRET.encode())
    rng = random.Random(11)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for n in range(orgs):
            org_id, user_id = (uuid.UUID(int=rng.getrandbits(128), version=4) for _ in "ab")
            slug = f"bench-org-{n:04d}"
            prefix, plaintext = api_key(org_id)
            digest = keyring.hmac(HMAC_PURPOSE, plaintext.encode())
            cur.execute(
                "INSERT INTO organizations (id, name, slug, time_zone) VALUES (%s, %s, %s, %s)",
                (org_id, f"Bench org {n:04d}", slug, "Europe/Berlin"),
            )
            cur.execute(
                "INSERT INTO users (id, email) VALUES (%s, %s)",
                (user_id, f"admin@{slug}.example.com"),
            )
            cur.execute(
                "INSERT INTO memberships (id, org_id, user_id, display_name) "
                "VALUES (gen_random_uuid(), %s, %s, 'Admin')",
                (org_id, user_id),
            )
            cur.execute(
                "INSERT INTO role_assignments (org_id, user_id, role_name) "
                "VALUES (%s, %s, 'admin')",
                (org_id, user_id),
            )
            cur.execute(
                "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scopes, "
                "created_by_user_id, kind) "
                "VALUES (gen_random_uuid(), %s, 'bench', %s, %s, '{admin}', %s, 'user')",
                (org_id, prefix, digest, user_id),
            )
        conn.commit()
        conn.execute("ANALYZE")


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


# -- the servers -------------------------------------------------------------------------------


def baseline_app(settings: Settings) -> Any:
    """A framework-free ASGI app: one indexed SELECT through the app's own engine per request."""
    from sqlalchemy import text

    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(settings)
    engine = runtime.db.engine
    lookup = text("SELECT key_id, org_id FROM sc_api_key_lookup(:prefix)")
    pattern = re.compile(rb"sc_([a-z0-9]{12})_")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await engine.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        prefix = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                match = pattern.search(value)
                prefix = match.group(1) if match else b""
        async with engine.connect() as conn:
            row = (await conn.execute(lookup, {"prefix": prefix.decode()})).first()
        body = json.dumps(
            {"key_id": str(row.key_id), "org_id": str(row.org_id)} if row else {}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if row else 404,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def _serve(kind: str, settings: Settings, log_path: str, ready: Connection) -> None:
    """Child process: one server on a loopback port it reports through ``ready``."""
    import uvicorn

    from sprintconnect.cli import UVICORN_LIMITS
    from sprintconnect.kit.heap import freeze_startup_heap
    from sprintconnect.logging import configure_logging

    # The app's log lines go to a file: written as in production, kept off the terminal.
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 2)
    configure_logging(settings.log_level, settings.log_format)
    if kind == "baseline":
        app = baseline_app(settings)
    else:
        from sprintconnect.app import create_app

        app = create_app(settings)
    limits = dict(UVICORN_LIMITS)
    if kind == "me-h11":
        limits = {"http": "h11", "h11_max_incomplete_event_size": 64 * 1024}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ready.send(sock.getsockname()[1])
    ready.close()
    config = uvicorn.Config(
        app, log_config=None, proxy_headers=False, server_header=False, **limits
    )
    freeze_startup_heap()  # as ``sprintconnect serve`` does once started, for every server alike
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class Server:
    kind: str
    port: int
    pid: int


@contextlib.contextmanager
def server(kind: str, settings: Settings, log_path: Path) -> Iterator[Server]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_serve, args=(kind, settings, str(log_path), send), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(120):
            raise RuntimeError(f"the {kind} process did not report its port")
        port = int(receive.recv())
        deadline = time.monotonic() + 120
        while not _answers(port):
            if not child.is_alive():
                raise RuntimeError(f"the {kind} process exited while starting; see {log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} process did not start within 120 s")
            time.sleep(0.2)
        assert child.pid is not None
        yield Server(kind, port, child.pid)
    finally:
        child.terminate()
        child.join(20)
        if child.is_alive():
            child.kill()
            child.join()


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
        return sock.recv(16).startswith(b"HTTP/1.1")
    return False


# -- the asyncio client (its own process) ------------------------------------------------------


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends prepared requests and reads answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, payload: bytes) -> int:
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        if length is None:
            raise RuntimeError("an answer without Content-Length")
        await self.reader.readexactly(int(length.group(1)))
        return int(head[9:12])

    def close(self) -> None:
        self.writer.close()


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    wall: float = 0.0
    late: float = 0.0  # open loop: the client's worst lag behind the schedule, seconds
    percentiles: dict[str, float] | None = None  # wrk's own, in ms (it gives no samples)

    def rps(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1e3 if self.latencies else float("nan")


async def _closed_loop(port: int, payloads: list[bytes], concurrency: int, seconds: float) -> Load:
    load = Load()
    conns = [await _Connection.open(port) for _ in range(concurrency)]
    stop_at = time.perf_counter() + seconds

    async def worker(conn: _Connection, offset: int) -> None:
        i = offset
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status = await conn.exchange(payloads[i % len(payloads)])
            load.latencies.append(time.perf_counter() - started)
            load.statuses[status] += 1
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, n) for n, c in enumerate(conns)))
    load.wall = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return load


async def _open_loop(
    port: int, payloads: list[bytes], rate: float, count: int, connections: int
) -> Load:
    load = Load()
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await _Connection.open(port))
    running: set[asyncio.Task[None]] = set()

    async def one(due: float, payload: bytes) -> None:
        conn = await idle.get()
        try:
            status = await conn.exchange(payload)
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            load.errors += 1
            conn.close()
            idle.put_nowait(await _Connection.open(port))
            return
        load.latencies.append(time.perf_counter() - due)
        load.statuses[status] += 1
        idle.put_nowait(conn)

    start = time.perf_counter() + 0.05
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            load.late = max(load.late, -delay)
        task = asyncio.create_task(one(due, payloads[i % len(payloads)]))
        running.add(task)
        task.add_done_callback(running.discard)
    while running:
        await asyncio.gather(*running)
    load.wall = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return load


def _client(job: dict[str, Any], answer: Connection) -> None:
    """Child process: run one load and send back what it measured."""
    runner = _runner()
    with runner:
        if job["mode"] == "closed":
            load = runner.run(
                _closed_loop(job["port"], job["payloads"], job["concurrency"], job["seconds"])
            )
        else:
            load = runner.run(
                _open_loop(
                    job["port"], job["payloads"], job["rate"], job["count"], job["connections"]
                )
            )
    answer.send(load)
    answer.close()


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run_client(job: dict[str, Any]) -> Load:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_client, args=(job, send), daemon=True)
    child.start()
    send.close()
    try:
        load: Load = receive.recv()
    finally:
        child.join(30)
    return load


# -- wrk ---------------------------------------------------------------------------------------


def _wrk_script(folder: Path, path: str, keys: list[str]) -> Path:
    script = folder / "rotate-keys.lua"
    listed = ",\n".join(f'  "{key}"' for key in keys)
    script.write_text(
        f"local keys = {{\n{listed}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        f'  return wrk.format("GET", "{path}", '
        '{["Authorization"] = "Bearer " .. keys[(i % #keys) + 1]})\nend\n'
    )
    return script


def run_wrk(port: int, script: Path, concurrency: int, seconds: float) -> Load:
    """Closed loop with wrk: requests/second and its latency percentiles (no samples)."""
    wrk = shutil.which("wrk") or "wrk"
    out = subprocess.run(  # noqa: S603 - our own arguments
        [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    if rps is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    load = Load(wall=float(total.group(2)) / (1000 if total.group(3) == "ms" else 1))
    count = int(total.group(1))
    bad = int(non2xx.group(1)) if non2xx else 0
    load.statuses[200] = count - bad
    load.statuses[0] = bad
    load.errors = sum(int(g) for g in errors.groups()) if errors else 0
    load.latencies = [0.0] * count  # wrk gives percentiles, not samples: counted only
    load.percentiles = {q: _wrk_ms(out, q) for q in ("50", "75", "90", "99")}
    return load


def _wrk_ms(out: str, q: str) -> float:
    match = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)", out, re.M)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


# -- the run -----------------------------------------------------------------------------------


def _payloads(path: str, keys: list[str]) -> list[bytes]:
    return [
        f"GET {path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {key}\r\n\r\n".encode()
        for key in keys
    ]


def redis_choice(url: str) -> str | None:
    """``url`` when a Redis answers there, else None (the app then keeps limits in memory)."""
    if not url:
        return None
    from sqlalchemy.engine import make_url

    parsed = make_url(url.replace("redis://", "postgresql://", 1))
    with contextlib.suppress(OSError):
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 6379), 1).close()
        return url
    return None


def _profile(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("  py-spy is not installed: no profile (pip install py-spy)")
        return None
    fmt = {".svg": "flamegraph", ".txt": "raw"}.get(out.suffix, "speedscope")
    return subprocess.Popen(  # noqa: S603 - our own arguments
        [spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
         "--rate", "250", "--nonblocking", "--format", fmt, "--output", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@dataclass
class Row:
    label: str
    peak: Load | None = None
    fixed: dict[str, Load] = field(default_factory=dict)


def _peak(args: argparse.Namespace, port: int, keys: list[str], path: str, folder: Path) -> Load:
    _warm(args, port, keys, path, folder)
    if args.client == "wrk":
        return run_wrk(port, _wrk_script(folder, path, keys), args.concurrency, args.duration)
    job = {"mode": "closed", "port": port, "payloads": _payloads(path, keys)}
    return run_client(job | {"concurrency": args.concurrency, "seconds": args.duration})


def _warm(args: argparse.Namespace, port: int, keys: list[str], path: str, folder: Path) -> None:
    if args.client == "wrk":
        run_wrk(port, _wrk_script(folder, path, keys), args.concurrency, args.warmup)
    else:
        job = {"mode": "closed", "port": port, "payloads": _payloads(path, keys)}
        run_client(job | {"concurrency": args.concurrency, "seconds": args.warmup})


def _fixed(args: argparse.Namespace, port: int, keys: list[str], path: str, rate: float) -> Load:
    count = max(1, round(rate * args.duration))
    job = {"mode": "open", "port": port, "payloads": _payloads(path, keys), "rate": rate}
    return run_client(job | {"count": count, "connections": args.connections})


def _print_peak(row: Row, base: Load | None) -> None:
    load = row.peak
    assert load is not None
    pct = load.percentiles
    lat = f"{pct['50']:7.2f} {pct['99']:7.2f}" if pct else f"{load.ms(50):7.2f} {load.ms(99):7.2f}"
    ratio = f"{load.rps() / base.rps():7.2f}x" if base else f"{'':>8}"
    bad = sum(n for status, n in load.statuses.items() if status != 200) + load.errors
    print(f"  {row.label:<14} {load.rps():9.1f} {ratio}  {lat}  {bad:6d}", flush=True)


def _print_fixed(label: str, rate: float, load: Load, base: Load | None) -> None:
    bad = sum(n for status, n in load.statuses.items() if status != 200) + load.errors
    ratio = f"{load.ms(99) / base.ms(99):7.2f}x" if base else f"{'':>8}"
    print(
        f"  {label:<14} {rate:8.1f} {load.ms(50):7.2f} {load.ms(95):7.2f} {load.ms(99):7.2f} "
        f"{ratio}  {bad:6d}  {load.late * 1e3:6.1f}",
        flush=True,
    )


def measure(args: argparse.Namespace, url: str, folder: Path) -> bool:
    with psycopg.connect(conninfo(url)) as conn:
        orgs = [row[0] for row in conn.execute("SELECT id FROM organizations ORDER BY id")]
    keys = [api_key(org)[1] for org in orgs]
    random.Random(7).shuffle(keys)
    redis_url = redis_choice(args.redis)
    values: dict[str, Any] = {
        "log_level": "info",
        "log_format": "json",
        "redis_url": redis_url,
        "api_key_rate_limit": args.rate_limit,
        "org_rate_limit": args.rate_limit,
    }
    if args.pool_size:
        values["database_pool_size"] = args.pool_size
    settings = bench_settings(url, folder / "app", **values)
    print(
        f"  {len(keys)} organizations and keys; Redis: {redis_url or 'none (in-memory limits)'}; "
        f"pool {settings.database_pool_size}+{settings.database_pool_size}; "
        f"load: {args.client}, concurrency {args.concurrency}, {args.duration:g}s per row",
        flush=True,
    )
    kinds = ("baseline", "me", "me-h11", "me-uncached")
    rows = {label: Row(label) for label in kinds}
    paths = {kind: BASELINE_PATH if kind == "baseline" else ME_PATH for kind in kinds}
    uncached = settings.model_copy(update={"api_key_cache_seconds": 0})
    logs = folder / "logs"
    logs.mkdir()

    def run_server(kind: str, work: Callable[[Server], None]) -> None:
        chosen = uncached if kind == "me-uncached" else settings
        with server(kind, chosen, logs / f"{kind}.log") as srv:
            work(srv)

    print(f"  peak, closed loop at concurrency {args.concurrency}, best of {args.rounds} rounds:")

    profiled = False

    def peak(srv: Server) -> None:
        nonlocal profiled
        load = _peak(args, srv.port, keys, paths[srv.kind], folder)
        best = rows[srv.kind].peak
        if best is None or load.rps() > best.rps():
            rows[srv.kind].peak = load
        print(f"    round: {srv.kind:<14} {load.rps():9.1f} req/s", flush=True)
        if srv.kind == "me" and args.profile_out is not None and not profiled:
            spy = _profile(srv.pid, args.profile_out, args.duration)
            if spy is not None:
                _peak(args, srv.port, keys, ME_PATH, folder)
                spy.wait()
                profiled = spy.returncode == 0

    # Rounds alternate the servers, so that load from elsewhere on the machine spreads over
    # all of them; each server's best round is its figure.
    for _ in range(args.rounds):
        for kind in kinds:
            run_server(kind, peak)
    base_peak = rows["baseline"].peak
    assert base_peak is not None
    print(
        f"  {'server':<14} {'req/s':>9} {'of base':>8}  {'p50 ms':>7} {'p99 ms':>7}  {'non-200':>6}"
    )
    for kind in kinds:
        _print_peak(rows[kind], None if kind == "baseline" else base_peak)
    me_peak = rows["me"].peak
    assert me_peak is not None
    me_rate = me_peak.rps() / 2
    half_base = base_peak.rps() / 2
    print(
        f"  fixed offered load, open loop ({args.connections} connections), half of /me's peak "
        f"({me_rate:.1f} req/s) unless named; latency from each request's due time:"
    )
    print(
        f"  {'server':<14} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'p99/base':>8}  {'non-200':>6}  {'late ms':>6}"
    )

    def fixed(srv: Server) -> None:
        _warm(args, srv.port, keys, paths[srv.kind], folder)  # a fresh process: warm it first
        rows[srv.kind].fixed["half-me"] = _fixed(args, srv.port, keys, paths[srv.kind], me_rate)
        if srv.kind == "me":
            rows["me"].fixed["half-base"] = _fixed(args, srv.port, keys, ME_PATH, half_base)
        for rate in args.also_rates:
            rows[srv.kind].fixed[f"{rate:g}"] = _fixed(args, srv.port, keys, paths[srv.kind], rate)

    for kind in rows:
        run_server(kind, fixed)
        base = rows["baseline"].fixed["half-me"] if kind != "baseline" else None
        _print_fixed(kind, me_rate, rows[kind].fixed["half-me"], base)
        if kind == "me":
            _print_fixed("me@half-base", half_base, rows["me"].fixed["half-base"], None)
        for rate in args.also_rates:
            extra = rows["baseline"].fixed.get(f"{rate:g}") if kind != "baseline" else None
            _print_fixed(f"{kind}@{rate:g}", rate, rows[kind].fixed[f"{rate:g}"], extra)
    if args.profile_out is not None and profiled:
        print(f"  profile of /me under load: {args.profile_out}")
    return _goals(rows)


def _goals(rows: dict[str, Row]) -> bool:
    base, me = rows["baseline"].peak, rows["me"].peak
    assert base is not None
    assert me is not None
    ratio = me.rps() / base.rps()
    p99 = rows["me"].fixed["half-me"].ms(99)
    p99_base = rows["me"].fixed["half-base"].ms(99)
    print(
        f"  goal: /me peak {ratio:.2f}x the baseline's >= {THROUGHPUT_GOAL}: "
        f"{'met' if ratio >= THROUGHPUT_GOAL else 'NOT met'}"
    )
    print(
        f"  goal: /me p99 at half its peak {p99:.2f} ms < {P99_GOAL_MS:g} ms: "
        f"{'met' if p99 < P99_GOAL_MS else 'NOT met'} (at half the baseline's peak: "
        f"{p99_base:.2f} ms)"
    )
    clean = all(
        not load.errors and all(n == 0 for status, n in load.statuses.items() if status != 200)
        for row in rows.values()
        for load in [row.peak, *row.fixed.values()]
        if load is not None
    )
    if not clean:
        print("  ERRORS: some answers were not 200 (see the non-200 column)")
    return clean


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks request",
        description="GET /api/v1/me (the real app, an API key) against a minimal ASGI app doing "
        "one indexed SELECT through the same pool, both under the uvicorn settings of "
        "'sprintconnect serve', plus /me under h11: peak req/s at a fixed concurrency, "
        "and latency at a fixed offered load of half /me's peak (open loop).",
        epilog="Figures are ratios to the baseline measured in the same run. "
        'Example: make bench ARGS="request --quick"',
    )
    parser.add_argument("--quick", action="store_true", help="4 s rows, one round")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per row (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before a peak (3)")
    parser.add_argument("--concurrency", type=int, default=32, help="peak: in flight (32)")
    parser.add_argument(
        "--connections", type=int, default=64, help="fixed load: connections at most (64)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="peak rounds per server, alternating (2)"
    )
    parser.add_argument("--orgs", type=int, default=20, help="organizations, one key each (20)")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="peak load generator: wrk when installed (auto), or the asyncio client",
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/15",
        help="Redis for the app's rate limits when it answers ('' for none)",
    )
    parser.add_argument(
        "--rate-limit", default="1000000/minute", help="per key and per organization"
    )
    parser.add_argument(
        "--also-rates",
        type=lambda text: [float(part) for part in text.split(",") if part],
        default=[],
        help="comma-separated extra fixed offered loads (req/s) for every server, e.g. 100,200",
    )
    parser.add_argument("--pool-size", type=int, help="database_pool_size (the default)")
    parser.add_argument("--profile-out", type=Path, help="py-spy profile of /me under load")
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    if min(args.duration, args.concurrency, args.connections, args.orgs, args.rounds) <= 0:
        parser.error("every number must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv or [])
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-request-") as folder,
        scratch_database(args.orgs, Path(folder)) as url,
    ):
        print(f"  scratch database ready in {time.perf_counter() - started:.1f}s", flush=True)
        ok = measure(args, url, Path(folder))
    if not ok:
        raise SystemExit(1)
