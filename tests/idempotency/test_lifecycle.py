"""Failed first attempts are released, claims have leases, and keys expire."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI, Response

from sprintconnect.errors import ServiceUnavailable
from sprintconnect.handlers import install_error_handlers
from sprintconnect.idempotency import IdempotencyMiddleware
from sprintconnect.idempotency.errors import IdempotencyInProgress
from sprintconnect.idempotency.request import Fingerprint
from sprintconnect.idempotency.service import (
    IN_PROGRESS_LEASE,
    Claim,
    IdempotencyService,
    Identity,
    StoredResponse,
)
from sprintconnect.identity.ratelimit import RateLimiter
from sprintconnect.middleware import RequestContextMiddleware
from sprintconnect.runtime import Runtime
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.idempotency.support import create_key, headers, key_names, replayed


class Flaky:
    """A stand-in route that fails the way it is told to, and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.failures: list[str] = []
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()


@pytest.fixture
async def flaky(runtime: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, Flaky]]:
    """The middleware in front of a route whose failures the test controls."""
    state = Flaky()
    app = FastAPI()
    app.state.runtime = runtime
    app.state.rate_limiter = RateLimiter("100000/minute", None)
    install_error_handlers(app)

    @app.post("/api/v1/flaky", status_code=201)
    async def flaky_route(response: Response) -> dict[str, int]:
        state.runs += 1
        state.started.set()
        if state.gate is not None:
            await state.gate.wait()
        failure = state.failures.pop(0) if state.failures else None
        if failure == "raise":
            raise RuntimeError("boom")
        if failure == "503":
            raise ServiceUnavailable("try later")
        response.headers["Location"] = f"/api/v1/flaky/{state.runs}"
        return {"run": state.runs}

    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestContextMiddleware)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c, state


async def _post(client: httpx.AsyncClient, tenant: Tenant, key: str) -> httpx.Response:
    return await client.post("/api/v1/flaky", json={"n": 1}, headers=headers(tenant, key))


@pytest.mark.parametrize(("failure", "status"), [("raise", 500), ("503", 503)])
async def test_a_failed_first_attempt_releases_the_key(
    flaky: tuple[httpx.AsyncClient, Flaky], tenant: Tenant, failure: str, status: int
) -> None:
    client, state = flaky
    state.failures = [failure]
    key = str(uuid.uuid4())
    assert_problem(await _post(client, tenant, key), status)
    retried = await _post(client, tenant, key)
    assert retried.status_code == 201
    assert not replayed(retried)
    assert retried.json() == {"run": 2}
    again = await _post(client, tenant, key)
    assert replayed(again)
    assert again.json() == {"run": 2}
    assert again.headers["location"] == "/api/v1/flaky/2"
    assert state.runs == 2


async def test_a_duplicate_while_the_first_runs_is_a_conflict(
    flaky: tuple[httpx.AsyncClient, Flaky], tenant: Tenant
) -> None:
    client, state = flaky
    state.gate = asyncio.Event()
    key = str(uuid.uuid4())
    first = asyncio.create_task(_post(client, tenant, key))
    await asyncio.wait_for(state.started.wait(), 10)
    busy = await _post(client, tenant, key)
    assert_problem(busy, 409, "idempotency-in-progress")
    assert busy.headers["retry-after"] == "1"
    state.gate.set()
    done = await first
    assert done.status_code == 201
    replay = await _post(client, tenant, key)
    assert replay.content == done.content
    assert replayed(replay)
    assert state.runs == 1


async def test_an_abandoned_claim_is_taken_over_after_its_lease(
    runtime: Runtime, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    identity = Identity(tenant.org_id, tenant.key_id, str(tenant.key_id))
    fingerprint = Fingerprint("POST", "/api/v1/x", b"\x00" * 32)
    key = str(uuid.uuid4())

    async def begin() -> Claim | StoredResponse:
        async with runtime.db.sessionmaker() as session, session.begin():
            service = IdempotencyService(
                session, runtime.keyring, runtime.clock, ttl=timedelta(hours=24)
            )
            return await service.begin(identity, key, fingerprint)

    async def finish(claim: Claim, body: bytes) -> None:
        async with runtime.db.sessionmaker() as session, session.begin():
            service = IdempotencyService(
                session, runtime.keyring, runtime.clock, ttl=timedelta(hours=24)
            )
            await service.finish(claim, StoredResponse(201, [], body))

    stale = await begin()
    assert isinstance(stale, Claim)
    moved_clock.offset += IN_PROGRESS_LEASE + timedelta(seconds=1)
    fresh = await begin()
    assert isinstance(fresh, Claim)
    assert fresh.claim_id != stale.claim_id
    await finish(stale, b"late")  # the old request lost its claim: nothing is stored
    with pytest.raises(IdempotencyInProgress):
        await begin()
    await finish(fresh, b"winner")
    stored = await begin()
    assert isinstance(stored, StoredResponse)
    assert stored.body == b"winner"


async def test_an_expired_key_is_new_again(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, moved_clock: ShiftableClock
) -> None:
    key = str(uuid.uuid4())
    assert (await create_key(client, tenant, key, name="before")).status_code == 201
    moved_clock.offset += timedelta(hours=runtime.settings.idempotency_ttl_hours) - timedelta(
        minutes=1
    )
    assert replayed(await create_key(client, tenant, key, name="before"))
    moved_clock.offset += timedelta(minutes=2)
    again = await create_key(client, tenant, key, name="before")
    assert again.status_code == 201
    assert not replayed(again)
    # Expired, so another body is a new request too, not a reuse.
    other = await create_key(client, tenant, str(uuid.uuid4()), name="unrelated")
    assert other.status_code == 201
    assert (await key_names(client, tenant)).count("before") == 2
