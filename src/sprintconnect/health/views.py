"""How a server's health row is shown in every view of the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sprintconnect.health.schemas import (
    DEFAULT_INTERVAL_SECONDS,
    CheckResult,
    ServerHealthSummary,
)
from sprintconnect.models import ServerHealth

if TYPE_CHECKING:
    from sprintconnect.health.service import Recorded


def health_summary(row: ServerHealth | None) -> ServerHealthSummary:
    """The summary; a server without a row yet (never the case once created) shows defaults."""
    if row is None:
        return ServerHealthSummary(
            status="unknown",
            last_check_at=None,
            response_ms=None,
            interval_seconds=DEFAULT_INTERVAL_SECONDS,
            check_type="ping",
            enabled=True,
            failure_threshold=None,
            degraded_after_seconds=None,
        )
    return ServerHealthSummary(
        status=row.status,
        last_check_at=row.last_check_at,
        response_ms=row.last_response_ms,
        interval_seconds=row.interval_seconds,
        check_type=row.check_type,
        enabled=row.enabled,
        failure_threshold=row.failure_threshold,
        degraded_after_seconds=row.degraded_after_seconds,
    )


def check_result(recorded: Recorded) -> CheckResult:
    return CheckResult(
        server_id=recorded.server_id,
        checked_at=recorded.checked_at,
        check_type=recorded.check_type,
        trigger=recorded.trigger,
        outcome=recorded.outcome,
        response_ms=recorded.response_ms,
        error_class=recorded.error_class,
        message=recorded.message,
        status=recorded.status,
        previous_status=recorded.previous_status,
        failure_streak=recorded.failure_streak,
        discovery_id=recorded.discovery_id,
    )
