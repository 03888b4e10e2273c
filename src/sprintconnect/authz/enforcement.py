"""Carrying out the obligations of a request's decisions (vocabulary: ``authz.obligations``).

Decisions are taken at several points of one request (the route's collection decision, one
per object, one batch per list), so what they oblige is gathered per request:

- redactions are kept per object (and per view, for collection decisions) until the answer is
  built, then applied by ``obligations.redact`` through ``redactions_for``;
- a throttle class counts the request once, however many decisions name it;
- ``audit:full`` writes one audit entry per request, in the request's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.decision import Decision, Resource
from sprintconnect.authz.obligations import (
    COLLECTION_VIEWS,
    NONE,
    REDACTABLE,
    ObligationNotUnderstood,
    Obligations,
)
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.ratelimit import RateLimiter
from sprintconnect.kit.context import RequestMeta, current_request
from sprintconnect.kit.scrub import scrub_body, scrub_query


@dataclass
class RequestDuties:
    """What the decisions of one request obliged so far."""

    meta: RequestMeta
    request: Request | None = None
    by_object: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    by_view: dict[str, set[str]] = field(default_factory=dict)
    throttled: set[str] = field(default_factory=set)
    audited: bool = False

    def note(self, resource: Resource, duties: Obligations) -> None:
        if not duties.redact:
            return
        if resource.type == "Resource":
            for view in COLLECTION_VIEWS.get(collection_kind(resource) or "", ()):
                self.by_view.setdefault(view, set()).update(duties.redact & REDACTABLE[view])
        else:
            self.by_object.setdefault((resource.type, resource.id), set()).update(duties.redact)

    def redactions_for(self, view: str, object_id: str) -> frozenset[str]:
        return frozenset(
            self.by_view.get(view, set()) | self.by_object.get((view, object_id), set())
        )


_current: ContextVar[RequestDuties | None] = ContextVar("sprintconnect_duties", default=None)


def collection_kind(resource: Resource) -> str | None:
    kind = resource.attrs.get("kind")
    return kind if isinstance(kind, str) else resource.id


async def begin(request: Request) -> None:
    """App-wide dependency: a fresh record of duties for each request, in the request's task."""
    _current.set(RequestDuties(current_request(), request))


def current() -> RequestDuties:
    """This request's duties. Outside a request, an empty record that is not kept."""
    meta = current_request()
    duties = _current.get()
    if duties is not None and duties.meta is meta:
        return duties
    duties = RequestDuties(meta)
    if meta.request_id is not None:
        _current.set(duties)
    return duties


def redactions_for(view: str, object_id: object) -> frozenset[str]:
    """The paths to redact from this request's view of one object."""
    return current().redactions_for(view, str(object_id))


async def enforce(
    session: AsyncSession,
    principal: Principal,
    action: str,
    decided: Sequence[tuple[Resource, Decision]],
    *,
    throttles: Mapping[str, RateLimiter],
) -> Obligations:
    """Note what each decision obliges and carry out the per-request part now.

    A decision whose obligations are not understood denies the whole request (403 with its
    decision id), also in a list: hiding the item would hide the broken policy too.
    Returns the per-request part, for callers that keep answers (the search cache).
    """
    broken = next((d for _, d in decided if d.unenforceable is not None), None)
    if broken is not None:
        raise ObligationNotUnderstood(broken.decision_id, action, str(broken.unenforceable))
    duties = current()
    combined = NONE
    first_id: str | None = None
    for resource, decision in decided:
        if not decision.allowed or decision.duties == NONE:
            continue
        duties.note(resource, decision.duties)
        combined |= decision.duties
        first_id = first_id or decision.decision_id
    await carry_out(session, principal, action, combined, throttles=throttles, decision_id=first_id)
    return Obligations(throttle=combined.throttle, audit_full=combined.audit_full)


async def carry_out(
    session: AsyncSession,
    principal: Principal,
    action: str,
    obliged: Obligations,
    *,
    throttles: Mapping[str, RateLimiter],
    decision_id: str | None = None,
) -> None:
    """Throttle classes and ``audit:full``, each at most once per request."""
    duties = current()
    identity = str(principal.api_key_id or principal.user_id or principal.org_id)
    for name in sorted(obliged.throttle - duties.throttled):
        duties.throttled.add(name)
        limiter = throttles.get(name)
        if limiter is None:  # the classes changed since a cached decision: fail closed
            raise ObligationNotUnderstood(
                decision_id or uuid.uuid4().hex, action, f"no throttle class {name!r}"
            )
        await limiter.hit(name, identity)
    if obliged.audit_full and not duties.audited:
        duties.audited = True
        await _audit_request(session, principal, action, duties, decision_id)


async def _audit_request(
    session: AsyncSession,
    principal: Principal,
    action: str,
    duties: RequestDuties,
    decision_id: str | None,
) -> None:
    request = duties.request
    details: dict[str, object] = {"action": action, "decision_id": decision_id}
    if request is not None:
        details.update(
            method=request.method,
            path=request.url.path,
            query=scrub_query(request.url.query),
            body=scrub_body(await request.body()),
        )
    await audit.record(
        session,
        audit.AuditTag.REQUEST_AUDITED,
        org_id=principal.org_id,
        actor=principal.actor,
        target=audit.Target("request", duties.meta.request_id),
        details=details,
    )
