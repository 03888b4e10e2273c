"""Background job of the audit ledger (queue ``audit``): ``audit.ledger``, a procrastinate
periodic task every minute on whichever worker takes it, sequences new entries and publishes
the checkpoints that are due (``service.maintain``)."""

from __future__ import annotations

from typing import Any

import procrastinate

from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

QUEUE = "audit"
CRON = "* * * * *"
# A failed run is retried a little; the next minute's run picks up whatever is left anyway.
RETRY = JitteredBackoff(max_attempts=3, base_seconds=5, max_seconds=30)


async def maintain(timestamp: int, **_: Any) -> None:
    from sprintconnect.audit.ledger.service import maintain as maintain_ledger

    runtime = context.current().runtime
    await maintain_ledger(
        runtime.db.sessionmaker,
        runtime.keyring,
        checkpoint_seconds=runtime.settings.audit_checkpoint_seconds,
        now=runtime.clock.now(),
    )


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app (see ``discovery.tasks.build_blueprint``)."""
    blueprint = procrastinate.Blueprint()
    task = blueprint.task(
        name="audit.ledger", queue=QUEUE, queueing_lock="audit.ledger", retry=RETRY
    )(maintain)
    blueprint.periodic(cron=CRON, periodic_id="audit-ledger")(task)
    return blueprint
