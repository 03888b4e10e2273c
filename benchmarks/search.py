"""Capability search over HTTP at 100,000 servers: latency and throughput against a bare endpoint.

Dataset: ``benchmarks.search_dataset`` (1,000 organizations x 100 servers x 20 tools, realistic
tool vocabulary) on a scratch PostgreSQL database, built here and dropped afterwards unless
``--keep``; ``--reuse NAME`` measures a kept one again without rebuilding.

Server: the real app (``create_app`` with settings pointing at that database: fixed secret key,
no in-process worker, rate limit out of the way, log level warning, in-memory search cache and
rate limiter since no Redis is configured, the default pool of 10+10 connections) under uvicorn
(uvloop, httptools) in a separate process. One route is added: ``GET /bench/bare`` depends on
``Authenticated`` and answers ``{}``; it runs the same key check as every endpoint (prefix
lookup, HMAC, tenant binding, last-used debounce, rate limiter, role facts) in the same
per-request transaction. Search (``discovery:read``) also checks the scope and asks the PDP
(Cedar) once about the collection before searching.

Load: an async httpx client, ``--concurrency`` (32) requests in flight over keep-alive
connections, a random organization (and its key) per request; ``--requests`` (3000) timed
requests per scenario after one shared warm-up of every scenario. Latency is from sending the
request to having read the whole body; requests/second is requests over the wall time of the
scenario. Scenarios:

* ``bare``: the baseline, measured first and again last (drift check).
* ``exact``: ``capability=<tool>&environment=staging``; tools taken from sampled staging servers
  of the organization, so every query matches at least one server.
* ``multi``: ``capability=<a>,<b>&tags=<tag>``, two exact tools and a tag of one sampled server.
* ``fuzzy``: ``capability=<word>&fuzzy=true&environment=production`` with domain words
  (``weather``, ``calendar``, ``ticket`` ...).
* ``fuzzy-typo``: the same with misspelled words (``wether``, ``calender``, ``tickt`` ...).

Results are cached per organization, principal class and query (60 s, in process), so each
search scenario runs twice. ``cold``: no (organization, query) pair repeats anywhere in the run
(warm-up included) and the server process starts with an empty cache, so every request misses;
the varying part is the organization and the tool, tag or word, never ``limit`` (always 20), so
the work per request is that of a real miss. ``warm``: ``--warm-pool`` (200) of those queries
are run once untimed, then the timed requests draw from them: the cache answers. Every answer's
``search.cached`` flag is counted, so the hit rate proves which case was measured. "Cold" is
about the app's cache only: PostgreSQL and the OS page cache are warm (shared warm-up).

Everything shares the machine's cores: on a 2-core box the load generator, the app process and
PostgreSQL compete for 2 cores, so the absolute numbers are lower bounds, and the ratios to the
bare endpoint (measured the same way in the same run) are the comparable figures.

Before the loaded rows, ``--unloaded`` (300) cold requests per scenario at concurrency 1 give
the service time without queueing (at concurrency 32 on a saturated box, latency is mostly the
wait for a core: about concurrency / throughput).

Memory: the app process's RSS before and after the search load, and the bytes its in-process
search cache holds at the end (its ``sprintconnect_search_cache_bytes`` gauge, read from
``/metrics``) against its budget (``SPRINTCONNECT_SEARCH_CACHE_MAX_BYTES``).

Afterwards, ``EXPLAIN (ANALYZE, BUFFERS)`` of the exact, multi, words, fuzzy and fuzzy-typo
statements as the application role (row-level security on) for one organization: a timing line
for each, and the whole plans of the three modes (exact, words, fuzzy); ``--explain-all`` prints
every plan.

Run: ``python -m benchmarks search [--requests N --concurrency C --keep --reuse NAME]``;
smaller datasets with ``--orgs``, ``--servers-per-org``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import re
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import psutil
import psycopg
from fastapi import FastAPI

from sprintconnect.identity.deps import Authenticated

from .search_dataset import (
    Dataset,
    Shape,
    add_shape_options,
    api_key,
    bench_settings,
    conninfo,
    open_dataset,
    shape_of,
)
from .stats import percentile

FUZZY_WORDS = (
    ("weather", "wether"),
    ("calendar", "calender"),
    ("email", "emial"),
    ("ticket", "tickt"),
    ("document", "documnet"),
    ("invoice", "invoce"),
    ("contact", "contcat"),
    ("payment", "paymnet"),
    ("repository", "repositry"),
    ("message", "mesage"),
    ("channel", "chanel"),
    ("alert", "alret"),
    ("incident", "incidnet"),
    ("employee", "employe"),
    ("report", "reprot"),
    ("shipment", "shipmnet"),
    ("order", "ordr"),
    ("task", "taks"),
    ("deployment", "deploymnet"),
    ("pipeline", "pipline"),
    ("flight", "fligth"),
    ("translate", "translte"),
    ("bucket", "bukcet"),
    ("forecast", "forcast"),
    ("note", "noet"),
)
SCENARIOS = ("exact", "multi", "words", "fuzzy", "fuzzy-typo")
SEARCH_PATH = "/api/v1/discovery/servers"
BARE_PATH = "/bench/bare"
GOALS_P99_MS = {"exact": 50.0, "multi": 50.0, "words": 100.0, "fuzzy": 100.0, "fuzzy-typo": 100.0}
# --quick: a small dataset and short rows, for trying the benchmark out (minutes, not an hour).
QUICK = {"orgs": 100, "requests": 600, "warmup": 20, "warm_pool": 50, "unloaded": 0}
THROUGHPUT_GOAL = 1 / 3
_CACHED = re.compile(rb'"cached":\s*(true|false)')
_TOTAL = re.compile(rb'"total":\s*(\d+)')


# -- the server process ------------------------------------------------------------------------


def build_app(database_url: str, data_dir: Path, **overrides: Any) -> FastAPI:
    """The production app for the benchmark's settings, plus the bare endpoint."""
    from sprintconnect.app import create_app

    app = create_app(bench_settings(database_url, data_dir, **overrides))

    @app.get(BARE_PATH, include_in_schema=False)
    async def bare(principal: Authenticated) -> dict[str, str]:
        return {}

    return app


def _serve(database_url: str, data_dir: str, overrides: dict[str, Any], ready: Connection) -> None:
    """Child process: uvicorn serving the app on a loopback port it reports through ``ready``."""
    import uvicorn

    from sprintconnect.logging import configure_logging

    configure_logging("warning", "json")
    app = build_app(database_url, Path(data_dir), **overrides)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ready.send(sock.getsockname()[1])
    ready.close()
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class AppProcess:
    base_url: str
    pid: int


@contextlib.contextmanager
def app_process(
    database_url: str, data_dir: Path, overrides: dict[str, Any]
) -> Iterator[AppProcess]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_serve, args=(database_url, str(data_dir), overrides, send), daemon=True
    )
    child.start()
    send.close()
    try:
        if not receive.poll(120):
            raise RuntimeError("the app process did not report its port")
        port = int(receive.recv())
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            if not child.is_alive():
                raise RuntimeError("the app process exited while starting")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(base_url + "/healthz", timeout=2, trust_env=False).is_success:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the app process did not start within 120 s")
            time.sleep(0.2)
        assert child.pid is not None
        yield AppProcess(base_url, child.pid)
    finally:
        child.terminate()
        child.join(20)
        if child.is_alive():
            child.kill()
            child.join()


def _cache_bytes(base_url: str) -> float | None:
    """What the app's in-process search cache holds, from its gauge on ``/metrics``."""
    try:
        answer = httpx.get(base_url + "/metrics", timeout=10, trust_env=False)
    except httpx.HTTPError:
        return None
    found = re.search(r"^sprintconnect_search_cache_bytes ([0-9.e+]+)$", answer.text, re.M)
    return float(found.group(1)) if answer.is_success and found else None


def _rss_mib(pid: int) -> float:
    """Resident set size of a process, in MiB."""
    return float(psutil.Process(pid).memory_info().rss) / (1024 * 1024)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux); None where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sampled:
    org_id: uuid.UUID
    environment: str
    tags: tuple[str, ...]
    tools: tuple[str, ...]


def sample_servers(url: str, shape: Shape, target: int = 8000) -> list[Sampled]:
    """Real servers of the dataset (a reproducible sample) with their tools."""
    percent = min(100.0, 100.0 * target / shape.servers)
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            """
            SELECT s.org_id, s.environment, s.tags, array_agg(c.name ORDER BY c.name)
            FROM mcp_servers s TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s)
            JOIN server_capabilities c ON c.server_id = s.id AND c.org_id = s.org_id
            GROUP BY s.id
            """,
            (percent, shape.seed),
        ).fetchall()
    return [Sampled(r[0], r[1], tuple(r[2]), tuple(r[3])) for r in rows]


@dataclass(frozen=True)
class Request:
    org_id: uuid.UUID
    path: str


class Queries:
    """Makes requests; a cold request's (organization, query) pair is never made twice."""

    def __init__(self, samples: list[Sampled], orgs: list[uuid.UUID], rng: random.Random) -> None:
        self.rng = rng
        self.orgs = orgs
        self.staging = [s for s in samples if s.environment == "staging" and s.tools]
        self.tagged = [s for s in samples if s.tags and len(s.tools) >= 2]
        if not self.staging or not self.tagged:
            raise SystemExit("the dataset sample has no staging or tagged servers; too small")
        self.used: set[tuple[Any, ...]] = set()

    def bare(self) -> Request:
        return Request(self.rng.choice(self.orgs), BARE_PATH)

    def _one(self, scenario: str) -> tuple[tuple[Any, ...], Request]:
        rng = self.rng
        params: dict[str, str]
        if scenario == "exact":
            server = rng.choice(self.staging)
            tool = rng.choice(server.tools)
            params = {"capability": tool, "match": "exact", "environment": "staging"}
            org = server.org_id
        elif scenario == "multi":
            server = rng.choice(self.tagged)
            a, b = rng.sample(server.tools, 2)
            params = {"capability": f"{a},{b}", "match": "exact", "tags": rng.choice(server.tags)}
            org = server.org_id
        else:
            pair = rng.choice(FUZZY_WORDS)
            word = pair[1] if scenario == "fuzzy-typo" else pair[0]
            match = "words" if scenario == "words" else "fuzzy"
            params = {"capability": word, "match": match, "environment": "production"}
            org = rng.choice(self.orgs)
        key = (org, tuple(sorted(params.items())))
        return key, Request(org, f"{SEARCH_PATH}?{urlencode(params)}")

    def fresh(self, scenario: str) -> Request:
        for _ in range(10_000):
            key, request = self._one(scenario)
            if key not in self.used:
                self.used.add(key)
                return request
        raise RuntimeError(f"ran out of distinct {scenario} queries; use a larger dataset")


# -- the load generator ------------------------------------------------------------------------


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    cached: int = 0
    totals: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    client_cpu: float | None = None
    app_cpu: float | None = None

    def line(self) -> dict[str, float]:
        n = len(self.latencies)
        return {
            "p50": percentile(self.latencies, 50) * 1e3,
            "p95": percentile(self.latencies, 95) * 1e3,
            "p99": percentile(self.latencies, 99) * 1e3,
            "rps": n / self.wall if self.wall else 0.0,
        }


async def drive(
    client: httpx.AsyncClient,
    requests: list[Request],
    headers: dict[uuid.UUID, dict[str, str]],
    concurrency: int,
    app_pid: int,
) -> Outcome:
    """Send ``requests`` with ``concurrency`` in flight; time each one and the whole."""
    outcome = Outcome()
    pending = iter(requests)

    async def worker() -> None:
        for request in pending:
            await _send(client, request, headers, outcome, time.perf_counter())

    await _timed(outcome, app_pid, asyncio.gather(*(worker() for _ in range(concurrency))))
    return outcome


async def offer(
    client: httpx.AsyncClient,
    requests: list[Request],
    headers: dict[uuid.UUID, dict[str, str]],
    rate: float,
    app_pid: int,
) -> Outcome:
    """Open loop: request ``i`` is due at ``i / rate`` seconds, whether or not earlier ones
    have been answered; its latency counts from when it was due, so a slow server's queue
    shows in the figures instead of slowing the load down."""
    outcome = Outcome()
    start = time.perf_counter()

    async def one(index: int, request: Request) -> None:
        due = start + index / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await _send(client, request, headers, outcome, due)

    await _timed(outcome, app_pid, asyncio.gather(*(one(i, r) for i, r in enumerate(requests))))
    return outcome


async def _send(
    client: httpx.AsyncClient,
    request: Request,
    headers: dict[uuid.UUID, dict[str, str]],
    outcome: Outcome,
    since: float,
) -> None:
    """One request; its latency from ``since`` to the whole body read, and what it said."""
    try:
        answer = await client.get(request.path, headers=headers[request.org_id])
    except httpx.HTTPError as exc:
        outcome.errors.append(f"{request.path}: {exc!r}")
        return
    outcome.latencies.append(time.perf_counter() - since)
    if answer.status_code != 200:
        outcome.errors.append(f"{request.path}: {answer.status_code} {answer.text[:200]}")
        return
    body = answer.content
    cached = _CACHED.search(body)
    if cached is not None:
        outcome.cached += cached.group(1) == b"true"
        total = _TOTAL.search(body)
        outcome.totals.append(int(total.group(1)) if total else 0)


async def _timed(outcome: Outcome, app_pid: int, work: Awaitable[Any]) -> None:
    """Run ``work``, recording its wall time and the CPU the client and the app spent."""
    cpu_before, app_before = time.process_time(), _cpu_seconds(app_pid)
    started = time.perf_counter()
    await work
    outcome.wall = time.perf_counter() - started
    app_after = _cpu_seconds(app_pid)
    outcome.client_cpu = (time.process_time() - cpu_before) / outcome.wall
    if app_before is not None and app_after is not None:
        outcome.app_cpu = (app_after - app_before) / outcome.wall


@dataclass
class Row:
    scenario: str
    cache: str
    outcome: Outcome


def _print_row(row: Row, bare: dict[str, float] | None) -> None:
    o = row.outcome
    m = o.line()
    ratio = (
        f"{m['rps'] / bare['rps']:6.2f}x {m['p50'] / bare['p50']:6.2f}x"
        if bare
        else f"{'':>7} {'':>7}"
    )
    hits = f"{100 * o.cached / len(o.totals):5.1f}%" if o.totals else f"{'-':>6}"
    total = f"{sum(o.totals) / len(o.totals):7.1f}" if o.totals else f"{'-':>7}"
    cpu = (
        f"{o.client_cpu:4.2f}/{o.app_cpu:4.2f}"
        if o.client_cpu is not None and o.app_cpu is not None
        else "-"
    )
    print(
        f"  {row.scenario:<11} {row.cache:<5} {m['p50']:7.1f} {m['p95']:7.1f} {m['p99']:7.1f} "
        f"{m['rps']:8.1f}  {ratio}  {hits} {total}  {cpu}",
        flush=True,
    )


def _half_header() -> None:
    print(
        f"  {'scenario':<11} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>8} {'of offer':>8}  "
        f"{'p50/bare':>8} {'p99/bare':>8} {'rps/bare':>8}"
    )


def _print_half(scenario: str, o: Outcome, rate: float, bare: dict[str, float] | None) -> None:
    m = o.line()
    ratios = (
        f"{m['p50'] / bare['p50']:7.2f}x {m['p99'] / bare['p99']:7.2f}x "
        f"{m['rps'] / bare['rps']:7.2f}x"
        if bare
        else ""
    )
    print(
        f"  {scenario:<11} {m['p50']:7.1f} {m['p99']:7.1f} {m['rps']:8.1f} "
        f"{m['rps'] / rate:8.2f}  {ratios}",
        flush=True,
    )


def _header() -> None:
    print(
        f"  {'scenario':<11} {'cache':<5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'req/s':>8}  {'rps/bare':>7} {'p50/bare':>7}  {'cached':>6} {'results':>7}  "
        "cpu client/app (cores)"
    )


async def run(
    args: argparse.Namespace, data: Dataset, app: AppProcess, samples: list[Sampled]
) -> bool:
    """Every row of the table; whether all requests succeeded."""
    rng = random.Random(args.seed)
    with psycopg.connect(conninfo(data.url)) as conn:
        orgs = [row[0] for row in conn.execute("SELECT id FROM organizations ORDER BY id")]
    queries = Queries(samples, orgs, rng)
    headers = {org: {"Authorization": f"Bearer {api_key(org)[1]}"} for org in orgs}
    print(
        f"  {len(samples):,} sampled servers give the exact and multi queries; "
        f"concurrency {args.concurrency}, {args.requests} timed requests per row",
        flush=True,
    )
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(
        base_url=app.base_url, limits=limits, timeout=120, trust_env=False
    ) as client:

        async def measure(requests: list[Request]) -> Outcome:
            return await drive(client, requests, headers, args.concurrency, app.pid)

        async def serial(requests: list[Request]) -> Outcome:
            return await drive(client, requests, headers, 1, app.pid)

        warmup: list[Request] = []
        for _ in range(args.warmup):
            warmup.append(queries.bare())
            warmup.extend(queries.fresh(s) for s in SCENARIOS)
        rng.shuffle(warmup)
        started = time.perf_counter()
        done = await measure(warmup)
        if done.errors:
            print(f"  warm-up errors: {len(done.errors)}; first: {done.errors[0]}")
            return False
        print(f"  warm-up: {len(warmup)} requests in {time.perf_counter() - started:.1f}s")
        if args.unloaded:
            print(f"  unloaded: concurrency 1, {args.unloaded} cold requests each (no queueing)")
            _header()
            alone = Row("bare", "c=1", await serial([queries.bare() for _ in range(args.unloaded)]))
            _print_row(alone, None)
            for scenario in SCENARIOS:
                reqs = [queries.fresh(scenario) for _ in range(args.unloaded)]
                _print_row(Row(scenario, "c=1", await serial(reqs)), alone.outcome.line())
        print(f"  loaded: concurrency {args.concurrency}, {args.requests} requests each")
        _header()

        rows: list[Row] = []
        bare = Row("bare", "-", await measure([queries.bare() for _ in range(args.requests)]))
        rows.append(bare)
        _print_row(bare, None)
        base = bare.outcome.line()
        for scenario in SCENARIOS:
            cold = [queries.fresh(scenario) for _ in range(args.requests)]
            rows.append(Row(scenario, "cold", await measure(cold)))
            _print_row(rows[-1], base)
            pool = [queries.fresh(scenario) for _ in range(args.warm_pool)]
            await measure(pool)  # fills the cache
            warm = [rng.choice(pool) for _ in range(args.requests)]
            rows.append(Row(scenario, "warm", await measure(warm)))
            _print_row(rows[-1], base)
        again = Row("bare", "again", await measure([queries.bare() for _ in range(args.requests)]))
        rows.append(again)
        _print_row(again, base)

        # Fixed offered load: half of the bare endpoint's measured capacity (the mean of its
        # two saturated rows), the same rate for every scenario, cold queries only.
        rate = (base["rps"] + again.outcome.line()["rps"]) / 4
        print(
            f"  fixed offered load: {rate:.1f} req/s (half the bare capacity), "
            f"{args.requests} cold requests each, open loop"
        )
        _half_header()
        half_bare = await offer(
            client, [queries.bare() for _ in range(args.requests)], headers, rate, app.pid
        )
        _print_half("bare", half_bare, rate, None)
        for scenario in SCENARIOS:
            reqs = [queries.fresh(scenario) for _ in range(args.requests)]
            half = await offer(client, reqs, headers, rate, app.pid)
            rows.append(Row(scenario, "half", half))
            _print_half(scenario, half, rate, half_bare.line())

    failed = [(r, e) for r in rows for e in r.outcome.errors]
    if failed:
        print(f"  ERRORS: {len(failed)}; first: {failed[0][0].scenario}: {failed[0][1]}")
    print(
        "  (cold: every request a distinct (org, query): cache misses; warm: answered by the "
        "cache; 'results': mean search.total)"
    )
    _goals(rows, base)
    return not failed


def _goals(rows: list[Row], bare: dict[str, float]) -> None:
    met = True
    for row in rows:
        if row.scenario not in GOALS_P99_MS or row.cache == "half":
            continue
        m = row.outcome.line()
        limit = GOALS_P99_MS[row.scenario]
        p99_ok = m["p99"] < limit
        rps_ok = m["rps"] >= THROUGHPUT_GOAL * bare["rps"]
        if row.cache == "cold":
            met = met and p99_ok and rps_ok
        print(
            f"  goal {row.scenario:<10} {row.cache}: p99 {m['p99']:6.1f} ms < {limit:.0f} ms "
            f"{'met' if p99_ok else 'NOT met'}; throughput {m['rps'] / bare['rps']:.2f} of bare "
            f">= 0.33 {'met' if rps_ok else 'NOT met'}"
        )
    print(f"  goals (judged on the cold rows): {'all met' if met else 'NOT all met'}")


# -- EXPLAIN -----------------------------------------------------------------------------------


def explain(data: Dataset, samples: list[Sampled], verbose: bool) -> None:
    """Plans and timings of the search statements as the app role, for one organization."""
    from sqlalchemy import create_engine, text

    from sprintconnect.catalog import repository, service
    from sprintconnect.db.urls import normalize

    staging = next(s for s in samples if s.environment == "staging" and s.tags)
    settings = bench_settings(data.url, Path(tempfile.gettempdir()))
    base = {"org": staging.org_id, "status": None, "health": None, "kind": "tool"}
    statements: list[tuple[str, Any, dict[str, Any]]] = [
        (
            "exact",
            repository._EXACT,
            base | {"environment": "staging", "tags": [], "terms": [staging.tools[0]]},
        ),
        (
            "multi",
            repository._EXACT,
            base
            | {"environment": None, "tags": [staging.tags[0]], "terms": list(staging.tools[:2])},
        ),
    ]
    statements.append(
        (
            "words",
            repository._WORDS,
            base
            | {
                "environment": "production",
                "tags": [],
                "terms": ["weather"],
                "max_hits": service.MAX_HITS,
            },
        )
    )
    for label, word in (("fuzzy", "weather"), ("fuzzy-typo", "wether")):
        statements.append(
            (
                label,
                repository._FUZZY,
                base
                | {
                    "environment": "production",
                    "tags": [],
                    "terms": [word],
                    "patterns": [repository.similarity_prefilter(word, service.FUZZY_THRESHOLD)],
                    "threshold": service.FUZZY_THRESHOLD,
                    "max_hits": service.MAX_HITS,
                },
            )
        )
    engine = create_engine(normalize(data.url))
    try:
        with engine.connect() as conn:
            role = conn.dialect.identifier_preparer.quote(settings.database_app_role)
            conn.execute(text(f"SET ROLE {role}"))
            conn.execute(
                text("SELECT set_config('app.org_id', :org, false)"), {"org": str(staging.org_id)}
            )
            for label, statement, params in statements:
                plan = [
                    row[0]
                    for row in conn.execute(
                        text("EXPLAIN (ANALYZE, BUFFERS) " + statement.text), params
                    )
                ]
                summary = "; ".join(
                    line.strip() for line in plan if line.startswith(("Planning Time", "Execution"))
                )
                print(f"  EXPLAIN {label:<10} {summary}")
                if label in ("exact", "words", "fuzzy") or verbose:
                    for line in plan:
                        print(f"      {line}")
            conn.rollback()
    finally:
        engine.dispose()


# -- entry point -------------------------------------------------------------------------------


def _runner() -> asyncio.Runner:
    """The client's event loop: uvloop when installed (uvicorn's own choice), so the load
    generator takes as little of the shared cores as it can."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def parse(argv: list[str]) -> tuple[argparse.Namespace, Shape]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks search",
        description="Capability search over HTTP against the bare authenticated endpoint: "
        "exact, multi, words and fuzzy queries, cold and cached, at saturation and at a fixed "
        "offered load of half the bare endpoint's capacity. Builds its own dataset in a "
        "scratch database (1,000 organizations x 100 servers x 20 tools unless told).",
        epilog="Figures are ratios to the bare endpoint measured in the same run; absolute "
        "numbers depend on the cores the client, the app and PostgreSQL share. "
        'Example: make bench ARGS="search --quick"',
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run: 100 organizations, 600 requests per row, no unloaded rows "
        "(options given explicitly still win)",
    )
    parser.add_argument("--requests", type=int, default=3000, help="timed per row (3000)")
    parser.add_argument("--concurrency", type=int, default=32, help="in flight (32)")
    parser.add_argument("--warmup", type=int, default=100, help="rounds of every scenario (100)")
    parser.add_argument("--warm-pool", type=int, default=200, help="cached queries (200)")
    parser.add_argument(
        "--unloaded", type=int, default=300, help="requests at concurrency 1 (300; 0: skip)"
    )
    parser.add_argument("--pool-size", type=int, help="database_pool_size of the app")
    parser.add_argument("--explain-all", action="store_true", help="print every plan")
    add_shape_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    if min(args.requests, args.concurrency, args.warmup, args.warm_pool) < 1 or args.unloaded < 0:
        parser.error("every number must be at least 1")
    return args, shape_of(args, parser)


def main(argv: list[str] | None = None) -> None:
    args, shape = parse(argv or [])
    overrides: dict[str, Any] = {}
    if args.pool_size:
        overrides["database_pool_size"] = args.pool_size
    ok = False
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-search-") as folder,
        open_dataset(shape, keep=args.keep, reuse=args.reuse, data_dir=Path(folder)) as data,
    ):
        built = f"built in {data.build_seconds:.1f}s" if data.build_seconds else "reused"
        print(
            f"  dataset {data.name} ({built}) on {data.where}: {data.shape.orgs:,} orgs, "
            f"{data.shape.servers:,} servers, {data.shape.tools:,} tools",
            flush=True,
        )
        samples = sample_servers(data.url, data.shape)
        with app_process(data.url, Path(folder) / "app", overrides) as app, _runner() as runner:
            before = _rss_mib(app.pid)
            print(f"  app process RSS before the search load: {before:.1f} MiB", flush=True)
            ok = runner.run(run(args, data, app, samples))
            after = _rss_mib(app.pid)
            held = _cache_bytes(app.base_url)
            budget = bench_settings(data.url, Path(folder), **overrides).search_cache_max_bytes
            holds = f"holds {held / (1024 * 1024):.2f} MiB of its " if held is not None else ""
            print(
                f"  app process RSS after the search load: {after:.1f} MiB "
                f"({after - before:+.1f} MiB); the in-process search cache {holds}"
                f"{budget / (1024 * 1024):.1f} MiB budget",
                flush=True,
            )
        explain(data, samples, args.explain_all)
    if not ok:
        raise SystemExit(1)
