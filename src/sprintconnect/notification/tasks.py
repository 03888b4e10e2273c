"""Background jobs of the notification domain (queue ``notifications``).

- ``notification.dispatch``: one per health event, routed from the outbox; runs of one server
  never overlap (the outbox route's lock), so its cool-down state is read and written in turn.
- ``notification.deliver``: one per delivery row, deferred in the dispatch's transaction.
- ``notification.remind``: a procrastinate periodic task, every minute on whichever worker
  takes it (procrastinate defers each minute's run once, however many workers there are).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import procrastinate

from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

QUEUE = "notifications"
# Our side failing (the database going away): the same as discovery.
RETRY = JitteredBackoff(max_attempts=5, base_seconds=2, max_seconds=300)
# A receiver failing: the delivery's own attempt count ends it first (at most 50 by the
# setting's bounds), so the job never goes dead for a receiver that stays down.
DELIVER_RETRY = JitteredBackoff(max_attempts=60, base_seconds=5, max_seconds=900)


async def dispatch(org_id: str, event_key: str, **payload: Any) -> None:
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.notification.dispatch import dispatch_event

    runtime = context.current().runtime
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, UUID(org_id))
        await dispatch_event(
            session,
            org_id=UUID(org_id),
            payload=payload,
            event_key=event_key,
            now=runtime.clock.now(),
        )


async def deliver(delivery_id: str, org_id: str, **_: Any) -> None:
    from sprintconnect.notification.delivery import deliver as deliver_one

    await deliver_one(context.current(), delivery_id=UUID(delivery_id), org_id=UUID(org_id))


async def remind(timestamp: int) -> None:
    from sprintconnect.notification.delivery import remind as remind_all

    await remind_all(context.current())


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app (see ``discovery.tasks.build_blueprint``)."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="notification.dispatch", queue=QUEUE, retry=RETRY)(dispatch)
    blueprint.task(name="notification.deliver", queue=QUEUE, retry=DELIVER_RETRY)(deliver)
    blueprint.periodic(cron="* * * * *", periodic_id="notification-reminders")(
        blueprint.task(name="notification.remind", queue=QUEUE, retry=RETRY)(remind)
    )
    return blueprint
