"""The audit ledger: append throughput, sequencing, and verifying 1,000,000 entries.

1. **Append**: ``--appends`` entries, each in a transaction of its own, through
   ``audit.record`` (the path every change takes: ORM row, flush, the column default that
   records the transaction id), then the same rows as a plain ``INSERT`` statement, in the same
   run and database; entries/s of each and their ratio.
2. **Sequence**: ``--entries`` entries (default 1,000,000) loaded with COPY into one
   organization, then sequenced into leaves by the ledger's sequencer in one run.
3. **Verify**: the whole ledger recomputed (``verify_org``: every leaf, the chain, the tree and
   the signed checkpoint), its wall time and the process's peak RSS growth.

In a scratch database on the local server (dropped at the end). ``--quick``: 50,000 entries.
Run it with the bench lock when the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.search_dataset import LOCAL_ADMIN, _migrate, _port_open, bench_settings, conninfo

TAGS = ("org:server:updated", "org:api_key:created", "org:role:assigned", "org:request:audited")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(url: str, org_id: uuid.UUID, count: int) -> None:
    """``count`` entries for ``org_id`` with COPY, as the owner, in seq order."""
    rng = random.Random(13)
    start = datetime.now(UTC) - timedelta(days=30)
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SELECT set_config('app.org_id', %s, false)", (str(org_id),))
        conn.execute("SET synchronous_commit = off")
        columns = (
            "id, org_id, occurred_at, tag, actor_type, actor_id, target_type, target_id, "
            "details, request_id, ip, user_agent"
        )
        with conn.cursor().copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
            for i in range(count):
                details = json.dumps({"name": f"server-{i % 997}", "n": i, "env": "production"})
                copy.write_row(
                    (
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        org_id,
                        start + timedelta(milliseconds=i * 2),
                        TAGS[i % len(TAGS)],
                        "api_key",
                        str(uuid.UUID(int=i % 50 + 1)),
                        "mcp_server",
                        f"srv-{i % 997}",
                        details,
                        uuid.UUID(int=rng.getrandbits(128)).hex,
                        f"10.0.{i % 250}.{i % 7 + 1}",
                        "bench/1.0",
                    )
                )
        conn.commit()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) audit_events")


async def _append(runtime: Any, org_id: uuid.UUID, count: int) -> tuple[float, float]:
    from sprintconnect import audit
    from sprintconnect.audit import AuditTag
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.identity.principal import Actor

    actor = Actor("api_key", str(uuid.uuid4()), str(uuid.uuid4()))
    details = {"name": "server-1", "environment": "production", "changed": ["url"]}
    sessionmaker = runtime.db.sessionmaker
    started = time.perf_counter()
    for i in range(count):
        async with sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            await audit.record(
                session,
                AuditTag.SERVER_UPDATED,
                org_id=org_id,
                actor=actor,
                target=audit.Target("mcp_server", f"srv-{i}"),
                details=details,
            )
    record_rate = count / (time.perf_counter() - started)
    insert = text(
        "INSERT INTO audit_events (id, org_id, tag, actor_type, actor_id, actor_user_id, "
        "target_type, target_id, details) VALUES (:id, :org, :tag, :at, :aid, :uid, "
        ":tt, :tid, CAST(:details AS jsonb))"
    )
    started = time.perf_counter()
    for i in range(count):
        async with sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            await session.execute(
                insert,
                {
                    "id": uuid.uuid4(),
                    "org": org_id,
                    "tag": str(AuditTag.SERVER_UPDATED),
                    "at": actor.type,
                    "aid": actor.id,
                    "uid": actor.user_id,
                    "tt": "mcp_server",
                    "tid": f"srv-{i}",
                    "details": json.dumps(details),
                },
            )
    return record_rate, count / (time.perf_counter() - started)


async def _run(url: str, data_dir: Path, args: argparse.Namespace) -> None:
    from sprintconnect.api_key.service import ApiKeyService
    from sprintconnect.audit.ledger import service
    from sprintconnect.audit.ledger.sequencer import sequence
    from sprintconnect.audit.ledger.verify import verify_org
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.organization.service import bootstrap
    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(bench_settings(url, data_dir))
    try:
        async with runtime.db.sessionmaker() as session, session.begin():
            keys = ApiKeyService(session, runtime.keyring, runtime.clock)
            made = await bootstrap(session, keys, org_name="Ledger", email="ledger@example.com")
        appender = made.organization.id
        async with runtime.db.sessionmaker() as session, session.begin():
            keys = ApiKeyService(session, runtime.keyring, runtime.clock)
            made = await bootstrap(session, keys, org_name="Big", email="big@example.com")
        org_id = made.organization.id

        record_rate, insert_rate = await _append(runtime, appender, args.appends)
        print(f"  append, one entry per transaction ({args.appends:,} each):")
        print(f"    audit.record   {record_rate:10,.0f} entries/s")
        print(f"    plain INSERT   {insert_rate:10,.0f} entries/s")
        print(f"    ratio          {record_rate / insert_rate:10.2f} (record / plain INSERT)")

        started = time.perf_counter()
        _load(url, org_id, args.entries)
        print(
            f"  loaded {args.entries:,} entries with COPY in {time.perf_counter() - started:.1f}s"
        )

        started = time.perf_counter()
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            added = await sequence(session, org_id, runtime.clock.now())
            published = await service.publish_checkpoint(
                session, runtime.keyring, org_id, runtime.clock.now()
            )
        took = time.perf_counter() - started
        print(f"  sequenced {added:,} entries and signed in {took:.1f}s ({added / took:,.0f}/s)")
        assert published is not None

        rss_before = _rss_mib()
        started = time.perf_counter()
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            report = await verify_org(session, org_id)
        took = time.perf_counter() - started
        print(
            f"  verify of {report.tree_size:,} entries: {took:.1f}s "
            f"({report.tree_size / took:,.0f} entries/s), intact={report.intact}, "
            f"peak RSS +{_rss_mib() - rss_before:.0f} MiB"
        )
    finally:
        await runtime.db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks audit_ledger")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries to verify")
    parser.add_argument("--appends", type=int, default=2_000, help="appends of each kind")
    parser.add_argument("--quick", action="store_true", help="50,000 entries, 500 appends")
    args = parser.parse_args(argv)
    from sprintconnect.logging import configure_logging

    configure_logging("warning", "json")
    if args.quick:
        args.entries, args.appends = 50_000, 500
    if not _port_open("127.0.0.1", 5432):
        raise SystemExit("the ledger benchmark needs PostgreSQL on 127.0.0.1:5432")
    name = f"sc_bench_ledger_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(LOCAL_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(LOCAL_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            _migrate(url, Path(data_dir))
            asyncio.run(_run(url, Path(data_dir), args))
    finally:
        with psycopg.connect(LOCAL_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
