"""An app whose in-process worker runs discoveries against loopback MCP servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.app import create_app
from sprintconnect.config import Settings
from sprintconnect.mcp_server.connector import Network
from sprintconnect.runtime import Runtime, build_runtime
from tests.conftest import ShiftableClock, make_settings
from tests.egress.support import LoopbackOnly1, LoopbackOnly2

WORKER_SETTINGS: dict[str, Any] = {
    "inprocess_worker": True,
    "egress_allow_loopback": True,
    "outbox_poll_seconds": 0.05,
    "worker_heartbeat_seconds": 0.5,
    "worker_stalled_seconds": 3.0,
    "discovery_timeout_seconds": 4.0,
    "mcp_connect_timeout_seconds": 3.0,
    "discovery_max_items": 150,
    "discovery_max_item_bytes": 20_000,
}


def worker_settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(database_url, data_dir, **WORKER_SETTINGS)


# Package scope: the worker stops when these tests end, so it never picks up jobs that other
# packages' tests queue.
@pytest.fixture(scope="package")
async def worker_runtime(
    runtime: Runtime, database_url: str, scratch: Path, clock: ShiftableClock
) -> AsyncIterator[Runtime]:
    # ``runtime`` first: it has migrated the database this one shares.
    rt = build_runtime(worker_settings(database_url, scratch / "data"), clock=clock)
    yield rt
    await rt.db.dispose()


@pytest.fixture(scope="package")
async def worker_app(worker_runtime: Runtime) -> AsyncIterator[FastAPI]:
    application = create_app(runtime=worker_runtime)
    # Connections may go to loopback only, whatever a resolver answers.
    application.state.network = Network(backend=LoopbackOnly2(), httpx_backend=LoopbackOnly1())
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def wclient(worker_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=worker_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


Waiter = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def settled(wclient: httpx.AsyncClient) -> Waiter:
    """Poll a discovery until it finishes; its final state."""

    async def wait(
        discovery_id: str, headers: dict[str, str], seconds: float = 30
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + seconds
        while True:
            body: dict[str, Any] = (
                await wclient.get(f"/api/v1/discoveries/{discovery_id}", headers=headers)
            ).json()
            if body["status"] not in ("queued", "in_progress"):
                return body
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"discovery still {body['status']}: {body}")
            await asyncio.sleep(0.1)

    return wait
