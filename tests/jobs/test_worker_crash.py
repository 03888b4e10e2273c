"""A worker killed mid-job: another worker picks the job up and the work happens exactly once.

Real processes (``sprintconnect worker``), a real MCP server on loopback and a real database of
these tests' own, so the workers run no job that another test package left queued.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.server.mcpserver import MCPServer
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import CapabilitySnapshot
from tests.conftest import Tenant
from tests.discovery.servers import add, serving, streamable
from tests.integration.processes import CLI, cli_env
from tests.jobs.conftest import Isolated, make_super_admin, new_tenant

LISTING_SECONDS = 4.0


class SlowListing:
    """Holds each ``tools/list`` request for a while before the MCP server sees it."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.listings = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if b'"tools/list"' in body:
            self.listings += 1
            await asyncio.sleep(self.seconds)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@contextmanager
def slow_server() -> Iterator[tuple[SlowListing, str]]:
    server = MCPServer("slow", version="1.0.0")
    server.add_tool(add)
    app = SlowListing(streamable(server), LISTING_SECONDS)
    with serving(app) as base:
        yield app, f"{base}/mcp"


class Workers:
    """``sprintconnect worker`` processes, each logging to its own file; all ended at exit."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log_path = self.logs / f"worker-{len(self.procs) + 1}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*CLI, "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.procs.append((proc, log_path))
        return proc

    def output(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-4000:]}" for _, path in self.procs)

    def check_alive(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None:
            raise AssertionError(f"a worker exited ({proc.returncode}):\n{self.output()}")

    def stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def workers(isolated: Isolated, tmp_path: Path) -> Iterator[Workers]:
    env = cli_env(
        tmp_path,
        isolated.url,
        SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK="true",
        SPRINTCONNECT_WORKER_HEARTBEAT_SECONDS="0.5",
        SPRINTCONNECT_WORKER_STALLED_SECONDS="3",
        SPRINTCONNECT_OUTBOX_POLL_SECONDS="0.1",
        SPRINTCONNECT_DISCOVERY_TIMEOUT_SECONDS="30",
    )
    running = Workers(env, tmp_path)
    try:
        yield running
    finally:
        running.stop_all()


async def discovery_state(
    client: httpx.AsyncClient, tenant: Tenant, discovery_id: str
) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/discoveries/{discovery_id}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_a_killed_worker_job_completes_once_on_another_worker(
    isolated: Isolated, workers: Workers
) -> None:
    client, runtime = isolated.client, isolated.runtime
    tenant = await new_tenant(runtime)
    with slow_server() as (slow, url):
        registered = await client.post(
            "/api/v1/servers",
            json={"name": "slow", "url": url, "environment": "staging", "auto_discover": False},
            headers=tenant.headers,
        )
        assert registered.status_code == 201, registered.text
        server_id = registered.json()["server"]["id"]
        requested = await client.post(
            f"/api/v1/servers/{server_id}/discoveries", headers=tenant.headers
        )
        assert requested.status_code == 202, requested.text
        discovery_id = requested.json()["id"]

        first = workers.start()
        deadline = time.monotonic() + 60
        while True:  # until the first worker is inside the server's tools/list
            workers.check_alive(first)
            state = await discovery_state(client, tenant, discovery_id)
            if state["status"] == "in_progress" and slow.listings >= 1:
                break
            assert state["status"] in ("queued", "in_progress"), state
            assert time.monotonic() < deadline, f"never started: {state}\n{workers.output()}"
            await asyncio.sleep(0.1)
        first.kill()  # SIGKILL: no handler runs, no job status is written
        assert first.wait(timeout=10) == -9
        assert (await discovery_state(client, tenant, discovery_id))["status"] == "in_progress"

        second = workers.start()
        deadline = time.monotonic() + 90
        while True:
            workers.check_alive(second)
            state = await discovery_state(client, tenant, discovery_id)
            if state["status"] not in ("queued", "in_progress"):
                break
            assert time.monotonic() < deadline, f"never finished: {state}\n{workers.output()}"
            await asyncio.sleep(0.2)

    assert state["status"] == "succeeded", f"{state}\n{workers.output()}"
    assert state["outcome"] == "first"
    assert state["snapshot_version"] == 1
    assert state["attempts"] == 2  # the killed run and the one that finished
    assert slow.listings == 2
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        snapshots = await session.scalar(
            select(func.count()).where(CapabilitySnapshot.server_id == server_id)
        )
    assert snapshots == 1

    # The job itself, as an operator sees it: retried once by stalled-job recovery, then done.
    await make_super_admin(runtime, tenant.user_id)
    listed = await client.get(
        "/api/v1/admin/jobs", params={"task": "sc:discovery.run"}, headers=tenant.headers
    )
    assert listed.status_code == 200, listed.text
    mine = [j for j in listed.json()["items"] if j["args"].get("discovery_id") == discovery_id]
    assert len(mine) == 1, listed.json()
    assert mine[0]["state"] == "succeeded"
    assert mine[0]["attempts"] == 2
