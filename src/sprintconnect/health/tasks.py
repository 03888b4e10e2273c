"""Background jobs of the health domain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import procrastinate

from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

# Retention runs every quarter hour; a failed run is retried a few times, and the next
# scheduled run picks up whatever is left anyway.
PRUNE_CRON = "*/15 * * * *"
PRUNE_RETRY = JitteredBackoff(max_attempts=3, base_seconds=10, max_seconds=120)


async def prune(timestamp: int, **_: Any) -> None:
    """Delete raw checks and rollups past their retention windows (``health.rollup``)."""
    from sprintconnect.health.rollup import prune as prune_expired

    runtime = context.current().runtime
    await prune_expired(runtime.db.sessionmaker, runtime.settings, runtime.clock.now())


# A manual check queued with ``wait=false``. The server's failures are results (recorded);
# these retries are for our side failing (the database away, the process killed).
CHECK_RETRY = JitteredBackoff(max_attempts=3, base_seconds=2, max_seconds=60)


async def check(
    server_id: str, org_id: str, actor_type: str, actor_id: str | None, **_: Any
) -> None:
    """Run a manual check now and record it (``health.service``), as the one who asked."""
    from sprintconnect.health.service import audit_manual_check, run_and_record
    from sprintconnect.identity.principal import Actor

    actor = Actor(actor_type, actor_id)  # type: ignore[arg-type]
    await run_and_record(
        context.current(),
        org_id=UUID(org_id),
        server_id=UUID(server_id),
        trigger="manual",
        actor=actor,
        on_recorded=audit_manual_check,
    )


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app (see ``discovery.tasks.build_blueprint``)."""
    blueprint = procrastinate.Blueprint()
    retention = blueprint.task(
        name="health.prune", queue="health", queueing_lock="health.prune", retry=PRUNE_RETRY
    )(prune)
    blueprint.periodic(cron=PRUNE_CRON, periodic_id="retention")(retention)
    blueprint.task(name="health.check", queue="health", retry=CHECK_RETRY)(check)
    return blueprint
