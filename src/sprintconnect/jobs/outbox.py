"""The transactional outbox: events written with the change, relayed to jobs after commit.

``emit`` adds a row in the caller's transaction, so an event exists exactly when the change
does. The relay claims pending rows and defers their jobs in one transaction of its own: a
crash between the two cannot lose an event or run it twice from the outbox side (jobs are
at-least-once all the same; handlers are idempotent).

Relays wake at once on a new event: an INSERT into ``outbox_events`` sends a NOTIFY on
``CHANNEL`` (trigger of migration 0012), and ``Wakeup`` LISTENs for it on a connection of its
own. A notification is a hint only: the relay's poll still finds whatever one missed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.models import OutboxEvent

log = structlog.get_logger(__name__)

CHANNEL = "sc_outbox"


@dataclass(frozen=True)
class Route:
    """Which job an event starts: task, queue, and the lock that serializes its runs."""

    task: str
    queue: str
    lock_key: str | None = None  # a payload field; runs sharing its value never overlap
    with_topic: bool = False  # the job gets the event's ``topic`` too (one task, many topics)


# Topics with no route (e.g. ``webhook.disabled``) are marked dispatched and kept: the outbox
# is also the event history.
ROUTES: dict[str, Route] = {
    "discovery.requested": Route("sc:discovery.run", "discovery", lock_key="server_id"),
    "server.health.unhealthy": Route("sc:notification.dispatch", "notifications", "server_id"),
    "server.health.degraded": Route("sc:notification.dispatch", "notifications", "server_id"),
    "server.health.recovered": Route("sc:notification.dispatch", "notifications", "server_id"),
}

# Fan-out: topics that start a job beside (or instead of) their ``ROUTES`` one. Webhook
# deliveries of one organization are written in outbox order: its fan-out runs never overlap.
WEBHOOK_FANOUT = Route("sc:webhook.fanout", "webhooks", lock_key="org_id", with_topic=True)
FAN_OUT: dict[str, tuple[Route, ...]] = {
    topic: (WEBHOOK_FANOUT,)
    for topic in (
        "server.health.unhealthy",
        "server.health.degraded",
        "server.health.recovered",
        "server.capabilities.changed",
        "audit.checkpoint",
    )
}


def routes(topic: str) -> tuple[Route, ...]:
    """Every job an event of ``topic`` starts (none: kept as history only)."""
    first = (ROUTES[topic],) if topic in ROUTES else ()
    return first + FAN_OUT.get(topic, ())


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
            for i, route in enumerate(routes(row.topic)):
                args = {**row.payload, "org_id": str(row.org_id), "event_key": row.idempotency_key}
                if route.with_topic:
                    args["topic"] = row.topic
                lock = f"{route.task}:{args[route.lock_key]}" if route.lock_key else None
                await session.execute(
                    _DEFER,
                    {
                        "queue": route.queue,
                        "task": route.task,
                        "lock": lock,
                        "qlock": f"outbox:{row.id}" if i == 0 else f"outbox:{row.id}:{route.task}",
                        "args": json.dumps(args),
                    },
                )
    if rows:
        log.info("outbox.relayed", events=len(rows))
    return len(rows)


class Wakeup:
    """LISTEN for new outbox events on a dedicated connection; ``wait`` until one or a timeout.

    The connection is not one of the request pool's: it stays open as long as the relay runs.
    When it drops (a restart of the database, ``pg_terminate_backend``), ``run`` logs once,
    reconnects with a growing pause, and signals a wake-up so that the relay looks for events
    sent while nobody listened.
    """

    def __init__(self, conninfo: str, *, retry_seconds: float = 1.0) -> None:
        self._conninfo = conninfo
        self._retry_seconds = retry_seconds
        self._event = asyncio.Event()
        self.listening = asyncio.Event()  # set while a LISTEN is in place (tests wait on it)

    async def wait(self, seconds: float) -> bool:
        """True when woken by a notification (or a reconnect), False when ``seconds`` ran out."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True

    async def run(self) -> None:
        lost = False
        pause = self._retry_seconds
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if lost:
                        log.info("outbox.listen_restored")
                        lost = False
                    pause = self._retry_seconds
                    self._event.set()  # events may have come while nobody listened
                    async for _ in conn.notifies():
                        self._event.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.listening.clear()
                if not lost:  # once per outage, not once per attempt
                    log.warning("outbox.listen_lost", error=type(exc).__name__)
                    lost = True
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
