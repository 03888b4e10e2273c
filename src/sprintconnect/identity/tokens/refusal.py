"""Refusing an access token: logged, audited in the organization it names (a few per subject
and minute at most), and throttled per client address (429 past the limit, as for API keys)."""

from __future__ import annotations

from uuid import UUID

import structlog
from fastapi import Request

from sprintconnect import audit
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import AuthenticationRequired, SprintConnectError
from sprintconnect.identity.principal import Actor
from sprintconnect.identity.ratelimit import Use, first_spent
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)


async def refused(
    request: Request,
    runtime: Runtime,
    error: AuthenticationRequired,
    *,
    org_id: UUID | None,
    subject: str | None,
    issuer: str | None,
) -> SprintConnectError:
    """Log a refusal; audit it in its organization (own transaction), rate-bounded.

    The error to raise: ``error``, or 429 once the client's address has failed too often.
    """
    reason = getattr(error, "reason", None) or error.slug
    log.warning(
        "auth.token.refused",
        reason=reason,
        org_id=str(org_id or ""),
        issuer=(issuer or "")[:200],
    )
    state = request.app.state
    limiter = getattr(state, "auth_failure_limiter", None)
    address = request.client.host if request.client is not None else None
    # Counts this failure; past the limit the address gets 429 from now on.
    if limiter is not None and address and not await limiter.allows("address", address):
        log.warning("auth.throttled", by=["address"])
        refusal: SprintConnectError = await limiter.refusal("address", address)
        return refusal
    if org_id is None:
        return error
    audit_limiter = getattr(state, "failure_audit_limiter", None)
    if audit_limiter is not None and not await audit_limiter.allows(f"token:{org_id}:{subject}"):
        return error
    try:
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            await audit.record(
                session,
                audit.AuditTag.TOKEN_AUTH_FAILED,
                org_id=org_id,
                actor=Actor("anonymous"),
                target=audit.Target("user", subject) if subject else None,
                details={"reason": reason},
            )
    except Exception as exc:  # an org that does not exist (forged claim): the log has it
        log.warning("auth.token.refusal_not_audited", error=type(exc).__name__)
    return error


async def throttle_failures(request: Request) -> None:
    """429 once the client's address has failed too often (as for API keys)."""
    limiter = getattr(request.app.state, "auth_failure_limiter", None)
    if limiter is None or request.client is None or not request.client.host:
        return
    checks: list[Use] = [(limiter, ("address", request.client.host))]
    spent = await first_spent(checks, [])
    if spent is not None:
        (spent_limiter, identity), _ = spent
        raise await spent_limiter.refusal(*identity)
