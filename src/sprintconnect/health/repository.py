"""SQL for health monitoring; tenant statements run in a transaction bound to the organization.

``claim`` and ``stale_count`` are the two cross-tenant statements: they go through SECURITY
DEFINER functions (migration 0014) and return only what the scheduler needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.identity.principal import Actor
from sprintconnect.kit import histogram
from sprintconnect.models import HealthCheck, HealthRollup, HealthTransition, ServerHealth

_DEFER_CHECK = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('health', 'sc:health.check', 0, :lock, NULL, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


@dataclass(frozen=True)
class Claimed:
    """A due server that this worker now holds the lease of."""

    server_id: UUID
    org_id: UUID
    check_type: str
    next_check_at: datetime


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


async def add_check(session: AsyncSession, check: HealthCheck) -> HealthCheck:
    """Store a raw check and count it in its server's hourly rollup, in the caller's
    transaction (so the raw rows and the rollups always agree)."""
    session.add(check)
    await session.flush()
    counts = histogram.single(check.response_ms)
    failed = 1 if check.outcome != "healthy" else 0
    stmt = insert(HealthRollup).values(
        org_id=check.org_id,
        server_id=check.server_id,
        hour=hour_of(check.checked_at),
        checks=1,
        failures=failed,
        latency_sum_ms=check.response_ms,
        latency_buckets=counts,
    )
    index = histogram.bucket_index(check.response_ms) + 1  # SQL arrays count from 1
    stmt = stmt.on_conflict_do_update(
        index_elements=[HealthRollup.server_id, HealthRollup.hour],
        set_={
            "checks": HealthRollup.checks + 1,
            "failures": HealthRollup.failures + failed,
            "latency_sum_ms": HealthRollup.latency_sum_ms + check.response_ms,
            # One more in the check's bucket: the slices before and after it, unchanged.
            "latency_buckets": text(
                f"health_rollups.latency_buckets[1:{index - 1}] "
                f"|| ARRAY[health_rollups.latency_buckets[{index}] + 1] "
                f"|| health_rollups.latency_buckets[{index + 1}:]"
            ),
        },
    )
    await session.execute(stmt)
    return check


@dataclass(frozen=True)
class RollupSum:
    """The rollups of one chart bucket (an hour or a UTC day) added up."""

    start: datetime
    checks: int
    failures: int
    latency_sum_ms: float
    latency_buckets: list[int]


# History reads rollups only (one row per server and hour), never raw checks. Histograms are
# summed element-wise per bucket in SQL (one sum per histogram slot: several times faster than
# unnesting the arrays), so a 400-day range sends back 400 arrays, not 9,600.
_LATENCY_SUMS = ", ".join(
    f"coalesce(sum(latency_buckets[{i}]), 0)" for i in range(1, histogram.SIZE + 1)
)
# Only the constant slot expressions above are formatted in; every value is a bound parameter.
_ROLLUP_SUMS = text(
    f"""
    SELECT date_trunc(:unit, hour, 'UTC') AS start, sum(checks)::bigint AS checks,
           sum(failures)::bigint AS failures, sum(latency_sum_ms) AS latency_sum_ms,
           ARRAY[{_LATENCY_SUMS}]::bigint[] AS latency
    FROM health_rollups
    WHERE org_id = :org AND server_id = :server AND hour >= :start AND hour < :end
    GROUP BY 1
    ORDER BY 1
    """  # noqa: S608
)


class HealthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: UUID, server_id: UUID) -> ServerHealth | None:
        return await self.session.scalar(
            select(ServerHealth).where(
                ServerHealth.org_id == org_id, ServerHealth.server_id == server_id
            )
        )

    async def lock(self, org_id: UUID, server_id: UUID) -> ServerHealth | None:
        """The row, locked for this transaction: one recording at a time per server."""
        return await self.session.scalar(
            select(ServerHealth)
            .where(ServerHealth.org_id == org_id, ServerHealth.server_id == server_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def add_check(self, check: HealthCheck) -> HealthCheck:
        return await add_check(self.session, check)

    async def add_transition(self, transition: HealthTransition) -> HealthTransition:
        self.session.add(transition)
        await self.session.flush()
        return transition

    async def claim(
        self, *, limit: int, lease_seconds: int, worker: str, now: datetime
    ) -> Sequence[Claimed]:
        rows = await self.session.execute(
            text(
                "SELECT server_id, org_id, check_type, next_check_at "
                "FROM sc_health_claim(:limit, :lease, :worker, :now)"
            ),
            {"limit": limit, "lease": lease_seconds, "worker": worker, "now": now},
        )
        return [Claimed(r[0], r[1], r[2], r[3]) for r in rows.all()]

    async def defer_check(self, server_id: UUID, org_id: UUID, actor: Actor) -> int:
        """Queue a ``health.check`` job in this transaction (it exists once this commits);
        its id. Runs for one server never overlap (the job lock)."""
        ids = await self.session.scalar(
            _DEFER_CHECK,
            {
                "lock": f"sc:health.check:{server_id}",
                "args": json.dumps(
                    {
                        "server_id": str(server_id),
                        "org_id": str(org_id),
                        "actor_type": actor.type,
                        "actor_id": actor.id,
                    }
                ),
            },
        )
        return int(ids[0])

    async def stale_count(self, now: datetime) -> int:
        value = await self.session.scalar(text("SELECT sc_health_stale_count(:now)"), {"now": now})
        return int(value or 0)

    # Read side (history and details) and retention.

    async def rollup_sums(
        self, org_id: UUID, server_id: UUID, *, start: datetime, end: datetime, unit: str
    ) -> list[RollupSum]:
        """The server's rollups in ``[start, end)`` added up per ``unit`` (hour or day)."""
        rows = await self.session.execute(
            _ROLLUP_SUMS,
            {"org": org_id, "server": server_id, "start": start, "end": end, "unit": unit},
        )
        return [
            RollupSum(r.start, int(r.checks), int(r.failures), float(r.latency_sum_ms), r.latency)
            for r in rows
        ]

    async def status_before(self, org_id: UUID, server_id: UUID, moment: datetime) -> str | None:
        """The status the last transition before ``moment`` left, if any."""
        return await self.session.scalar(
            select(HealthTransition.to_status)
            .where(
                HealthTransition.org_id == org_id,
                HealthTransition.server_id == server_id,
                HealthTransition.at < moment,
            )
            .order_by(HealthTransition.at.desc(), HealthTransition.id.desc())
            .limit(1)
        )

    async def transitions(
        self,
        org_id: UUID,
        server_id: UUID,
        *,
        start: datetime,
        end: datetime,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> Sequence[HealthTransition]:
        """Transitions in ``[start, end)``, oldest first, after the keyset ``(at, id)``."""
        stmt = select(HealthTransition).where(
            HealthTransition.org_id == org_id,
            HealthTransition.server_id == server_id,
            HealthTransition.at >= start,
            HealthTransition.at < end,
        )
        if after is not None:
            stmt = stmt.where(tuple_(HealthTransition.at, HealthTransition.id) > tuple_(*after))
        stmt = stmt.order_by(HealthTransition.at, HealthTransition.id).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def prune(
        self, *, checks_before: datetime, rollups_before: datetime, limit: int
    ) -> tuple[int, int]:
        """Delete up to ``limit`` raw checks and ``limit`` rollups older than the cut-offs, of
        every tenant (a SECURITY DEFINER function); how many of each went."""
        row = (
            await self.session.execute(
                text("SELECT checks, rollups FROM sc_health_prune(:checks, :rollups, :limit)"),
                {"checks": checks_before, "rollups": rollups_before, "limit": limit},
            )
        ).one()
        return int(row.checks), int(row.rollups)
