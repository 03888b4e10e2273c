"""Register -> capabilities visible, against a bare SDK client listing the same server.

The server: the npm package ``@modelcontextprotocol/server-everything`` (the pin of
``tests/npm``, streamable HTTP, 11 tools, 100 resources in pages of 10, a template and 3
prompts), started here on a loopback port. Run ``make npm-test-servers`` first.

SprintConnect runs as it is deployed: a scratch database (PostgreSQL on 127.0.0.1:5432 when
it answers, else the embedded one) migrated with ``sprintconnect migrate``, an organization
from ``sprintconnect admin bootstrap``, the API as ``sprintconnect serve`` (uvicorn, no
in-process worker) and one ``sprintconnect worker`` process, loopback egress allowed and the
egress and API-key rate limits raised so that they do not throttle. Logs go to files.

Each round, in this order so that load drifts hit every side alike:

- bare: a plain ``mcp`` client (``streamable_http_client`` + ``ClientSession``) initializes and
  lists tools, resources, templates and prompts, following every ``nextCursor``;
- no wait: ``POST /api/v1/servers`` (``auto_discover``), then
  ``GET /api/v1/servers/{id}/capabilities`` every ``--poll-ms`` until it answers 200; timed
  are the POST's own answer and POST start -> the first 200;
- wait: ``POST /api/v1/servers?wait=true``, which answers once the discovery has finished,
  then one ``GET .../capabilities``; timed are the POST's answer and POST start -> that 200.

For the rounds that did not wait, the discovery's own timestamps split the time: queued ->
started (outbox relay, job pickup) and started -> finished (connect, list, store, commit).
The goal (issue 11): visible within 2x the bare client's time, the POST in tens of ms.
Run: ``python -m benchmarks visible [--rounds N --poll-ms M]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from .discovery import bare_discover, scratch_database
from .search_dataset import conninfo
from .stats import percentile

NPM_DIR = Path(__file__).resolve().parent.parent / "tests" / "npm"
EVERYTHING = NPM_DIR / "node_modules" / ".bin" / "mcp-server-everything"
# Everything this pin lists to a client that declares neither roots nor elicitation.
EVERYTHING_ITEMS = 11 + 100 + 1 + 3
GOAL = 2.0
CLI = [sys.executable, "-m", "sprintconnect"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(check: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in 60 s:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(url, timeout=1, trust_env=False).status_code == 200
    return False


def _listening(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@contextlib.contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own arguments
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def everything_server(folder: Path) -> Iterator[str]:
    """server-everything on a free loopback port; its MCP URL."""
    if not EVERYTHING.exists():
        raise SystemExit("server-everything is not installed: run `make npm-test-servers`")
    port = _free_port()
    log = folder / "everything.log"
    env = {**os.environ, "PORT": str(port)}
    with _process([str(EVERYTHING), "streamableHttp"], env, log, cwd=NPM_DIR) as process:
        _wait_for(lambda: _listening(port), "server-everything", process, log)
        yield f"http://127.0.0.1:{port}/mcp"


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTCONNECT_")}
    env.update(
        SPRINTCONNECT_DATABASE_URL=database_url,
        SPRINTCONNECT_DATA_DIR=str(data_dir),
        SPRINTCONNECT_SECRET_KEY=secrets.token_urlsafe(48),
        SPRINTCONNECT_INPROCESS_WORKER="false",
        SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK="true",
        SPRINTCONNECT_EGRESS_RATE_LIMIT="1000000/minute",
        SPRINTCONNECT_API_KEY_RATE_LIMIT="1000000/minute",
        SPRINTCONNECT_LOG_FORMAT="json",
        SPRINTCONNECT_LOG_LEVEL="info",
    )
    env.pop("REDIS_URL", None)
    return env


@dataclass
class Deployment:
    base_url: str
    headers: dict[str, str]
    database_url: str  # a libpq connection string, as the owner: for the pickup timestamps


@contextlib.contextmanager
def deployment(database_url: str, folder: Path) -> Iterator[Deployment]:
    """Migrate, bootstrap, and run ``serve`` and ``worker`` as their own processes."""
    env = _env(database_url, folder / "data")

    def cli(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own arguments
            [*CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"sprintconnect {args[0]} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    cli("migrate")
    booted = json.loads(cli("admin", "bootstrap", "--org", "Visible Bench", "--email", "b@x.io"))
    headers = {"Authorization": f"Bearer {booted['api_key']['key']}"}
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    worker_log, serve_log = folder / "worker.log", folder / "serve.log"
    with (
        _process([*CLI, "worker"], env, worker_log) as worker,
        _process([*CLI, "serve", "--port", str(port)], env, serve_log) as serve,
    ):
        _wait_for(
            lambda: b"worker: running" in worker_log.read_bytes(), "worker", worker, worker_log
        )
        _wait_for(lambda: _answers(base_url + "/readyz"), "serve", serve, serve_log)
        yield Deployment(base_url, headers, conninfo(database_url))


@dataclass
class Samples:
    bare: list[float] = field(default_factory=list)
    post: list[float] = field(default_factory=list)
    visible: list[float] = field(default_factory=list)
    post_wait: list[float] = field(default_factory=list)
    visible_wait: list[float] = field(default_factory=list)
    queued: list[float] = field(default_factory=list)
    running: list[float] = field(default_factory=list)
    polls: list[int] = field(default_factory=list)
    # From the POST's answer (client clock) to each step's database timestamp (same machine).
    relayed: list[float] = field(default_factory=list)
    job_started: list[float] = field(default_factory=list)
    discovery_started: list[float] = field(default_factory=list)


def _seconds(later: str, earlier: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


async def _register(
    api: httpx.AsyncClient, dep: Deployment, url: str, name: str, wait: bool
) -> Any:
    answer = await api.post(
        "/api/v1/servers",
        params={"wait": "true"} if wait else None,
        json={"name": name, "url": url, "environment": "staging", "auto_discover": True},
        headers=dep.headers,
    )
    if answer.status_code != 201:
        raise RuntimeError(f"registration answered {answer.status_code}: {answer.text[:500]}")
    return answer.json()


async def _capabilities(api: httpx.AsyncClient, dep: Deployment, server_id: str) -> int:
    answer = await api.get(f"/api/v1/servers/{server_id}/capabilities", headers=dep.headers)
    if answer.status_code == 200:
        items = len(answer.json()["items"])
        if items != EVERYTHING_ITEMS:
            raise RuntimeError(f"capabilities hold {items} items, expected {EVERYTHING_ITEMS}")
    elif answer.status_code != 404:
        raise RuntimeError(f"capabilities answered {answer.status_code}: {answer.text[:500]}")
    return answer.status_code


_PICKUP_SQL = """
SELECT extract(epoch FROM o.dispatched_at),
       (SELECT extract(epoch FROM min(e.at)) FROM procrastinate_jobs j
          JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'started'
         WHERE j.queueing_lock = 'outbox:' || o.id),
       (SELECT extract(epoch FROM d.started_at) FROM discoveries d WHERE d.id = %(id)s)
  FROM outbox_events o WHERE o.idempotency_key = 'discovery:' || %(id)s
"""


def _pickup(database_url: str, discovery_id: str, answered: float) -> tuple[float, ...]:
    """Seconds from the POST's answer to: the relay's claim, the job's start, the discovery's."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(_PICKUP_SQL, {"id": discovery_id}).fetchone()
    if row is None or None in row:
        raise RuntimeError(f"no pickup timestamps for discovery {discovery_id}: {row}")
    return tuple(float(at) - answered for at in row)


async def one_round(
    api: httpx.AsyncClient, dep: Deployment, url: str, n: int, poll: float, out: Samples | None
) -> None:
    began = time.perf_counter()
    seen = await bare_discover(url)
    bare = time.perf_counter() - began
    if seen != EVERYTHING_ITEMS:
        raise RuntimeError(f"the bare client saw {seen} items, expected {EVERYTHING_ITEMS}")

    began = time.perf_counter()
    registered = await _register(api, dep, url, f"visible-{n:04d}", wait=False)
    post = time.perf_counter() - began
    answered = time.time()
    server_id, polls = registered["server"]["id"], 0
    while await _capabilities(api, dep, server_id) != 200:
        polls += 1
        if time.perf_counter() - began > 60:
            raise RuntimeError("capabilities not visible within 60 s")
        await asyncio.sleep(poll)
    visible = time.perf_counter() - began
    found = (
        await api.get(f"/api/v1/discoveries/{registered['discovery_id']}", headers=dep.headers)
    ).json()

    began = time.perf_counter()
    waited = await _register(api, dep, url, f"visible-wait-{n:04d}", wait=True)
    post_wait = time.perf_counter() - began
    if (waited.get("discovery") or {}).get("status") != "succeeded":
        raise RuntimeError(f"wait=true answered without a finished discovery: {waited}")
    if await _capabilities(api, dep, waited["server"]["id"]) != 200:
        raise RuntimeError("wait=true answered before the capabilities were visible")
    visible_wait = time.perf_counter() - began

    if out is not None:
        out.bare.append(bare)
        out.post.append(post)
        out.visible.append(visible)
        out.post_wait.append(post_wait)
        out.visible_wait.append(visible_wait)
        out.queued.append(_seconds(found["started_at"], found["created_at"]))
        out.running.append(_seconds(found["finished_at"], found["started_at"]))
        out.polls.append(polls)
        relayed, job, started = _pickup(dep.database_url, registered["discovery_id"], answered)
        out.relayed.append(relayed)
        out.job_started.append(job)
        out.discovery_started.append(started)


def _line(label: str, samples: list[float], bare: float | None = None) -> None:
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    ratio = f"  {p50 / bare:5.2f}x bare" if bare else ""
    print(f"  {label:<44} p50={p50 * 1e3:7.1f}ms  p95={p95 * 1e3:7.1f}ms{ratio}")


async def run(args: argparse.Namespace, url: str, dep: Deployment) -> Samples:
    samples = Samples()
    async with httpx.AsyncClient(base_url=dep.base_url, timeout=120, trust_env=False) as api:
        for n in range(args.warmup + args.rounds):
            warm = n < args.warmup
            await one_round(api, dep, url, n, args.poll_ms / 1000, None if warm else samples)
    return samples


def report(samples: Samples) -> None:
    bare = percentile(samples.bare, 50)
    _line("bare mcp SDK client: initialize + list all", samples.bare)
    _line("POST /servers, its own answer", samples.post)
    _line("POST /servers -> capabilities visible", samples.visible, bare)
    _line("  of which queued -> discovery started", samples.queued)
    _line("  of which discovery started -> finished", samples.running)
    _line("POST answered -> outbox event relayed", samples.relayed)
    _line("POST answered -> job started (procrastinate)", samples.job_started)
    _line("POST answered -> discovery marked started", samples.discovery_started)
    _line("POST /servers?wait=true, its answer", samples.post_wait, bare)
    _line("POST ?wait=true -> capabilities read", samples.visible_wait, bare)
    print(f"  polls of the capabilities before visible: p50={percentile(samples.polls, 50)}")
    ratio = percentile(samples.visible, 50) / bare
    ratio_wait = percentile(samples.visible_wait, 50) / bare
    verdict = "met" if max(ratio, ratio_wait) <= GOAL else "NOT met"
    print(
        f"  goal visible <= {GOAL:.0f}x bare: {verdict} (no wait {ratio:.2f}x, wait "
        f"{ratio_wait:.2f}x); POST answer p50 {percentile(samples.post, 50) * 1e3:.1f} ms"
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks visible",
        description="Register a server and time until its capabilities are readable through "
        "the API (serve + worker processes), against a bare MCP SDK client listing the same "
        "server-everything.",
        epilog="The ratio to the bare client, measured in the same run, is the figure.",
    )
    parser.add_argument("--quick", action="store_true", help="5 rounds after 1 warm-up round")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds (default 3)")
    parser.add_argument(
        "--poll-ms", type=float, default=5.0, help="pause between reads (default 5)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(rounds=5, warmup=1)
        args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0 or args.poll_ms <= 0:
        parser.error("--rounds must be at least 1, --warmup not negative, --poll-ms positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv or [])
    print(f"  {args.rounds} rounds after {args.warmup} warm-up; server-everything", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-visible-") as name,
        scratch_database(Path(name)) as (database_url, where),
        everything_server(Path(name)) as url,
        deployment(database_url, Path(name)) as dep,
    ):
        print(f"  serve + worker up [{where}]", flush=True)
        report(asyncio.run(run(args, url, dep)))
