"""The gateway's cost per call: ``tools/call`` of an echo tool through ``/mcp/{org}/{toolset}``
against the same SDK client calling the upstream server directly, in the same run.

Processes, each alone (spawned or started as a command), all on this machine's cores:

* the upstream: an ``mcp`` SDK ``MCPServer`` with one ``echo`` tool under uvicorn, SDK defaults
  (stateful streamable HTTP, SSE answers; ``--upstream-json``: JSON answers)
  (``gateway_load.upstream_server``). The SDK client does not reuse a connection after an SSE
  answer: with the defaults, every call opens a TCP connection (to the upstream directly; to
  the gateway, and from the gateway to the upstream), with JSON answers connections are kept;
* SprintConnect as deployed (as ``visible`` runs it): a scratch database (PostgreSQL on
  127.0.0.1:5432 when it answers, else the embedded one) migrated with ``sprintconnect
  migrate``, an organization from ``sprintconnect admin bootstrap``, one ``sprintconnect serve``
  process (no in-process worker), loopback egress allowed, the API-key, organization and egress
  rate limits raised so that they never throttle, logs as JSON lines into files. A
  ``sprintconnect worker`` runs only while the upstream is registered
  (``POST /api/v1/servers?wait=true``, so discovered) and is stopped before anything is
  measured. The organization's gateway limits are lifted (``PATCH /api/v1/organization``,
  ``""`` = no limit) and a toolset exposes the upstream's tools;
* the client: the ``mcp`` SDK (``streamable_http_client`` on its own ``httpx2`` client +
  ``ClientSession``, one initialized session per concurrent worker), in a process of its own,
  on uvloop when installed. Every answer is checked (not ``isError``, the echoed text).

Peak (closed loop): at each ``--concurrency`` (1 and 32), every session calls again as soon
as its answer is in, for ``--duration`` seconds after ``--warmup`` seconds of the same load.
``--rounds`` rounds alternate direct and gateway, so that load from elsewhere on the machine
falls on both alike. Calls/s is each side's best round; latency percentiles pool every round.
Added latency is gateway minus direct at the same percentile.

Fixed offered load (open loop, below saturation): half of the gateway's slowest peak round at
the highest concurrency (``--fixed-rate`` to choose), offered to both sides over ``--sessions``
(64) sessions; call ``i`` is due at ``i / rate`` s whatever became of the earlier ones and its
latency counts from then (no coordinated omission; ``late ms`` is the client's own worst lag
behind the schedule).

The gateway's own measurement of each call (``tool_calls.latency_ms``: from the argument check
to the upstream's answer, without authentication, toolset lookup and the SDK's request
handling) is read back for the same time windows.

CPU per call: the user + system time (``/proc``) that serve, the upstream and the client spent
during each timed part, divided by the calls answered. Where serve's CPU per call approaches a
core's time per call, the gateway is the bottleneck, whatever the latency says.

Rate limits: the gateway's class limits are lifted, so they are not counted; the API-key,
organization and egress limits stay on, raised, and counted in memory (no Redis: a single
process). ``limits``' in-memory moving window keeps one timestamp per hit inside the window,
so at a raised limit its lists are as long as a minute of calls.

``--profile-out PATH`` then starts another ``serve`` (same database, once the measured one has
stopped) under a profiler that records only while the client's timed load runs
(``gateway_profiled``: signals switch it), at the highest concurrency for ``--duration`` s (10
at least). cProfile by default: the top functions by self time, self time by package and
SprintConnect's functions by cumulative time are printed, the stats saved to PATH; a PATH
ending in ``.txt`` records pyinstrument's call tree instead, when it can be imported. A
profiler slows the process down: shares, not times, are its figures; cProfile's cumulative
times are unreliable across SQLAlchemy's greenlets and coroutines (they can exceed the total).

Goals (issue 16): added p50 under 3 ms, and gateway throughput at least half of direct.
Run: ``python -m benchmarks gateway [--quick] [--duration S --rounds N --concurrency 1,32
--upstream-json --profile-out P]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from .discovery import scratch_database
from .gateway_load import Client, Load, Upstream, client_process, upstream_server
from .gateway_profiled import print_profile
from .search_dataset import conninfo
from .visible import CLI, _answers, _env, _free_port, _process, _wait_for

ADDED_P50_GOAL_MS = 3.0
THROUGHPUT_GOAL = 0.5
TOOLSET = "bench"
QUICK = {"duration": 4.0, "warmup": 1.0, "rounds": 2}
MODES = ("direct", "gateway")
PROFILE_SECONDS = 10.0  # at least, so that a quick run's profile holds enough calls


# -- SprintConnect -----------------------------------------------------------------------------


@dataclass
class Deployment:
    base_url: str
    headers: dict[str, str]
    endpoint: str  # the toolset's MCP URL
    env: dict[str, str]
    folder: Path
    database_url: str  # libpq, as the owner: reads the gateway's measurements
    serve_pid: int


def _check(answer: httpx.Response, status: int, what: str) -> Any:
    if answer.status_code != status:
        raise RuntimeError(f"{what} answered {answer.status_code}: {answer.text[:1000]}")
    return answer.json()


def _serve_command(port: int, profile: Path | None) -> list[str]:
    serve = ["serve", "--port", str(port)]
    if profile is None:
        return [*CLI, *serve]
    return [CLI[0], "-m", "benchmarks.gateway_profiled", str(profile), *serve]


@contextlib.contextmanager
def serving(
    env: dict[str, str], folder: Path, name: str, profile: Path | None = None
) -> Iterator[tuple[str, int]]:
    """``sprintconnect serve`` (under cProfile when ``profile``): its base URL and pid."""
    port = _free_port()
    log = folder / f"{name}.log"
    root = Path(__file__).resolve().parent.parent  # where ``benchmarks`` imports from
    with _process(_serve_command(port, profile), env, log, cwd=root) as serve:
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _answers(base_url + "/readyz"), name, serve, log)
        yield base_url, serve.pid


@contextlib.contextmanager
def deployment(database_url: str, folder: Path, upstream_url: str) -> Iterator[Deployment]:
    """Migrate, bootstrap, register and discover the upstream, lift the gateway limits, make
    the toolset; ``serve`` keeps running, the worker is stopped."""
    env = _env(database_url, folder / "data")
    # /mcp calls count against the organization's request budget too: raised like the others.
    env["SPRINTCONNECT_ORG_RATE_LIMIT"] = "1000000/minute"

    def cli(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own arguments
            [*CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"sprintconnect {args[0]} failed:\n{done.stderr[-2000:]}")
        return str(done.stdout)

    cli("migrate")
    booted = json.loads(cli("admin", "bootstrap", "--org", "Gateway Bench", "--email", "g@x.io"))
    headers = {"Authorization": f"Bearer {booted['api_key']['key']}"}
    slug = booted["organization"]["slug"]
    worker_log = folder / "worker.log"
    with serving(env, folder, "serve") as (base_url, pid):
        with (
            _process([*CLI, "worker"], env, worker_log) as worker,
            httpx.Client(base_url=base_url, headers=headers, timeout=120, trust_env=False) as api,
        ):
            _wait_for(
                lambda: b"worker: running" in worker_log.read_bytes(), "worker", worker, worker_log
            )
            registered = _check(
                api.post(
                    "/api/v1/servers",
                    params={"wait": "true"},
                    json={
                        "name": "echo-upstream",
                        "url": upstream_url,
                        "environment": "staging",
                        "auto_discover": True,
                    },
                ),
                201,
                "POST /api/v1/servers?wait=true",
            )
            if (registered.get("discovery") or {}).get("status") != "succeeded":
                raise RuntimeError(f"the upstream's discovery did not succeed: {registered}")
            _check(
                api.patch(
                    "/api/v1/organization",
                    json={"gateway_limits": {"read": "", "write": "", "expensive": ""}},
                ),
                200,
                "PATCH /api/v1/organization",
            )
            toolset = _check(
                api.post(
                    "/api/v1/toolsets",
                    json={
                        "name": TOOLSET,
                        "servers": [{"server_id": registered["server"]["id"]}],
                    },
                ),
                201,
                "POST /api/v1/toolsets",
            )
            tools = _check(
                api.get(f"/api/v1/toolsets/{toolset['id']}/tools"), 200, "the toolset's tools"
            )
            if "echo" not in json.dumps(tools):
                raise RuntimeError(f"the toolset does not expose echo: {tools}")
        # The worker is stopped here: nothing but serve runs SprintConnect while measuring.
        yield Deployment(
            base_url,
            headers,
            f"{base_url}/mcp/{slug}/{TOOLSET}",
            env,
            folder,
            conninfo(database_url),
            pid,
        )


def gateway_measured(database_url: str, load: Load) -> tuple[float, float, int, int]:
    """The gateway's own latency (p50, p99 ms) of the calls in ``load``'s window; rows, not ok."""
    query = """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms),
               count(*), count(*) FILTER (WHERE status <> 'ok')
          FROM tool_calls
         WHERE source = 'gateway' AND at BETWEEN %s AND %s
    """
    window = (
        datetime.fromtimestamp(load.began_at, UTC),
        datetime.fromtimestamp(load.ended_at + 0.5, UTC),
    )
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query, window).fetchone()
    assert row is not None
    return float(row[0] or "nan"), float(row[1] or "nan"), int(row[2]), int(row[3])


# -- the measurements --------------------------------------------------------------------------


@dataclass
class Cell:
    """One side at one concurrency (or at the fixed load): every round's load."""

    rounds: list[Load] = field(default_factory=list)

    def best(self) -> Load:
        return max(self.rounds, key=Load.rate)

    def pooled(self) -> Load:
        pooled = Load()
        for load in self.rounds:
            pooled = pooled.merged(load)
        return pooled


def _job(dep: Deployment, upstream: Upstream, mode: str) -> dict[str, Any]:
    watch = {"serve": dep.serve_pid, "upstream": upstream.pid}
    if mode == "direct":
        return {"url": upstream.url, "headers": {}, "watch": watch}
    return {"url": dep.endpoint, "headers": dep.headers, "watch": watch}


def _timeout(args: argparse.Namespace) -> float:
    return float(args.warmup + args.duration + 120)


def peaks(
    args: argparse.Namespace, dep: Deployment, upstream: Upstream, client: Client
) -> dict[tuple[str, int], Cell]:
    cells = {(mode, c): Cell() for c in args.concurrency for mode in MODES}
    for n in range(args.rounds):
        for concurrency in args.concurrency:
            order = MODES if n % 2 == 0 else MODES[::-1]
            for mode in order:
                job = _job(dep, upstream, mode) | {
                    "kind": "closed",
                    "sessions": concurrency,
                    "seconds": args.duration,
                    "warmup": args.warmup,
                }
                load = client.run(job, timeout=_timeout(args))
                cells[(mode, concurrency)].rounds.append(load)
                print(
                    f"    round {n + 1}: {mode:<8} concurrency {concurrency:>3} "
                    f"{load.rate():8.1f} calls/s  p50 {load.ms(50):6.2f} ms  "
                    f"errors {load.errors}",
                    flush=True,
                )
    return cells


def fixed(
    args: argparse.Namespace, dep: Deployment, upstream: Upstream, client: Client, rate: float
) -> dict[str, Cell]:
    cells = {mode: Cell() for mode in MODES}
    for n in range(args.rounds):
        for mode in MODES if n % 2 == 0 else MODES[::-1]:
            job = _job(dep, upstream, mode) | {
                "kind": "open",
                "sessions": args.sessions,
                "rate": rate,
                "seconds": args.duration,
                "warmup": args.warmup,
            }
            cells[mode].rounds.append(client.run(job, timeout=_timeout(args)))
    return cells


CPU_HEAD = f"{'cpu ms/call: serve':>19} {'upstream':>8} {'client':>6}"


def _cpu(load: Load) -> str:
    serve, upstream, client = (load.cpu_ms_per_call(n) for n in ("serve", "upstream", "client"))
    return f"{serve:19.2f} {upstream:8.2f} {client:6.2f}"


def _errors(load: Load) -> str:
    return f"{load.errors:6d}" + (f"  first: {load.first_error}" if load.first_error else "")


def report_peaks(cells: dict[tuple[str, int], Cell], concurrencies: list[int]) -> None:
    print(
        f"  {'mode':<8} {'conc':>4} {'calls/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'+p50 ms':>8} {'+p99 ms':>8} {'gw/direct':>9} {CPU_HEAD} {'errors':>6}"
    )
    for concurrency in concurrencies:
        direct = cells[("direct", concurrency)]
        base, base_best = direct.pooled(), direct.best()
        for mode in MODES:
            cell = cells[(mode, concurrency)]
            pooled, best = cell.pooled(), cell.best()
            added = ratio = ""
            if mode == "gateway":
                added = f"{pooled.ms(50) - base.ms(50):8.2f} {pooled.ms(99) - base.ms(99):8.2f}"
                ratio = f"{best.rate() / base_best.rate():8.2f}x"
            print(
                f"  {mode:<8} {concurrency:>4} {best.rate():9.1f} {pooled.ms(50):7.2f} "
                f"{pooled.ms(99):7.2f} {added:>17} {ratio:>9} {_cpu(pooled)} {_errors(pooled)}",
                flush=True,
            )


def report_fixed(cells: dict[str, Cell], rate: float, sessions: int, label: str) -> None:
    print(
        f"  fixed offered load {rate:.1f} calls/s ({label}), open loop over "
        f"{sessions} sessions, latency from each call's due time:"
    )
    print(
        f"  {'mode':<8} {'calls/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'+p50 ms':>8} {'+p99 ms':>8} {'late ms':>7} {CPU_HEAD} {'errors':>6}"
    )
    base = cells["direct"].pooled()
    for mode in MODES:
        pooled = cells[mode].pooled()
        achieved = sum(len(load.latencies) for load in cells[mode].rounds) / sum(
            load.wall for load in cells[mode].rounds
        )
        added = ""
        if mode == "gateway":
            added = f"{pooled.ms(50) - base.ms(50):8.2f} {pooled.ms(99) - base.ms(99):8.2f}"
        print(
            f"  {mode:<8} {achieved:9.1f} {pooled.ms(50):7.2f} {pooled.ms(95):7.2f} "
            f"{pooled.ms(99):7.2f} {added:>17} {pooled.late * 1e3:7.1f} {_cpu(pooled)} "
            f"{_errors(pooled)}",
            flush=True,
        )


def report_inside(
    dep: Deployment, peak: dict[tuple[str, int], Cell], fixed_cells: dict[str, Cell]
) -> None:
    print(
        "  the gateway's own measurement (tool_calls.latency_ms: argument check -> upstream "
        "answer; not auth, toolset lookup, SDK):"
    )
    rows: list[tuple[str, list[Load]]] = [
        (f"concurrency {c}", cell.rounds) for (mode, c), cell in peak.items() if mode == "gateway"
    ]
    rows.append(("fixed load", fixed_cells["gateway"].rounds))
    for label, loads in rows:
        found = [gateway_measured(dep.database_url, load) for load in loads]
        counted = sum(f[2] for f in found)
        not_ok = sum(f[3] for f in found)
        p50s = ", ".join(f"{f[0]:.2f}" for f in found)
        p99s = ", ".join(f"{f[1]:.2f}" for f in found)
        print(
            f"    {label:<16} p50 ms per round [{p50s}]  p99 ms [{p99s}]  rows {counted} "
            f"(not ok: {not_ok})"
        )


def goals(
    peak: dict[tuple[str, int], Cell], fixed_cells: dict[str, Cell], concurrencies: list[int]
) -> bool:
    low, high = min(concurrencies), max(concurrencies)
    added = peak[("gateway", low)].pooled().ms(50) - peak[("direct", low)].pooled().ms(50)
    added_fixed = fixed_cells["gateway"].pooled().ms(50) - fixed_cells["direct"].pooled().ms(50)
    ratio = peak[("gateway", high)].best().rate() / peak[("direct", high)].best().rate()
    verdict_added = "met" if added < ADDED_P50_GOAL_MS else "NOT met"
    verdict_ratio = "met" if ratio >= THROUGHPUT_GOAL else "NOT met"
    print(
        f"  goal: added p50 < {ADDED_P50_GOAL_MS:g} ms at concurrency {low}: {added:.2f} ms, "
        f"{verdict_added} (at the fixed offered load: {added_fixed:.2f} ms)"
    )
    print(
        f"  goal: gateway throughput >= {THROUGHPUT_GOAL}x direct at concurrency {high}: "
        f"{ratio:.2f}x, {verdict_ratio}"
    )
    gateway = peak[("gateway", high)]
    print(
        "  for scale: the closest Python peer (ContextForge) reports about 740 calls/s at p99 "
        f"640 ms on larger hardware; here, on {os.cpu_count()} cores shared by client, "
        f"upstream, gateway and PostgreSQL: {gateway.best().rate():.0f} calls/s at p99 "
        f"{gateway.pooled().ms(99):.1f} ms (concurrency {high})"
    )
    loads = [load for cell in [*peak.values(), *fixed_cells.values()] for load in cell.rounds]
    return not any(load.errors for load in loads)


# -- the profile -------------------------------------------------------------------------------


def profile(args: argparse.Namespace, dep: Deployment, client: Client) -> None:
    out: Path = args.profile_out.resolve()
    out.unlink(missing_ok=True)  # never report an older run's stats
    high = max(args.concurrency)
    with serving(dep.env, dep.folder, "serve-profiled", profile=out) as (base_url, pid):
        job = {
            "url": dep.endpoint.replace(dep.base_url, base_url),
            "headers": dep.headers,
            "watch": {"serve": pid},
            "profiled": pid,
            "kind": "closed",
            "sessions": high,
            "seconds": max(args.duration, PROFILE_SECONDS),
            "warmup": args.warmup,
        }
        try:
            load = client.run(job, timeout=_timeout(args) + PROFILE_SECONDS * 3)
        except RuntimeError:
            print(_tail(dep.folder / "serve-profiled.log"))
            raise
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    print(
        f"  under cProfile, concurrency {high}: {load.rate():.1f} calls/s, "
        f"{len(load.latencies)} calls, serve CPU {load.cpu_ms_per_call('serve'):.2f} ms/call, "
        f"errors {load.errors}"
    )
    if not out.exists():
        print(f"  no profile was written to {out}; see {dep.folder / 'serve-profiled.log'}")
        print(_tail(dep.folder / "serve-profiled.log"))
        return
    if out.suffix == ".txt":
        print(f"  pyinstrument's call tree of serve under that load: {out}")
        return
    print_profile(out, max(1, len(load.latencies)))


# -- the run -----------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks gateway",
        description="tools/call of an echo tool through the gateway (one 'sprintconnect serve') "
        "against the same mcp SDK client calling the upstream directly: calls/s and latency "
        "at each concurrency (closed loop), and latency at a fixed offered load below the "
        "gateway's peak (open loop).",
        epilog="Added latency and the throughput ratio, measured in the same run, are the "
        'figures. Example: make bench ARGS="gateway --quick"',
    )
    parser.add_argument("--quick", action="store_true", help="4 s rows, 2 rounds")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per row (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each row (3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds alternating sides (3)")
    parser.add_argument(
        "--concurrency",
        type=lambda text: sorted({int(part) for part in text.split(",") if part}),
        default=[1, 32],
        help="comma-separated sessions in flight, closed loop (1,32)",
    )
    parser.add_argument(
        "--sessions", type=int, default=64, help="fixed load: sessions at most (64)"
    )
    parser.add_argument(
        "--fixed-rate",
        type=float,
        help="fixed offered load in calls/s (default: half the gateway's slowest peak round)",
    )
    parser.add_argument(
        "--upstream-json",
        action="store_true",
        help="the upstream answers with JSON bodies instead of SSE streams (SDK default)",
    )
    parser.add_argument(
        "--profile-out",
        type=Path,
        help="then profile serve under load: cProfile stats to this file (.txt: pyinstrument's "
        "call tree, when it can be imported)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    if min(args.duration, args.rounds, args.sessions, *args.concurrency) <= 0 or (
        args.fixed_rate is not None and args.fixed_rate <= 0
    ):
        parser.error("every number must be positive")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def measure(args: argparse.Namespace, dep: Deployment, upstream: Upstream, client: Client) -> bool:
    peak = peaks(args, dep, upstream, client)
    print(
        "  peak, closed loop (calls/s: best round; latency: every round pooled; "
        "+: gateway - direct):"
    )
    report_peaks(peak, args.concurrency)
    # Half the gateway's slowest peak round: load from elsewhere on a shared machine can make
    # half its best round a saturating load, which this row must not be.
    slowest = min(load.rate() for load in peak[("gateway", max(args.concurrency))].rounds)
    rate = args.fixed_rate or slowest / 2
    fixed_cells = fixed(args, dep, upstream, client, rate)
    label = "as asked" if args.fixed_rate else "half the gateway's slowest peak round"
    report_fixed(fixed_cells, rate, args.sessions, label)
    time.sleep(1.0)  # the gateway writes its measurements every 0.5 s
    report_inside(dep, peak, fixed_cells)
    clean = goals(peak, fixed_cells, args.concurrency)
    print(f"  after the run: {_machine()}")
    if not clean:
        print("  ERRORS: some calls failed (see the errors column)")
        print(_tail(dep.folder / "serve.log"))
    return clean


def _machine() -> str:
    """Load from elsewhere shows in every figure: what the machine was doing."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def _tail(log: Path, lines: int = 20) -> str:
    """The end of a log, to show what a server said about a failure."""
    found = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
    return f"  {log.name} ends:\n" + "\n".join(f"    {line[:600]}" for line in found)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv or [])
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-gateway-") as name,
        scratch_database(Path(name)) as (database_url, where),
        upstream_server(Path(name) / "upstream.log", json_response=args.upstream_json) as upstream,
        client_process() as client,
    ):
        with deployment(database_url, Path(name), upstream.url) as dep:
            print(
                f"  serve up, upstream discovered, toolset '{TOOLSET}' ready in "
                f"{time.perf_counter() - started:.1f}s [{where}]; client, upstream and serve "
                f"in processes of their own; {args.duration:g}s rows after {args.warmup:g}s "
                f"warm-up, {args.rounds} rounds alternating; {_machine()}",
                flush=True,
            )
            try:
                clean = measure(args, dep, upstream, client)
            except RuntimeError:
                print(_tail(dep.folder / "serve.log"))
                raise
        if args.profile_out is not None:  # a serve of its own, once the measured one stopped
            profile(args, dep, client)
    if not clean:
        raise SystemExit(1)
