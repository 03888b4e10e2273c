"""Background job of the token service (queue ``tokens``): ``tokens.rotate_keys``, a
procrastinate periodic task every hour on whichever worker takes it, creates the first signing
key when there is none and schedules a successor once the signing key is ``keys.ROTATE_AFTER``
old (published ``keys.PUBLISH_LEAD`` before it signs; see ``keys``)."""

from __future__ import annotations

from typing import Any

import procrastinate

from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

QUEUE = "tokens"
CRON = "17 * * * *"
RETRY = JitteredBackoff(max_attempts=3, base_seconds=5, max_seconds=60)


async def rotate_keys(timestamp: int, **_: Any) -> None:
    from sprintconnect import audit
    from sprintconnect.identity.principal import Actor
    from sprintconnect.identity.tokens.keys import rotate_if_due

    runtime = context.current().runtime
    async with runtime.db.sessionmaker() as session, session.begin():
        successor = await rotate_if_due(session, runtime.keyring, runtime.clock.now())
        if successor is not None:
            await audit.record_platform(
                session,
                audit.AuditTag.TOKEN_KEY_ROTATED,
                actor=Actor("system"),
                details={"kid": successor.kid, "activates_at": successor.activates_at.isoformat()},
            )


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app (see ``discovery.tasks.build_blueprint``)."""
    blueprint = procrastinate.Blueprint()
    task = blueprint.task(
        name="tokens.rotate_keys", queue=QUEUE, queueing_lock="tokens.rotate_keys", retry=RETRY
    )(rotate_keys)
    blueprint.periodic(cron=CRON, periodic_id="token-keys")(task)
    return blueprint
