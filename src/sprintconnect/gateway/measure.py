"""Measurements of calls, kept in memory and written in batches off the request path.

A call adds one row to a buffer (no I/O); a background task writes whatever gathered every
``flush_seconds``, one multi-row insert per organization (each in its own transaction, bound
to that tenant). Shutdown writes what is left. If the database is down the rows wait for the
next flush; past ``max_rows`` the oldest are dropped and counted
(``sprintconnect_measurements_dropped_total``): measurements must never hold up calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.gateway.repository import CallRepository

log = structlog.get_logger(__name__)

WRITTEN = Counter("sprintconnect_measurements_written_total", "Call measurements written")
DROPPED = Counter(
    "sprintconnect_measurements_dropped_total", "Call measurements dropped (buffer full)"
)
# Tokens are estimated from payload size: about four bytes of JSON per token.
BYTES_PER_TOKEN = 4


def estimate_tokens(request_bytes: int, response_bytes: int) -> int:
    return (request_bytes + response_bytes + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN


@dataclass(frozen=True)
class Measurement:
    org_id: UUID
    at: datetime
    source: str
    toolset_id: UUID | None
    server_id: UUID | None
    kind: str
    name: str
    capability_class: str | None
    caller_type: str
    caller_id: str
    caller_user_id: UUID | None
    status: str
    error_class: str | None
    latency_ms: float
    request_bytes: int
    response_bytes: int
    est_tokens: int
    decision_id: str | None = None


class MeasurementWriter:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        flush_seconds: float,
        max_rows: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.flush_seconds = flush_seconds
        self._rows: deque[Measurement] = deque()
        self._max_rows = max_rows
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def add(self, measurement: Measurement) -> None:
        if len(self._rows) >= self._max_rows:
            self._rows.popleft()
            DROPPED.inc()
        self._rows.append(measurement)

    def pending(self) -> int:
        return len(self._rows)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="measurement-writer")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # the rows stay for the next round
                log.warning("measurements.flush_failed", error=repr(exc)[:300])

    async def flush(self) -> int:
        """Write everything gathered so far; how many rows were written."""
        async with self._lock:
            taken = list(self._rows)
            self._rows.clear()
            by_org: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
            for row in taken:
                by_org[row.org_id].append(asdict(row))
            written = 0
            done: set[UUID] = set()
            try:
                for org_id, rows in by_org.items():
                    async with self.sessionmaker() as session, session.begin():
                        await bind_tenant(session, org_id)
                        await CallRepository(session).insert_many(rows)
                    done.add(org_id)
                    written += len(rows)
            except BaseException:
                # Put back what was not written, oldest first, within the bound.
                self._rows.extendleft(reversed([r for r in taken if r.org_id not in done]))
                while len(self._rows) > self._max_rows:
                    self._rows.popleft()
                    DROPPED.inc()
                raise
            WRITTEN.inc(written)
            return written

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.flush()
        except Exception as exc:
            log.warning(
                "measurements.final_flush_failed", error=repr(exc)[:300], lost=self.pending()
            )
