"""Shared by the audit reading tests: entries written as the application writes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime

EVENTS = "/api/v1/audit/events"


async def put(
    runtime: Runtime,
    org_id: uuid.UUID,
    tag: str,
    *,
    actor: tuple[str, str | None] = ("system", None),
    target: tuple[str, str | None] | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    request_id: str | None = None,
) -> uuid.UUID:
    """Append one entry as the application role (row-level security on); its id."""
    event_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": event_id,
        "org_id": org_id,
        "tag": tag,
        "actor_type": actor[0],
        "actor_id": actor[1],
        "target_type": target[0] if target else None,
        "target_id": target[1] if target else None,
        "details": details or {},
        "request_id": request_id,
    }
    if at is not None:
        values["occurred_at"] = at
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        session.add(AuditEvent(**values))
    return event_id
