"""``?wait=true``: answer a discovery request once the discovery has finished, within a bound.

The request's own transaction (the discovery and its outbox event) commits first, so the
discovery is durable and a worker can take it whatever happens to this request; the request
then holds no database connection while it waits, except for the short read of each check.
The worker is woken by NOTIFY, so the wait is mostly the discovery itself. The check reads the
discovery's row every 20 ms for the first second (most discoveries finish within it, and a
finished one is then answered within 20 ms rather than within a growing pause), then backs off
by half again per read to one read every 250 ms.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.session import release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.repository import ACTIVE, DiscoveryRepository

DEFAULT_WAIT_SECONDS = 30.0
MAX_WAIT_SECONDS = 120.0
_FIRST_PAUSE = 0.02
_STEADY_SECONDS = 1.0  # reads every _FIRST_PAUSE this long before backing off
_LONGEST_PAUSE = 0.25

WaitParam = Annotated[
    bool,
    Query(
        description="Answer when the discovery has finished (or `wait_timeout` runs out) "
        "instead of at once."
    ),
]
WaitTimeoutParam = Annotated[
    float,
    Query(
        gt=0,
        le=MAX_WAIT_SECONDS,
        description="With `wait=true`: the longest wait in seconds; when it runs out the "
        "answer is `202` with the discovery still queued or running.",
    ),
]


async def until_finished(
    session: AsyncSession, org_id: UUID, discovery_id: UUID, seconds: float
) -> bool:
    """Commit the request's work, then wait until the discovery has finished: True if it has.

    On return the session is in a new transaction bound to ``org_id`` again, so the caller can
    read the discovery (and anything else of the tenant's) as it is now.
    """
    await release_connection(session)
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds
    pause = _FIRST_PAUSE
    discoveries = DiscoveryRepository(session)
    while True:
        await bind_tenant(session, org_id)
        found = await discoveries.get(org_id, discovery_id)
        if found is None or found.status not in ACTIVE:
            return True
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        session.expire(found)  # the next read shows the row as it is then, not as now
        await release_connection(session)  # no connection held while sleeping
        await asyncio.sleep(min(pause, remaining))
        if loop.time() - started >= _STEADY_SECONDS:
            pause = min(pause * 1.5, _LONGEST_PAUSE)
