"""Background jobs of the discovery domain."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import procrastinate

from sprintconnect.jobs import context
from sprintconnect.jobs.retry import JitteredBackoff

# Failures of the server itself are results (recorded on the discovery); these retries are
# for our side failing: the database going away, the process being killed.
RETRY = JitteredBackoff(max_attempts=5, base_seconds=2, max_seconds=300)


async def run(discovery_id: str, org_id: str, **_: Any) -> None:
    from sprintconnect.discovery.runner import run_discovery

    await run_discovery(context.current(), discovery_id=UUID(discovery_id), org_id=UUID(org_id))


def build_blueprint() -> procrastinate.Blueprint:
    """A fresh blueprint per app: procrastinate renames a blueprint's tasks when an app adds
    them under a namespace, so one shared blueprint would break the second app of a process."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="discovery.run", queue="discovery", retry=RETRY)(run)
    return blueprint
