"""The transactional outbox: events written with the change, relayed to jobs after commit.

``emit`` adds a row in the caller's transaction, so an event exists exactly when the change
does. The relay claims pending rows and defers their jobs in one transaction of its own: a
crash between the two cannot lose an event or run it twice from the outbox side (jobs are
at-least-once all the same; handlers are idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.models import OutboxEvent

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Route:
    """Which job an event starts: task, queue, and the lock that serializes its runs."""

    task: str
    queue: str
    lock_key: str | None = None  # a payload field; runs sharing its value never overlap


# Topics with no route (e.g. ``server.capabilities.changed`` until webhooks exist) are marked
# dispatched and kept: the outbox is also the event history.
ROUTES: dict[str, Route] = {
    "discovery.requested": Route("sc:discovery.run", "discovery", lock_key="server_id"),
}


async def emit(
    session: AsyncSession, *, org_id: UUID, topic: str, payload: dict[str, Any], key: str
) -> None:
    """Record an event in the current transaction; the same ``key`` twice is one event."""
    await session.execute(
        insert(OutboxEvent)
        .values(org_id=org_id, topic=topic, payload=payload, idempotency_key=key)
        .on_conflict_do_nothing(constraint="uq_outbox_events_org_key")
    )


_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :qlock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)


async def relay_once(sessionmaker: async_sessionmaker[AsyncSession], *, limit: int = 100) -> int:
    """Move up to ``limit`` pending events to jobs; the number of events taken."""
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(text("SELECT * FROM sc_outbox_claim(:n)"), {"n": limit})
        ).all()
        for row in rows:
            route = ROUTES.get(row.topic)
            if route is None:
                continue
            args = {**row.payload, "org_id": str(row.org_id), "event_key": row.idempotency_key}
            lock = f"{route.task}:{row.payload[route.lock_key]}" if route.lock_key else None
            await session.execute(
                _DEFER,
                {
                    "queue": route.queue,
                    "task": route.task,
                    "lock": lock,
                    "qlock": f"outbox:{row.id}",
                    "args": json.dumps(args),
                },
            )
    if rows:
        log.info("outbox.relayed", events=len(rows))
    return len(rows)
