"""Running jobs in a process: the procrastinate worker, the outbox relay, stalled-job recovery.

``sprintconnect worker`` runs one of these; ``sprintconnect serve`` runs one in-process when
``SPRINTCONNECT_INPROCESS_WORKER`` is on (the default for a single machine).
"""

from __future__ import annotations

import asyncio
import contextlib

import procrastinate
import structlog
from prometheus_client import Counter

from sprintconnect.health.scheduler import HealthScheduler
from sprintconnect.jobs import context
from sprintconnect.jobs.app import build_job_app, conninfo
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.failures import WORKER_MIDDLEWARE
from sprintconnect.jobs.outbox import Wakeup, relay_once

log = structlog.get_logger(__name__)

WORKER_RESTARTS = Counter(
    "sprintconnect_job_worker_restarts_total",
    "Times this process's job worker ended on its own and was started again",
)


class JobRunner:
    # How often the procrastinate worker looks for jobs when no NOTIFY woke it (its default).
    job_poll_seconds: float = 5.0

    def __init__(self, services: TaskServices) -> None:
        self.services = services
        settings = services.runtime.settings
        self.settings = settings
        self.app: procrastinate.App = build_job_app(services.runtime.db)
        self.wakeup = Wakeup(conninfo(services.runtime.db))
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        context.install(self.services)
        await self.app.open_async()
        self._tasks = [
            asyncio.create_task(self._worker(), name="procrastinate-worker"),
            asyncio.create_task(self.wakeup.run(), name="outbox-listen"),
            asyncio.create_task(self._relay(), name="outbox-relay"),
            asyncio.create_task(self._recover_stalled(), name="stalled-jobs"),
        ]
        if self.settings.health_scheduler:  # scheduled health checks (health.scheduler)
            scheduler = HealthScheduler(self.services)
            self._tasks.append(asyncio.create_task(scheduler.run_forever(), name="health"))
        log.info("jobs.started", concurrency=self.settings.worker_concurrency)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.app.close_async()
        log.info("jobs.stopped")

    async def _worker(self) -> None:
        """The procrastinate worker, started again whenever it ends while it should run.

        It ends when its database work fails in a way it does not survive: for one, when
        another process pruned its row as stalled (its heartbeats were late: a database blip,
        a starved CPU) its next fetch names a worker that no longer exists. Until now that
        stopped this process's jobs for good and said nothing.
        """
        delay = 0.5
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await self._run_worker()
                log.error("jobs.worker_stopped", restart_in_seconds=delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("jobs.worker_failed", restart_in_seconds=delay)
            WORKER_RESTARTS.inc()
            await asyncio.sleep(delay)
            ran = asyncio.get_running_loop().time() - started
            # Back off while it keeps failing at once; start quickly again after a long run.
            delay = 0.5 if ran > 60 else min(delay * 2, 30.0)

    async def _run_worker(self) -> None:
        await self.app.run_worker_async(
            concurrency=self.settings.worker_concurrency,
            install_signal_handlers=False,
            update_heartbeat_interval=self.settings.worker_heartbeat_seconds,
            stalled_worker_timeout=self.settings.worker_stalled_seconds,
            delete_jobs="never",
            shutdown_graceful_timeout=10,
            worker_middleware=WORKER_MIDDLEWARE,  # keeps each failure's text on the job
            # Deferring a job NOTIFYs its queue (procrastinate's trigger); the worker LISTENs
            # on a connection of its own and polls every ``fetch_job_polling_interval`` too.
            listen_notify=True,
            fetch_job_polling_interval=self.job_poll_seconds,
        )

    async def _relay(self) -> None:
        sessionmaker = self.services.runtime.db.sessionmaker
        while True:
            try:
                moved = await relay_once(sessionmaker)
            except Exception:  # keep relaying; the next round retries what was not committed
                log.exception("outbox.relay_failed")
                moved = 0
            if not moved:  # woken by a new event's NOTIFY, or the poll as the fallback
                await self.wakeup.wait(self.settings.outbox_poll_seconds)

    async def _recover_stalled(self) -> None:
        """Jobs whose worker stopped heartbeating (killed, host lost) run again elsewhere."""
        manager = self.app.job_manager
        while True:
            await asyncio.sleep(self.settings.worker_stalled_seconds / 2)
            try:
                stalled = await manager.get_stalled_jobs(
                    seconds_since_heartbeat=self.settings.worker_stalled_seconds
                )
                for job in stalled:
                    log.warning("jobs.stalled_retry", job_id=job.id, task=job.task_name)
                    await manager.retry_job(job)
                await manager.prune_stalled_workers(self.settings.worker_stalled_seconds)
            except Exception:
                log.exception("jobs.stalled_check_failed")
