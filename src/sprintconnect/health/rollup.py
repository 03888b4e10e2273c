"""Retention of health data: raw checks for days, hourly rollups for about a year.

Every check is counted in its server's hourly rollup when it is recorded (``add_check``, in the
same transaction), so pruning raw checks loses nothing that history reads. A periodic job
(``health.prune`` in ``health.tasks``) deletes what is older than each window, for every tenant
at once through a SECURITY DEFINER function, in batches of short transactions so that it never
holds many row locks nor a connection for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.config import Settings
from sprintconnect.health.repository import HealthRepository

log = structlog.get_logger(__name__)

BATCH = 5_000
# A bound on one run's work; whatever is left goes at the next run.
MAX_BATCHES = 200


@dataclass(frozen=True)
class Cutoffs:
    checks_before: datetime
    rollups_before: datetime


@dataclass(frozen=True)
class Pruned:
    checks: int
    rollups: int


def cutoffs(settings: Settings, now: datetime) -> Cutoffs:
    """Raw checks older than the raw window go, and rollups older than the rollup window."""
    return Cutoffs(
        checks_before=now - timedelta(days=settings.health_raw_retention_days),
        rollups_before=now - timedelta(days=settings.health_rollup_retention_days),
    )


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    *,
    batch: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> Pruned:
    """Delete expired raw checks and rollups of every organization; how many went."""
    limits = cutoffs(settings, now)
    checks = rollups = 0
    for _ in range(max_batches):
        async with sessionmaker() as session, session.begin():
            gone_checks, gone_rollups = await HealthRepository(session).prune(
                checks_before=limits.checks_before,
                rollups_before=limits.rollups_before,
                limit=batch,
            )
        checks += gone_checks
        rollups += gone_rollups
        if gone_checks < batch and gone_rollups < batch:
            break
    if checks or rollups:
        log.info("health.pruned", checks=checks, rollups=rollups)
    return Pruned(checks, rollups)
