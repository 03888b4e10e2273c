"""Health settings of a server (the ``health`` block of a server) and a check's result."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

CheckType = Literal["ping", "capability", "full"]
HealthStatus = Literal["unknown", "healthy", "unhealthy", "degraded"]
Outcome = Literal["healthy", "unhealthy"]
Trigger = Literal["scheduled", "manual"]

DEFAULT_INTERVAL_SECONDS = 300
MAX_INTERVAL_SECONDS = 86_400
MAX_FAILURE_THRESHOLD = 1000
# Thirty days: a server may stay unhealthy that long before it counts as degraded.
MAX_DEGRADED_AFTER_SECONDS = 30 * 86_400


class HealthSettings(BaseModel):
    """How a server is checked; every field is optional (a partial change).

    `failure_threshold` and `degraded_after_seconds` override the organization's escalation
    thresholds for this server; `null` goes back to the organization's.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "interval_seconds": 300,
                    "check_type": "ping",
                    "enabled": True,
                    "failure_threshold": 3,
                    "degraded_after_seconds": 900,
                }
            ]
        },
    )

    interval_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_INTERVAL_SECONDS,
        description="Seconds between scheduled checks; never below the organization's minimum.",
    )
    check_type: CheckType | None = Field(
        default=None,
        description="`ping` (an MCP ping), `capability` (list tools and compare with the "
        "latest snapshot) or `full` (`capability` and a discovery).",
    )
    enabled: bool | None = Field(default=None, description="`false` pauses scheduled checks.")
    failure_threshold: int | None = Field(
        default=None,
        ge=1,
        le=MAX_FAILURE_THRESHOLD,
        description="Consecutive failures after which the server is `degraded`.",
    )
    degraded_after_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DEGRADED_AFTER_SECONDS,
        description="Seconds unhealthy after which the server is `degraded`.",
    )


class ServerHealthSummary(BaseModel):
    """A server's health settings and current status, as every view of a server shows it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "healthy",
                    "last_check_at": "2026-11-28T09:00:00Z",
                    "response_ms": 12.5,
                    "interval_seconds": 300,
                    "check_type": "ping",
                    "enabled": True,
                    "failure_threshold": None,
                    "degraded_after_seconds": None,
                }
            ]
        }
    )

    status: HealthStatus
    last_check_at: datetime | None
    response_ms: float | None = Field(description="The last check's response time.")
    interval_seconds: int
    check_type: CheckType
    enabled: bool
    failure_threshold: int | None = Field(description="`null`: the organization's threshold.")
    degraded_after_seconds: int | None = Field(description="`null`: the organization's.")


class CheckResult(BaseModel):
    """One check's result and the status it left the server in."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "server_id": "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11",
                    "checked_at": "2026-11-28T09:00:00Z",
                    "check_type": "ping",
                    "trigger": "manual",
                    "outcome": "unhealthy",
                    "response_ms": 10003.2,
                    "error_class": "timeout",
                    "message": "The server did not answer within 10 s.",
                    "status": "unhealthy",
                    "previous_status": "healthy",
                    "failure_streak": 1,
                    "discovery_id": None,
                }
            ]
        }
    )

    server_id: UUID
    checked_at: datetime
    check_type: CheckType
    trigger: Trigger
    outcome: Outcome
    response_ms: float
    error_class: str | None
    message: str | None
    status: HealthStatus
    previous_status: HealthStatus
    failure_streak: int
    discovery_id: UUID | None = Field(
        default=None, description="The discovery this check queued, if any."
    )


class CheckQueued(BaseModel):
    """A check queued as a job (`wait=false`); its result shows in the server's health."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "server_id": "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11",
                    "job_id": 42,
                    "health_url": "/api/v1/servers/0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11/health",
                }
            ]
        }
    )

    server_id: UUID
    job_id: int = Field(description="The background job that runs the check.")
    health_url: str = Field(description="Where the result shows once the job has run.")


# Read side: a server's health details and its history (health.history).

Bucket = Literal["hour", "day"]
_AT = "2026-11-28T09:00:00Z"


class EffectiveThresholds(BaseModel):
    """When this server escalates to `degraded`: the server's overrides, else the
    organization's thresholds."""

    failure_threshold: int = Field(description="Consecutive failed checks.")
    degraded_after_seconds: int = Field(description="Seconds unhealthy.")
    overridden: list[Literal["failure_threshold", "degraded_after_seconds"]] = Field(
        description="The thresholds this server sets itself; the others are the organization's."
    )
    min_interval_seconds: int = Field(
        description="The shortest check interval the organization may set."
    )


class HealthDetails(BaseModel):
    """A server's current health, its last check and its schedule."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "server_id": "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11",
                    "status": "unhealthy",
                    "status_changed_at": _AT,
                    "last_check_at": _AT,
                    "response_ms": 10003.2,
                    "error_class": "timeout",
                    "error": "The server did not answer within 10 s.",
                    "guidance": "The server did not answer in time. Check its load, or raise "
                    "the timeout.",
                    "failure_streak": 2,
                    "unhealthy_since": "2026-11-28T08:55:00Z",
                    "next_check_at": "2026-11-28T09:05:00Z",
                    "interval_seconds": 300,
                    "check_type": "ping",
                    "enabled": True,
                    "thresholds": {
                        "failure_threshold": 3,
                        "degraded_after_seconds": 900,
                        "overridden": [],
                        "min_interval_seconds": 60,
                    },
                }
            ]
        }
    )

    server_id: UUID
    status: HealthStatus
    status_changed_at: datetime | None
    last_check_at: datetime | None = Field(description="`null` until the first check.")
    response_ms: float | None = Field(description="The last check's response time.")
    error_class: str | None = Field(
        description="Why the last check failed (`timeout`, `connection_refused`, `tls`, "
        "`auth_rejected`, ...); `null` when it succeeded."
    )
    error: str | None = Field(description="The last check's error message.")
    guidance: str | None = Field(description="What to do about `error_class`.")
    failure_streak: int = Field(description="Consecutive failed checks up to the last one.")
    unhealthy_since: datetime | None
    next_check_at: datetime | None = Field(
        description="When the next scheduled check is due; `null` while checks are paused."
    )
    interval_seconds: int
    check_type: CheckType
    enabled: bool
    thresholds: EffectiveThresholds


class TransitionOut(BaseModel):
    """A status change."""

    id: int
    at: datetime
    from_status: HealthStatus
    to_status: HealthStatus
    reason: str


class LatencyStats(BaseModel):
    """Response-time percentiles (within about 10 %: read from a histogram) and the mean."""

    p50: float
    p95: float
    p99: float
    mean: float


class HistoryBucket(BaseModel):
    """One point of the chart: an hour or a UTC day (cut by the range at its ends)."""

    start: datetime
    end: datetime
    checks: int
    failures: int
    uptime_percent: float | None = Field(description="`null` when no check ran in the bucket.")
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class HealthHistory(BaseModel):
    """A server's health over a range of whole hours."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "server_id": "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11",
                    "from": "2026-11-27T09:00:00Z",
                    "to": "2026-11-28T10:00:00Z",
                    "bucket": "hour",
                    "status_at_from": "healthy",
                    "timeline": [
                        {
                            "id": 812,
                            "at": "2026-11-28T08:55:00Z",
                            "from_status": "healthy",
                            "to_status": "unhealthy",
                            "reason": "timeout",
                        }
                    ],
                    "next_cursor": None,
                    "checks": 300,
                    "failures": 2,
                    "uptime_percent": 99.333,
                    "response_ms": {"p50": 11.9, "p95": 24.4, "p99": 10391.0, "mean": 79.1},
                    "buckets": [
                        {
                            "start": "2026-11-28T08:00:00Z",
                            "end": "2026-11-28T09:00:00Z",
                            "checks": 12,
                            "failures": 1,
                            "uptime_percent": 91.667,
                            "p50_ms": 11.9,
                            "p95_ms": 10391.0,
                            "p99_ms": 10391.0,
                        }
                    ],
                }
            ]
        },
    )

    server_id: UUID
    from_: datetime = Field(
        alias="from", description="The range's start, rounded down to the hour."
    )
    to: datetime = Field(description="The range's end (exclusive), rounded up to the hour.")
    bucket: Bucket
    status_at_from: HealthStatus = Field(
        description="The status in force at `from` (`unknown` before the first check)."
    )
    timeline: list[TransitionOut] = Field(
        description="Status changes in the range, oldest first; a page of them when "
        "`next_cursor` is set."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same range) for the timeline's next page; "
        "null on the last."
    )
    checks: int
    failures: int
    uptime_percent: float | None = Field(
        description="Successful checks over all checks in the range, in percent; `null` when "
        "no check ran."
    )
    response_ms: LatencyStats | None = Field(description="`null` when no check ran.")
    buckets: list[HistoryBucket]
