"""Background jobs of the webhook domain (queue ``webhooks``).

- ``webhook.fanout``: one per event, routed from the outbox (``jobs.outbox.FAN_OUT``); runs of
  one organization never overlap, so its deliveries are numbered in outbox order.
- ``webhook.deliver``: an endpoint's sender (``webhook.delivery.drain``), deferred when a
  delivery is added, when a retry falls due (``scheduled_at``), and by the sweep.
- ``webhook.sweep``: every minute, a sender for each endpoint with a due delivery, whatever
  became of the job that should have started it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import procrastinate

from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

QUEUE = "webhooks"
# Our side failing (the database going away); a receiver's failures are the delivery's own
# schedule, never the job's.
RETRY = JitteredBackoff(max_attempts=5, base_seconds=2, max_seconds=300)


async def fanout(org_id: str, event_key: str, topic: str, **payload: Any) -> None:
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.webhook.events import fan_out

    runtime = context.current().runtime
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, UUID(org_id))
        await fan_out(
            session,
            org_id=UUID(org_id),
            topic=topic,
            event_key=event_key,
            payload=payload,
            now=runtime.clock.now(),
        )


async def deliver(org_id: str, endpoint_id: str, **_: Any) -> None:
    from sprintconnect.webhook.delivery import drain

    await drain(context.current(), org_id=UUID(org_id), endpoint_id=UUID(endpoint_id))


async def sweep(timestamp: int) -> None:
    from sprintconnect.webhook.delivery import sweep as sweep_all

    await sweep_all(context.current())


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app (see ``discovery.tasks.build_blueprint``)."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="webhook.fanout", queue=QUEUE, retry=RETRY)(fanout)
    blueprint.task(name="webhook.deliver", queue=QUEUE, retry=RETRY)(deliver)
    blueprint.periodic(cron="* * * * *", periodic_id="webhook-sweep")(
        blueprint.task(name="webhook.sweep", queue=QUEUE, retry=RETRY)(sweep)
    )
    return blueprint
