"""Recording audit events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.audit.redaction import masker_for, masker_with
from sprintconnect.audit.repository import AuditRepository
from sprintconnect.audit.tags import AuditTag
from sprintconnect.identity.principal import Actor
from sprintconnect.kit.context import current_request

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Target:
    type: str
    id: str | UUID | None = None


def _columns(
    tag: AuditTag, actor: Actor, target: Target | None, details: dict[str, Any] | None
) -> dict[str, Any]:
    """An entry's columns, the request's id, address and user agent included."""
    meta = current_request()
    return {
        "tag": str(tag),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_user_id": actor.user_id,
        "actor_super_admin": actor.super_admin,
        "target_type": target.type if target else None,
        "target_id": str(target.id) if target and target.id is not None else None,
        "details": details or {},
        "request_id": meta.request_id,
        "ip": meta.ip,
        "user_agent": meta.user_agent[:512] if meta.user_agent else None,
    }


async def record(
    session: AsyncSession,
    tag: AuditTag,
    *,
    org_id: UUID,
    actor: Actor,
    target: Target | None = None,
    details: dict[str, Any] | None = None,
    sensitive_fields: list[str] | None = None,
) -> None:
    """Append an audit event to the caller's transaction; it commits or rolls back with it.

    The organization's sensitive fields (``audit.redaction``) are masked in ``details``
    before the row exists: what is stored (and proven by the ledger) never held them. A
    caller that holds the organization may pass its ``sensitive_fields`` (not read again).
    """
    masker = (
        masker_with(session, org_id, sensitive_fields)
        if sensitive_fields is not None
        else await masker_for(session, org_id)
    )
    if masker and details:
        details = masker.mask(details)
    # One INSERT, executed at once (pending ORM changes are flushed before it, in order): no
    # object to track and nothing read back, which a unit-of-work flush would do.
    await AuditRepository(session).add({"org_id": org_id, **_columns(tag, actor, target, details)})
    log.info("audit.recorded", tag=str(tag), org_id=str(org_id), actor_type=actor.type)
    # The change as a webhook event: deliveries, in this transaction, to endpoints wanting it.
    from sprintconnect.webhook.events import publish_audit  # imports audit: import here

    await publish_audit(
        session,
        str(tag),
        org_id=org_id,
        actor=actor,
        target_type=target.type if target else None,
        target_id=str(target.id) if target and target.id is not None else None,
        details=details,
    )


async def record_platform(
    session: AsyncSession,
    tag: AuditTag,
    *,
    actor: Actor,
    target: Target | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an entry to the platform's own log (``platform_audit_events``), in the caller's
    transaction: for what platform operators do to the platform rather than to one tenant."""
    await AuditRepository(session).add_platform(_columns(tag, actor, target, details))
    log.info("audit.recorded", tag=str(tag), platform=True, actor_type=actor.type)
