"""Background jobs of the gateway: measurement retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import procrastinate
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.config import Settings
from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

log = structlog.get_logger(__name__)

PRUNE_CRON = "7,22,37,52 * * * *"
PRUNE_RETRY = JitteredBackoff(max_attempts=3, base_seconds=10, max_seconds=120)
BATCH = 5000
MAX_BATCHES = 200


async def prune_measurements(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: Any,
    *,
    batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Delete measurements older than ``SPRINTCONNECT_MEASUREMENT_RETENTION_DAYS``, in batches
    of their own transactions; how many went (the next run takes what is left)."""
    from sprintconnect.gateway.repository import CallRepository

    before = now - timedelta(days=settings.measurement_retention_days)
    total = 0
    for _ in range(max_batches):
        async with sessionmaker() as session, session.begin():
            gone = await CallRepository(session).prune(before, batch)
        total += gone
        if gone < batch:
            break
    if total:
        log.info("gateway.measurements_pruned", rows=total)
    return total


async def prune(timestamp: int, **_: Any) -> None:
    runtime = context.current().runtime
    await prune_measurements(runtime.db.sessionmaker, runtime.settings, runtime.clock.now())


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app (see ``discovery.tasks.build_blueprint``)."""
    blueprint = procrastinate.Blueprint()
    retention = blueprint.task(
        name="gateway.prune", queue="maintenance", queueing_lock="gateway.prune", retry=PRUNE_RETRY
    )(prune)
    blueprint.periodic(cron=PRUNE_CRON, periodic_id="measurement-retention")(retention)
    return blueprint
