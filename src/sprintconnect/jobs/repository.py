"""SQL over procrastinate's tables: jobs across every tenant, for platform operators only.

procrastinate's tables carry no ``org_id`` and no row-level security; only routes guarded by
``SuperAdmin`` may reach this repository.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    Text,
    column,
    func,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ENUM, JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

STATUS = ENUM(
    "todo",
    "doing",
    "succeeded",
    "failed",
    "cancelled",
    "aborting",
    "aborted",
    name="procrastinate_job_status",
    create_type=False,
)

jobs = table(
    "procrastinate_jobs",
    column("id", BigInteger),
    column("queue_name", String),
    column("task_name", String),
    column("lock", String),
    column("args", JSONB),
    column("status", STATUS),
    column("scheduled_at", DateTime(timezone=True)),
    column("attempts", Integer),
    column("sc_last_error", Text),  # ours (migration 0011), written by jobs.failures
)
events = table(
    "procrastinate_events",
    column("id", BigInteger),
    column("job_id", BigInteger),
    column("type", String),
    column("at", DateTime(timezone=True)),
)

# procrastinate's own function, so its event triggers record the manual retry. It moves a
# failed job back to todo with attempts + 1 and leaves its lock and queueing lock as they were.
_RETRY = text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)")
# procrastinate notifies workers of inserted jobs only; a retried one would wait for the
# workers' next poll. The same message wakes them now (delivered at commit).
_WAKE = text(
    "SELECT pg_notify('procrastinate_queue_v1#' || :queue, :payload), "
    "pg_notify('procrastinate_any_queue_v1', :payload)"
)


@dataclass(frozen=True)
class JobRow:
    id: int
    task_name: str
    queue_name: str
    status: str
    attempts: int
    scheduled_at: datetime | None
    lock: str | None
    args: dict[str, Any]
    last_event_type: str | None
    last_event_at: datetime | None
    last_error: str | None


class QueueingLockTaken(Exception):
    """Another job with the same queueing lock already waits in the queue."""


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _select(self) -> Any:
        last = (
            select(events.c.type, events.c.at)
            .where(events.c.job_id == jobs.c.id)
            .order_by(events.c.id.desc())
            .limit(1)
            .lateral("last_event")
        )
        return select(
            jobs.c.id,
            jobs.c.task_name,
            jobs.c.queue_name,
            jobs.c.status,
            jobs.c.attempts,
            jobs.c.scheduled_at,
            jobs.c.lock,
            jobs.c.args,
            last.c.type.label("last_event_type"),
            last.c.at.label("last_event_at"),
            jobs.c.sc_last_error.label("last_error"),
        ).select_from(jobs.outerjoin(last, true()))

    @staticmethod
    def _row(row: Any) -> JobRow:
        return JobRow(**row._mapping)

    async def get(self, job_id: int) -> JobRow | None:
        row = (await self.session.execute(self._select().where(jobs.c.id == job_id))).first()
        return self._row(row) if row else None

    async def page(
        self,
        *,
        statuses: Sequence[str] | None,
        task: str | None,
        before: int | None,
        limit: int,
    ) -> list[JobRow]:
        """Newest first; ``before`` is the last id of the previous page."""
        stmt = self._select()
        if statuses is not None:
            stmt = stmt.where(jobs.c.status.in_(statuses))
        if task is not None:
            stmt = stmt.where(jobs.c.task_name == task)
        if before is not None:
            stmt = stmt.where(jobs.c.id < before)
        rows = await self.session.execute(stmt.order_by(jobs.c.id.desc()).limit(limit))
        return [self._row(r) for r in rows]

    async def lock_status(self, job_id: int) -> tuple[str, str] | None:
        """(status, queue) of the job, its row locked until the transaction ends."""
        row = (
            await self.session.execute(
                select(jobs.c.status, jobs.c.queue_name)
                .where(jobs.c.id == job_id)
                .with_for_update()
            )
        ).first()
        return (str(row.status), str(row.queue_name)) if row else None

    async def retry_now(self, job_id: int, queue: str) -> None:
        """Queue a failed job again, to run at once."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(_RETRY, {"id": job_id})
        except IntegrityError as exc:  # the unique index on todo jobs' queueing_lock
            raise QueueingLockTaken from exc
        payload = json.dumps({"type": "job_inserted", "job_id": job_id})
        await self.session.execute(_WAKE, {"queue": queue, "payload": payload})

    async def delete(self, job_id: int) -> None:
        """Remove a job; its events go with it (procrastinate unlinks periodic defers)."""
        await self.session.execute(jobs.delete().where(jobs.c.id == job_id))

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(jobs.c.status, func.count()).group_by(jobs.c.status)
        )
        return {str(status): int(count) for status, count in rows}

    async def count_failed_by_task(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(jobs.c.task_name, func.count())
            .where(jobs.c.status == "failed")
            .group_by(jobs.c.task_name)
        )
        return {str(task): int(count) for task, count in rows}
