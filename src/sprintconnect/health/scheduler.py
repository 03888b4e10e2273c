"""The health scheduler: every worker process claims due servers and checks them.

Any number of processes run it at once. A process claims due servers with
``sc_health_claim`` (``FOR UPDATE SKIP LOCKED`` and a lease: no two processes check one server
at once), checks them with bounded concurrency, records each result and moves the server's
next check on, releasing the lease in the same transaction. A process killed mid-check leaves
its lease to expire; the server is still due, so it is claimed and checked again later.

No drift: the next check is due one interval after the previous due time, not after the time
the check ran. When the schedule has fallen behind by a whole interval (the database was away,
the workers were down) the missed slots are skipped and the catch-up is spread: the next check
is due at a fraction of the interval that is fixed per server, so a backlog does not turn into
a burst against the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from sprintconnect.health import metrics
from sprintconnect.health.repository import Claimed, HealthRepository
from sprintconnect.health.service import Recorded, Schedule, run_and_record
from sprintconnect.identity.principal import Actor
from sprintconnect.jobs.context import TaskServices

log = structlog.get_logger(__name__)

# A lease outlives the check's deadline by this much (secret fetch, recording).
LEASE_MARGIN_SECONDS = 30
STALE_EVERY_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0
SCHEDULER_ACTOR = Actor(type="system", id="health-scheduler")
# Failures that mean the database is away (not a bug): log once per outage and back off.
DB_DOWN = (OperationalError, InterfaceError, DBAPIError, OSError, ConnectionError)


def spread_fraction(server_id: UUID) -> float:
    """A fraction in [0, 1) fixed for a server: where in an interval its catch-up lands."""
    return (server_id.int % 10_007) / 10_007


def next_due(due: datetime, interval_seconds: int, now: datetime, server_id: UUID) -> datetime:
    """The next due time after a check that was due at ``due`` and ended at ``now``."""
    interval = timedelta(seconds=interval_seconds)
    following = due + interval
    if following > now:
        return following
    # Behind by at least a whole interval: skip the missed slots, spread the catch-up.
    return now + interval * spread_fraction(server_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class HealthScheduler:
    def __init__(self, services: TaskServices, *, name: str | None = None) -> None:
        self.services = services
        self.settings = services.runtime.settings
        self.clock = services.runtime.clock
        self.name = name or worker_name()
        self.poll_seconds = 1.0
        self.sleep = asyncio.sleep  # the loop's pauses (tests replace it)
        self._inflight: set[asyncio.Task[Recorded | None]] = set()
        self._down_since: datetime | None = None

    @property
    def lease_seconds(self) -> int:
        return int(self.settings.health_check_timeout_seconds) + LEASE_MARGIN_SECONDS

    async def claim(self, limit: int) -> Sequence[Claimed]:
        async with self.services.runtime.db.sessionmaker() as session, session.begin():
            return await HealthRepository(session).claim(
                limit=limit,
                lease_seconds=self.lease_seconds,
                worker=self.name,
                now=self.clock.now(),
            )

    async def check_claimed(self, claimed: Claimed) -> Recorded | None:
        """Check one claimed server and record it, with its schedule moved on."""
        started = self.clock.now()
        metrics.SCHEDULE_LAG.observe(max(0.0, (started - claimed.next_check_at).total_seconds()))

        def schedule_for(now: datetime, interval_seconds: int) -> Schedule:
            due = next_due(claimed.next_check_at, interval_seconds, now, claimed.server_id)
            return Schedule(self.name, due)

        return await run_and_record(
            self.services,
            org_id=claimed.org_id,
            server_id=claimed.server_id,
            trigger="scheduled",
            actor=SCHEDULER_ACTOR,
            schedule_for=schedule_for,
        )

    async def run_once(self) -> list[Recorded]:
        """Claim what is due (up to the batch size) and check it all; for tests and tools."""
        claimed = await self.claim(self.settings.health_batch_size)
        results = await asyncio.gather(*(self._guarded(c) for c in claimed))
        return [r for r in results if r is not None]

    async def _guarded(self, claimed: Claimed) -> Recorded | None:
        try:
            return await self.check_claimed(claimed)
        except asyncio.CancelledError:
            raise
        except DB_DOWN:
            raise
        except Exception:  # a bug in one check must not stop the others
            log.exception("health.check_crashed", server_id=str(claimed.server_id))
            return None

    async def run_forever(self) -> None:
        """The loop a worker process runs until it is cancelled."""
        backoff = 1.0
        last_stale = -STALE_EVERY_SECONDS
        loop = asyncio.get_running_loop()
        log.info("health.scheduler_started", worker=self.name)
        try:
            while True:
                try:
                    if loop.time() - last_stale >= STALE_EVERY_SECONDS:
                        await self.refresh_stale()
                        last_stale = loop.time()
                    free = self.settings.health_concurrency - len(self._inflight)
                    claimed: Sequence[Claimed] = []
                    if free > 0:
                        claimed = await self.claim(min(free, self.settings.health_batch_size))
                    self._back_up()
                    backoff = 1.0
                except asyncio.CancelledError:
                    raise
                except DB_DOWN as exc:
                    self._down(exc)
                    await self.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
                for item in claimed:
                    task = asyncio.create_task(self._guarded_logged(item))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)
                if claimed and len(claimed) >= free:
                    # Every slot is busy: wait for one to free up (or the poll interval).
                    await asyncio.wait(
                        set(self._inflight),
                        timeout=self.poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                elif not claimed:
                    await self.sleep(self.poll_seconds)
        finally:
            for task in list(self._inflight):
                task.cancel()
            for task in list(self._inflight):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            log.info("health.scheduler_stopped", worker=self.name)

    async def _guarded_logged(self, claimed: Claimed) -> Recorded | None:
        try:
            return await self._guarded(claimed)
        except DB_DOWN as exc:
            # The lease expires and the server is checked again once the database is back.
            self._down(exc)
            return None

    async def refresh_stale(self) -> int:
        async with self.services.runtime.db.sessionmaker() as session, session.begin():
            count = await HealthRepository(session).stale_count(self.clock.now())
        metrics.STALE_SERVERS.set(count)
        return count

    def _down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = self.clock.now()
            log.warning("health.database_unavailable", error=type(exc).__name__)

    def _back_up(self) -> None:
        if self._down_since is not None:
            log.info(
                "health.database_available",
                down_seconds=round((self.clock.now() - self._down_since).total_seconds(), 1),
            )
            self._down_since = None
