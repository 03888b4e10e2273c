"""Response models for the platform operators' view of background jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JobState = Literal["queued", "running", "succeeded", "dead", "cancelled", "aborted"]


class JobEvent(BaseModel):
    """The most recent thing procrastinate recorded about the job."""

    type: str = Field(
        description="deferred, started, deferred_for_retry, failed, succeeded, cancelled, "
        "abort_requested, aborted, scheduled or retried."
    )
    at: datetime | None


class Job(BaseModel):
    """A background job. Its arguments are identifiers only, never credentials."""

    id: int
    task: str = Field(description="The task's name, e.g. `sc:discovery.run`.")
    queue: str
    state: JobState
    attempts: int = Field(description="Runs that ended in failure or were retried.")
    scheduled_at: datetime | None = Field(
        description="When a queued job may run next (retries wait here); null means now."
    )
    lock: str | None = Field(description="Jobs sharing a lock never run at the same time.")
    args: dict[str, Any]
    last_event: JobEvent | None
    last_error: str | None = Field(
        description="The error of the job's most recent failed attempt (its type and "
        "message; credentials in URLs and tokens masked, at most 2,000 characters). Null "
        "when no attempt has failed, or the worker died before it could record one."
    )


class JobStats(BaseModel):
    """How many jobs are in each state; ``dead`` is the dead-letter queue's depth."""

    queued: int = 0
    running: int = 0
    succeeded: int = 0
    dead: int = 0
    cancelled: int = 0
    aborted: int = 0
    dead_by_task: dict[str, int] = Field(default_factory=dict)
