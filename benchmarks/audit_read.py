"""Reading the audit log at 10 million entries: filtered pages over HTTP, EXPLAIN, and an export.

Dataset: ``benchmarks.audit_dataset`` (10,000,000 entries in the measured organization plus
9 noise organizations of 200,000 each, interleaved, over a year), built in a scratch
database and dropped afterwards unless ``--keep``; ``--reuse NAME`` measures a kept one;
``--rows N`` makes a smaller one for a quick run.

Server: the real app in its own process (``benchmarks.search.app_process``: fixed secret, no
in-process worker, rate limits out of the way, the default pool), with the search benchmark's
bare authenticated route as the baseline (``bare``: key check and tenant binding, no query).

Load: open loop at a fixed offered rate (``--rate``, 20 requests/s): request ``i`` is due at
``i / rate`` seconds whether or not earlier ones were answered, and its latency counts from
then, so queueing shows. ``--requests`` (200) per row; every request of a row differs (another
user, key, server, request id, time window or cursor position). Each filter kind is measured
on its first page (``limit=50``) and on a deep page (a cursor at a random point of the year:
keyset pagination makes a deep page cost what a first page does). Filters: none; a user's
activity (the user and their keys); one key; an exact action (common, and rare); an action
prefix; a target id; a rare target type alone; ``outcome=failure``; a one-day range; ``q``
with a request id, with a details word; and a combination (user, action prefix, 30 days).

Afterwards: ``EXPLAIN (ANALYZE, BUFFERS)`` of each filter's first-page statement (the app's own
``AuditRepository.page_statement``) as the application role with row-level security on; then
an NDJSON export of about ``--export-rows`` (1,000,000) entries over HTTP, with its rate and
the app process's RSS before, at its peak during (sampled every 50 ms) and after.

Run: ``python -m benchmarks audit_read [--rows N --requests N --rate R --keep --reuse NAME]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import httpx
import psycopg

from benchmarks.audit_dataset import Dataset, Shape, add_shape_options, open_dataset, shape_of
from benchmarks.search import (
    BARE_PATH,
    Outcome,
    Request,
    _rss_mib,
    _runner,
    app_process,
    offer,
)
from benchmarks.search_dataset import api_key, bench_settings, conninfo
from sprintconnect.kit.pagination import encode_key

EVENTS = "/api/v1/audit/events"
DEEP_SEQ = 2**62  # a cursor's seq: any position works, the time decides where the page starts


@dataclass
class Pools:
    org: uuid.UUID
    users: list[str]
    keys_of: dict[str, list[str]]
    keys: list[str]
    servers: list[str]
    requests: list[str]
    first: datetime
    last: datetime


def pools(data: Dataset, org: uuid.UUID) -> Pools:
    with psycopg.connect(conninfo(data.url)) as conn:
        keys = conn.execute(
            "SELECT id::text, created_by_user_id::text FROM api_keys "
            "WHERE org_id = %s AND kind = 'user'",
            (org,),
        ).fetchall()
        sample = conn.execute(
            "SELECT target_type, target_id, request_id FROM audit_events "
            "TABLESAMPLE SYSTEM (1) REPEATABLE (7) WHERE org_id = %s LIMIT 20000",
            (org,),
        ).fetchall()
        span = conn.execute(
            "SELECT min(occurred_at), max(occurred_at) FROM audit_events WHERE org_id = %s",
            (org,),
        ).fetchone()
    assert span is not None
    keys_of: dict[str, list[str]] = {}
    for key_id, user_id in keys:
        keys_of.setdefault(user_id, []).append(key_id)
    servers = sorted({t for kind, t, _ in sample if kind == "mcp_server"})
    requests = [r for _, _, r in sample if r][:5000]
    return Pools(
        org, sorted(keys_of), keys_of, [k for k, _ in keys], servers, requests, span[0], span[1]
    )


Params = Callable[[random.Random, Pools], dict[str, str]]


def _day(rng: random.Random, p: Pools, days: float) -> dict[str, str]:
    span = (p.last - p.first).total_seconds() - days * 86400
    start = p.first + timedelta(seconds=rng.random() * max(span, 0))
    return {"from": start.isoformat(), "to": (start + timedelta(days=days)).isoformat()}


SCENARIOS: list[tuple[str, Params]] = [
    ("none", lambda rng, p: {}),
    ("user", lambda rng, p: {"actor_id": rng.choice(p.users)}),
    ("key", lambda rng, p: {"actor_type": "api_key", "actor_id": rng.choice(p.keys)}),
    ("action", lambda rng, p: {"action": "org:server:updated"}),
    ("action-rare", lambda rng, p: {"action": "org:policy:published"}),
    ("prefix", lambda rng, p: {"action": "org:server:"}),
    ("prefix-rare", lambda rng, p: {"action": "org:role:"}),
    ("target", lambda rng, p: {"target_id": rng.choice(p.servers)}),
    ("target-type", lambda rng, p: {"target_type": "policy"}),
    ("failure", lambda rng, p: {"outcome": "failure"}),
    ("range-1d", lambda rng, p: _day(rng, p, 1)),
    ("q-request", lambda rng, p: {"q": rng.choice(p.requests)}),
    ("q-word", lambda rng, p: {"q": rng.choice(("degraded", "unhealthy", "staging"))}),
    (
        "combined",
        lambda rng, p: {
            "actor_id": rng.choice(p.users),
            "action": "org:server:",
            **_day(rng, p, 30),
        },
    ),
]


def _deep_cursor(rng: random.Random, p: Pools, params: dict[str, str]) -> str:
    low = datetime.fromisoformat(params["from"]) if "from" in params else p.first
    high = datetime.fromisoformat(params["to"]) if "to" in params else p.last
    at = low + (high - low) * (0.2 + 0.6 * rng.random())
    return encode_key(at, DEEP_SEQ)


def _requests(
    scenario: Params, p: Pools, rng: random.Random, n: int, *, deep: bool
) -> list[Request]:
    made = []
    for _ in range(n):
        params = {**scenario(rng, p), "limit": "50"}
        if deep:
            params["cursor"] = _deep_cursor(rng, p, params)
        made.append(Request(p.org, f"{EVENTS}?{urlencode(params)}"))
    return made


def _row(label: str, outcome: Outcome, base: dict[str, float] | None) -> None:
    line = outcome.line()
    ratio = f"{line['p99'] / base['p99']:6.1f}x" if base and base["p99"] else "     -"
    errors = f"  ERRORS {len(outcome.errors)}: {outcome.errors[0][:160]}" if outcome.errors else ""
    print(
        f"  {label:<22} {line['p50']:8.1f} {line['p95']:8.1f} {line['p99']:8.1f} {ratio}{errors}",
        flush=True,
    )


async def measure(args: argparse.Namespace, base_url: str, pid: int, p: Pools) -> bool:
    rng = random.Random(args.seed)
    headers = {p.org: {"Authorization": f"Bearer {api_key(p.org)[1]}"}}
    ok = True
    async with httpx.AsyncClient(base_url=base_url, timeout=120, trust_env=False) as client:
        warm = [Request(p.org, BARE_PATH) for _ in range(50)]
        for _, scenario in SCENARIOS:
            warm += _requests(scenario, p, rng, 5, deep=False)
        await offer(client, warm, headers, args.rate * 2, pid)
        print(
            f"  offered load {args.rate:g} req/s, {args.requests} requests per row, "
            "latency in ms (p99 ratio to the bare endpoint)"
        )
        print(f"  {'filter':<22} {'p50':>8} {'p95':>8} {'p99':>8} {'ratio':>7}")
        bare = await offer(
            client, [Request(p.org, BARE_PATH)] * args.requests, headers, args.rate, pid
        )
        _row("bare", bare, None)
        base = bare.line()
        for name, scenario in SCENARIOS:
            for deep in (False, True):
                reqs = _requests(scenario, p, rng, args.requests, deep=deep)
                outcome = await offer(client, reqs, headers, args.rate, pid)
                ok = ok and not outcome.errors
                _row(f"{name} {'deep' if deep else 'first'}", outcome, base)
    return ok


def explain(data: Dataset, p: Pools, seed: int) -> None:
    """Plans of each filter's first page, as the app role (row-level security on)."""
    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import AsyncSession

    from sprintconnect.audit.query import audit_filters
    from sprintconnect.audit.reading import time_cursor
    from sprintconnect.audit.repository import AuditRepository
    from sprintconnect.db.urls import normalize

    rng = random.Random(seed)
    settings = bench_settings(data.url, Path(tempfile.gettempdir()))
    repo = AuditRepository(cast(AsyncSession, None))  # builds statements only
    engine = create_engine(normalize(data.url))
    try:
        with engine.connect() as conn:
            role = conn.dialect.identifier_preparer.quote(settings.database_app_role)
            conn.exec_driver_sql(f"SET ROLE {role}")
            conn.exec_driver_sql(
                "SELECT set_config('app.org_id', %(org)s, false)", {"org": str(p.org)}
            )
            for name, scenario in SCENARIOS:
                params = scenario(rng, p)
                filters = audit_filters(
                    actor_type=params.get("actor_type"),
                    actor_id=params.get("actor_id"),
                    action=params.get("action"),
                    target_type=params.get("target_type"),
                    target_id=params.get("target_id"),
                    outcome=cast(Any, params.get("outcome")),
                    from_=datetime.fromisoformat(params["from"]) if "from" in params else None,
                    to=datetime.fromisoformat(params["to"]) if "to" in params else None,
                    q=params.get("q"),
                )
                keys = p.keys_of.get(params.get("actor_id", ""), [])
                deep = _deep_cursor(rng, p, params)
                for label, after in ((name, None), (f"{name} deep", time_cursor(deep))):
                    stmt = repo.page_statement(p.org, filters, keys, after=after, limit=51)
                    compiled = stmt.compile(
                        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
                    )
                    plan = [
                        str(row[0])
                        for row in conn.exec_driver_sql(
                            "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params
                        )
                    ]
                    timing = "; ".join(
                        line.strip()
                        for line in plan
                        if line.startswith(("Planning Time", "Execution"))
                    )
                    print(f"  EXPLAIN {label:<18} {timing}")
                    # Every first page's plan; a deep page's only when it differs in cost.
                    if after is None or "Execution Time: 0" not in timing:
                        for line in plan:
                            if not line.startswith(("Planning", "Execution")):
                                print(f"      {line}")
            conn.rollback()
    finally:
        engine.dispose()


def _export_range(data: Dataset, p: Pools, rows: int) -> str | None:
    """``from`` such that about ``rows`` entries of the organization lie after it."""
    with psycopg.connect(conninfo(data.url)) as conn:
        found = conn.execute(
            "SELECT occurred_at FROM audit_events WHERE org_id = %s "
            "ORDER BY occurred_at DESC, seq DESC OFFSET %s LIMIT 1",
            (p.org, rows),
        ).fetchone()
    return found[0].isoformat() if found else None


def export(base_url: str, pid: int, p: Pools, start: str | None) -> None:
    headers = {"Authorization": f"Bearer {api_key(p.org)[1]}"}
    params = {"format": "ndjson", **({"from": start} if start else {})}
    peak = before = _rss_mib(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _rss_mib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    lines = size = 0
    with httpx.stream(
        "GET",
        base_url + EVENTS + "/export",
        params=params,
        headers=headers,
        timeout=600,
        trust_env=False,
    ) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    took = time.perf_counter() - started
    done.set()
    sampler.join()
    after = _rss_mib(pid)
    entries = lines - 1  # the header line (no evidence line until the ledger has checkpoints)
    print(
        f"  export: {entries:,} entries, {size / 1e6:.1f} MB NDJSON in {took:.1f}s "
        f"({entries / took:,.0f} entries/s); app RSS {before:.1f} MiB before, "
        f"{peak:.1f} MiB peak ({peak - before:+.1f}), {after:.1f} MiB after",
        flush=True,
    )


def parse(argv: list[str]) -> tuple[argparse.Namespace, Shape]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks audit_read",
        description="Filtered audit pages over HTTP at a fixed offered load, first and deep "
        "pages for each filter kind, EXPLAIN ANALYZE of each, and a 1,000,000-entry export "
        "with the app's memory. Builds a 10,000,000-entry dataset unless told.",
    )
    parser.add_argument("--requests", type=int, default=200, help="per row (200)")
    parser.add_argument("--rate", type=float, default=20.0, help="offered requests/s (20)")
    parser.add_argument(
        "--export-rows", type=int, default=1_000_000, help="entries to export (1,000,000)"
    )
    parser.add_argument("--no-explain", action="store_true", help="skip the plans")
    add_shape_options(parser)
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rate <= 0 or args.export_rows < 0:
        parser.error("--requests and --rate must be positive")
    return args, shape_of(args, parser)


def main(argv: list[str] | None = None) -> None:
    args, shape = parse(argv or [])
    ok = False
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-audit-") as folder,
        open_dataset(shape, keep=args.keep, reuse=args.reuse, data_dir=Path(folder)) as data,
    ):
        built = f"built in {data.build_seconds:.1f}s" if data.build_seconds else "reused"
        print(f"  dataset {data.name} ({built}): {data.shape.comment()}", flush=True)
        p = pools(data, data.measured_org())
        with app_process(data.url, Path(folder) / "app", {}) as app, _runner() as runner:
            ok = runner.run(measure(args, app.base_url, app.pid, p))
            if args.export_rows:
                export(app.base_url, app.pid, p, _export_range(data, p, args.export_rows))
        if not args.no_explain:
            explain(data, p, args.seed)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
