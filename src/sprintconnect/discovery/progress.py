"""A running discovery's phase, recorded beside the listing rather than in its way.

Each phase (``connecting``, ``listing_tools``, ...) is a progress hint for whoever polls the
discovery. Writing it is a transaction of its own; awaited inline, four of them sat between
the pages of every listing. ``PhaseWriter`` hands the write to a task and lets the listing go
on: a phase that arrives while the previous one is still being written replaces any phase
still waiting (only the latest matters), and ``flush`` waits for the last write before the
discovery records its outcome, so that a phase never lands after the final state. A failed
write is logged and dropped: progress is advisory, the outcome is not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class PhaseWriter:
    def __init__(self, write: Callable[[str], Awaitable[None]]) -> None:
        self._write = write
        self._latest: str | None = None
        self._written: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, phase: str) -> None:
        self._latest = phase
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._latest is not None and self._latest != self._written:
            phase = self._latest
            try:
                await self._write(phase)
            except Exception as exc:  # advisory: the outcome is written apart
                log.warning("discovery.phase_not_recorded", phase=phase, error=type(exc).__name__)
            self._written = phase

    async def flush(self) -> None:
        """Wait until the latest phase is written (or its write failed)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def close(self) -> None:
        """Stop writing: for a discovery that is being cancelled."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
