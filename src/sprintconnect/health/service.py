"""Preparing, running and recording health checks, and the status model.

Recording is one transaction bound to the server's organization: the raw check, its hourly
rollup, the server's status row, a transition row when the status changes and, for the
changes others care about, an outbox event. The status model:

- ``unknown`` until the first check;
- a success makes the server ``healthy`` (streak 0);
- a failure makes it ``unhealthy`` (streak + 1; ``unhealthy_since`` set on the first one), and
  ``degraded`` once the streak reaches the failure threshold or it has been unhealthy for the
  degraded-after time (the server's overrides, else the organization's);
- a success after ``unhealthy`` or ``degraded`` is a recovery.

Events: ``server.health.unhealthy``, ``server.health.degraded`` and ``server.health.recovered``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect import audit
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.repository import SnapshotRepository
from sprintconnect.discovery.service import queue_discovery
from sprintconnect.egress import policy_from_settings
from sprintconnect.health import config as health_config
from sprintconnect.health import metrics
from sprintconnect.health.checks import Result, Target, ToolsFingerprint, fingerprint, run_check
from sprintconnect.health.repository import HealthRepository
from sprintconnect.identity.principal import Actor
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.outbox import emit
from sprintconnect.mcp_server import credentials
from sprintconnect.mcp_server.repository import McpServerRepository
from sprintconnect.models import HealthCheck, HealthTransition, McpServer
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret import SecretNotFound

log = structlog.get_logger(__name__)

TOPICS = {
    "unhealthy": "server.health.unhealthy",
    "degraded": "server.health.degraded",
    "recovered": "server.health.recovered",
}


@dataclass(frozen=True)
class Schedule:
    """What a scheduled check changes in the schedule once recorded."""

    worker: str
    next_check_at: datetime


@dataclass
class Recorded:
    """A recorded check and the status it left the server in."""

    server_id: UUID
    checked_at: datetime
    check_type: str
    trigger: str
    outcome: str
    response_ms: float
    error_class: str | None
    message: str | None
    status: str
    previous_status: str
    failure_streak: int
    transition_id: int | None = None
    discovery_id: UUID | None = None


# Called in the recording transaction (a manual check's audit entry).
OnRecorded = Callable[[AsyncSession, UUID, Actor, Recorded], Awaitable[None]]


@dataclass(frozen=True)
class Decision:
    status: str
    streak: int
    unhealthy_since: datetime | None
    reason: str


def next_status(
    previous: str,
    *,
    ok: bool,
    streak: int,
    unhealthy_since: datetime | None,
    now: datetime,
    thresholds: health_config.Thresholds,
    error_class: str | None = None,
) -> Decision:
    """The status model, as a pure function of the previous state and one check's outcome."""
    if ok:
        return Decision("healthy", 0, None, "the check succeeded")
    streak += 1
    since = unhealthy_since or now
    unhealthy_for = (now - since).total_seconds()
    if streak >= thresholds.failures:
        return Decision("degraded", streak, since, f"{streak} consecutive failures ({error_class})")
    if unhealthy_for >= thresholds.seconds:
        return Decision(
            "degraded", streak, since, f"unhealthy for {int(unhealthy_for)} s ({error_class})"
        )
    if previous == "degraded":  # escalated already; a failure does not make it better
        return Decision("degraded", streak, since, f"the check failed ({error_class})")
    return Decision("unhealthy", streak, since, f"the check failed ({error_class})")


def event_kind(previous: str, status: str) -> str | None:
    """Which event a transition is, if any."""
    if status == "healthy" and previous in ("unhealthy", "degraded"):
        return "recovered"
    if status in ("unhealthy", "degraded") and previous != status:
        return status
    return None


async def prepare(
    session: AsyncSession, services: TaskServices, org_id: UUID, server_id: UUID
) -> Target | None:
    """Read what a check of this server needs, in the caller's tenant-bound transaction.
    None when the server is gone."""
    server = await McpServerRepository(session).get(org_id, server_id)
    org = await OrganizationRepository(session).get(org_id)
    row = server.health if server is not None else None
    if server is None or org is None or row is None:
        return None
    baseline = None
    if row.check_type != "ping" and server.current_snapshot_version is not None:
        baseline = await snapshot_tools(session, org_id, server)
    session.expunge(server)
    policy = policy_from_settings(
        services.runtime.settings, list(org.egress_allowlist) or None, org_id=org_id
    )
    # Never more often than the organization's minimum, even if it was raised since.
    interval = max(row.interval_seconds, health_config.min_interval(org, services.runtime.settings))
    return Target(server, row.check_type, None, policy, baseline, interval)


async def snapshot_tools(
    session: AsyncSession, org_id: UUID, server: McpServer
) -> ToolsFingerprint | None:
    snapshots = SnapshotRepository(session)
    latest = await snapshots.latest(org_id, server.id)
    if latest is None:
        return None
    items = await snapshots.items(org_id, latest.id)
    return fingerprint(item.body for item in items if item.kind == "tool")


async def with_secret(services: TaskServices, target: Target) -> Target:
    """The target with the server's credentials (read outside any database transaction)."""
    server = target.server
    if server.auth_type == "none":
        return target
    try:
        secret = await services.secrets.get(server.org_id, credentials.secret_path(server.id))
    except SecretNotFound:
        return dataclasses.replace(target, secret_missing=True)
    return dataclasses.replace(target, secret=secret.reveal())


async def check(services: TaskServices, target: Target) -> Result:
    settings = services.runtime.settings
    target = await with_secret(services, target)
    result = await run_check(
        target,
        network=services.network,
        tokens=services.tokens,
        timeout_seconds=settings.health_check_timeout_seconds,
        max_pages=settings.discovery_max_pages,
    )
    metrics.CHECKS.labels("healthy" if result.ok else "unhealthy", target.check_type).inc()
    metrics.CHECK_SECONDS.observe(result.response_ms / 1000)
    return result


async def record(
    session: AsyncSession,
    *,
    org_id: UUID,
    server_id: UUID,
    check_type: str,
    trigger: str,
    result: Result,
    now: datetime,
    actor: Actor,
    schedule: Schedule | None = None,
) -> Recorded | None:
    """Record a check in the caller's transaction bound to ``org_id``; None when the server
    is gone (deleted while it was being checked)."""
    repo = HealthRepository(session)
    row = await repo.lock(org_id, server_id)
    if row is None:
        return None
    org = await OrganizationRepository(session).get(org_id)
    assert org is not None
    outcome = "healthy" if result.ok else "unhealthy"
    await repo.add_check(
        HealthCheck(
            org_id=org_id,
            server_id=server_id,
            checked_at=now,
            check_type=check_type,
            trigger=trigger,
            outcome=outcome,
            response_ms=result.response_ms,
            error_class=result.error_class,
            message=result.message,
        )
    )
    previous = row.status
    decision = next_status(
        previous,
        ok=result.ok,
        streak=row.failure_streak,
        unhealthy_since=row.unhealthy_since,
        now=now,
        thresholds=health_config.thresholds(org, row),
        error_class=result.error_class,
    )
    row.status = decision.status
    row.failure_streak = decision.streak
    row.unhealthy_since = decision.unhealthy_since
    row.last_check_at = now
    row.last_response_ms = result.response_ms
    row.last_error_class = result.error_class
    row.last_error = result.message if not result.ok else None
    row.updated_at = now
    if schedule is not None and row.leased_by == schedule.worker:
        row.next_check_at = schedule.next_check_at
        row.lease_until = None
        row.leased_by = None
    recorded = Recorded(
        server_id=server_id,
        checked_at=now,
        check_type=check_type,
        trigger=trigger,
        outcome=outcome,
        response_ms=result.response_ms,
        error_class=result.error_class,
        message=result.message,
        status=decision.status,
        previous_status=previous,
        failure_streak=decision.streak,
    )
    if decision.status != previous:
        row.status_changed_at = now
        transition = await repo.add_transition(
            HealthTransition(
                org_id=org_id,
                server_id=server_id,
                at=now,
                from_status=previous,
                to_status=decision.status,
                reason=decision.reason,
            )
        )
        recorded.transition_id = transition.id
        kind = event_kind(previous, decision.status)
        server = await McpServerRepository(session).get(org_id, server_id) if kind else None
        if kind is not None and server is not None:
            await emit(
                session,
                org_id=org_id,
                topic=TOPICS[kind],
                payload=event_payload(server, recorded),
                key=f"health:{server_id}:{transition.id}",
            )
        log.info(
            "health.transition",
            server_id=str(server_id),
            previous=previous,
            status=decision.status,
            reason=decision.reason,
        )
    if result.ok and (check_type == "full" or result.changed):
        recorded.discovery_id = await _maybe_discover(session, org_id, server_id, check_type, actor)
    await session.flush()
    return recorded


def event_payload(server: McpServer, recorded: Recorded) -> dict[str, Any]:
    return {
        "server_id": str(server.id),
        "server_name": server.name,
        "environment": server.environment,
        "status": recorded.status,
        "previous_status": recorded.previous_status,
        "at": recorded.checked_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "transition_id": recorded.transition_id,
        "error_class": recorded.error_class,
        "message": recorded.message,
        "failure_streak": recorded.failure_streak,
        "response_ms": recorded.response_ms,
    }


async def _maybe_discover(
    session: AsyncSession, org_id: UUID, server_id: UUID, check_type: str, actor: Actor
) -> UUID | None:
    """A ``full`` check always asks for a discovery; a ``capability`` check that saw a change
    does when the server has ``auto_discover``. One already waiting or running is reused."""
    server = await McpServerRepository(session).get(org_id, server_id)
    if server is None or (check_type == "capability" and not server.auto_discover):
        return None
    discovery, _ = await queue_discovery(
        session, server, force_refresh=False, requested_by=None, actor=actor
    )
    return discovery.id


async def run_and_record(
    services: TaskServices,
    *,
    org_id: UUID,
    server_id: UUID,
    trigger: str,
    actor: Actor,
    schedule_for: Callable[[datetime, int], Schedule] | None = None,
    on_recorded: OnRecorded | None = None,
) -> Recorded | None:
    """Prepare (a short transaction), check (no connection held), record (a new one);
    ``schedule_for`` gives, from the time the check ended, where the schedule goes next."""
    sessionmaker: async_sessionmaker[AsyncSession] = services.runtime.db.sessionmaker
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        target = await prepare(session, services, org_id, server_id)
    if target is None:
        return None
    result = await check(services, target)
    now = services.runtime.clock.now()
    schedule = schedule_for(now, target.interval_seconds) if schedule_for else None
    async with sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        recorded = await record(
            session,
            org_id=org_id,
            server_id=server_id,
            check_type=target.check_type,
            trigger=trigger,
            result=result,
            now=now,
            actor=actor,
            schedule=schedule,
        )
        if recorded is not None and on_recorded is not None:
            await on_recorded(session, org_id, actor, recorded)
        return recorded


async def audit_manual_check(
    session: AsyncSession, org_id: UUID, actor: Actor, recorded: Recorded
) -> None:
    await audit.record(
        session,
        audit.AuditTag.HEALTH_CHECK_RUN,
        org_id=org_id,
        actor=actor,
        target=audit.Target("mcp_server", recorded.server_id),
        details={
            "check_type": recorded.check_type,
            "outcome": recorded.outcome,
            "status": recorded.status,
        },
    )
