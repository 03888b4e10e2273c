"""Webhook deliveries per second on one worker against a loopback receiver.

Dataset, generated here: ``--endpoints`` (1, then 10) webhook endpoints of one organization,
subscribed to ``server.*``, all pointing at one receiver process on loopback (uvicorn, a bare
ASGI app answering ``200 ok``, HTTP/1.1 keep-alive); ``--events`` (1,000) audited changes
(``org:server:updated``, i.e. ``server.updated`` events), written before the worker starts;
each writes its deliveries in its own transaction, as a real change does.

SprintConnect: a scratch database (PostgreSQL on 127.0.0.1:5432 when it answers, else the
embedded one) is migrated, an organization bootstrapped, endpoints created through the HTTP app
in-process. Then one ``JobRunner`` (what ``sprintconnect worker`` runs: procrastinate worker
with the default concurrency, outbox relay) runs in this process until every delivery is
``delivered`` (polled every 0.2 s). Measured from the worker's start: deliveries per second,
including job pick-up, claiming, reading the secret, signing, the egress guard and recording
each attempt. With one endpoint the deliveries go strictly one after another (head-of-line order
per endpoint); with ten, ten senders share the worker.

Baseline: the same number of signed POSTs of the same bodies sent one after another by a bare
``httpx`` client over one keep-alive connection to the same receiver (no database, no guard):
the ratio says what the bookkeeping costs. Run: ``python -m benchmarks webhooks
[--events N --endpoints N ...]``; under a minute at the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from .discovery import scratch_database
from .fleet import await_ports
from .health import _quiet_logs

# -- the receiver ------------------------------------------------------------------------------


def _receive(ready: Connection) -> None:
    """Child process: answer every request with 200 ok."""
    import uvicorn

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    ready.send(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="critical", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


# -- SprintConnect -----------------------------------------------------------------------------


async def run_sprintconnect(
    url: str, endpoints: int, events: int, options: dict[str, Any]
) -> tuple[float, int]:
    """(seconds from the worker's start to the last delivery, deliveries delivered)."""
    from sqlalchemy import text

    from sprintconnect import audit
    from sprintconnect.api_key.service import ApiKeyService
    from sprintconnect.app import create_app
    from sprintconnect.config import Settings
    from sprintconnect.db import migrate
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.identity.principal import Actor
    from sprintconnect.jobs.context import TaskServices
    from sprintconnect.jobs.runner import JobRunner
    from sprintconnect.logging import configure_logging
    from sprintconnect.organization.service import bootstrap
    from sprintconnect.runtime import build_runtime
    from sprintconnect.secret import build_secret_store

    _quiet_logs(configure_logging)
    runtime = build_runtime(Settings(**options))
    await asyncio.to_thread(migrate.upgrade, runtime.db)
    async with runtime.db.sessionmaker() as session, session.begin():
        keys = ApiKeyService(session, runtime.keyring, runtime.clock)
        name = f"Webhook Bench {uuid.uuid4().hex[:6]}"
        booted = await bootstrap(session, keys, org_name=name, email="bench@example.com")
    org_id = booted.organization.id
    headers = {"Authorization": f"Bearer {booted.api_key.plaintext}"}
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bench") as api,
    ):
        for n in range(endpoints):
            made = await api.post(
                "/api/v1/webhooks",
                json={"url": f"{url}/{n}", "event_types": ["server.*"]},
                headers=headers,
            )
            assert made.status_code == 201, made.text
    # Audited changes: each writes its deliveries in its own transaction (batches of 100).
    written = 0
    while written < events:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            for n in range(written, min(events, written + 100)):
                await audit.record(
                    session,
                    audit.AuditTag.SERVER_UPDATED,
                    org_id=org_id,
                    actor=Actor(type="system"),
                    target=audit.Target("server", uuid.uuid4()),
                    details={"n": n, "changed": ["description"]},
                )
        written = min(events, written + 100)
    expected = events * endpoints
    secret_store = build_secret_store(runtime)
    runner = JobRunner(TaskServices(runtime=runtime, secrets=secret_store))
    started = time.perf_counter()
    await runner.start()
    done = 0
    last_seen: float | None = None
    try:
        deadline = started + 600
        while time.perf_counter() < deadline:
            async with runtime.db.sessionmaker() as session, session.begin():
                await bind_tenant(session, org_id)
                done = int(
                    await session.scalar(
                        text("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
                    )
                    or 0
                )
            if done >= expected:
                last_seen = time.perf_counter()
                break
            await asyncio.sleep(0.2)
    finally:
        await runner.stop()
        await secret_store.close()
    await runtime.db.dispose()
    return (last_seen or time.perf_counter()) - started, done


async def run_baseline(url: str, count: int) -> float:
    from sprintconnect.kit.signing import new_secret
    from sprintconnect.webhook import sender

    secret = new_secret()
    async with httpx.AsyncClient(timeout=10) as client:
        started = time.perf_counter()
        for n in range(count):
            body = sender.body("server.health.unhealthy", "2026-11-28T00:00:00Z", {"n": n})
            msg_id = f"msg_{uuid.uuid4().hex}"
            ts = int(time.time())
            answer = await client.post(
                f"{url}/0",
                content=body,
                headers={
                    "content-type": "application/json",
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(ts),
                    "webhook-signature": sender.signature([secret], msg_id, ts, body),
                },
            )
            answer.raise_for_status()
        return time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks webhooks", description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args(argv)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    receiver = ctx.Process(target=_receive, args=(child,), daemon=True)
    receiver.start()
    try:
        [port] = await_ports([receiver], [parent], seconds=30)
        url = f"http://127.0.0.1:{port}/hook"
        results: dict[str, Any] = {}
        with tempfile.TemporaryDirectory() as scratch:
            for endpoints in args.endpoints:
                with scratch_database(Path(scratch)) as (database_url, where):
                    options = {
                        "database_url": database_url,
                        "data_dir": Path(scratch) / f"data-{endpoints}",
                        "egress_allow_loopback": True,
                        "egress_rate_limit": "10000000/minute",
                        "inprocess_worker": False,
                        "health_scheduler": False,
                        "log_format": "json",
                    }
                    seconds, done = asyncio.run(
                        run_sprintconnect(url, endpoints, args.events, options)
                    )
                rate = done / seconds if seconds > 0 else 0.0
                results[f"endpoints={endpoints}"] = {
                    "deliveries": done,
                    "seconds": round(seconds, 3),
                    "deliveries_per_second": round(rate, 1),
                    "database": where,
                }
        baseline = asyncio.run(run_baseline(url, args.events))
        base_rate = args.events / baseline
        results["bare_httpx_sequential"] = {
            "requests": args.events,
            "seconds": round(baseline, 3),
            "requests_per_second": round(base_rate, 1),
        }
        for value in results.values():
            if "deliveries_per_second" in value:
                value["ratio_to_bare_httpx"] = round(value["deliveries_per_second"] / base_rate, 3)
        print(json.dumps(results, indent=2))
    finally:
        receiver.terminate()
        receiver.join(5)
