"""One way to ask for a decision: logged, measured, and closed on any failure."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import OrderedDict
from collections.abc import Mapping
from uuid import UUID

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.authz import enforcement, obligations
from sprintconnect.authz.cedar import CedarPDP
from sprintconnect.authz.decision import (
    Decision,
    DecisionRequest,
    PolicyDecisionPoint,
    PolicyDenied,
    Resource,
    Subject,
)
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.errors import NotFound
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.ratelimit import RateLimiter

log = structlog.get_logger("sprintconnect.authz")

DECISIONS = Counter("sprintconnect_authz_decisions_total", "Policy decisions by result", ["result"])
DECISION_SECONDS = Histogram(
    "sprintconnect_authz_decision_seconds",
    "Time to reach a policy decision",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05),
)
_TEXT_CACHE_SIZE = 1024
SELF_REPAIR_ACTIONS = frozenset({"policies:read", "policies:write"})


class Authorizer:
    """Wraps a PDP so that an exception, a timeout or a malformed answer is a logged deny."""

    def __init__(
        self,
        pdp: PolicyDecisionPoint,
        *,
        timeout_seconds: float = 1.0,
        throttles: Mapping[str, RateLimiter] | None = None,
    ) -> None:
        self.pdp = pdp
        self.timeout = timeout_seconds
        # The throttle classes obligations may name (``throttle:<class>``), by name.
        self.throttles: Mapping[str, RateLimiter] = dict(throttles or {})
        # With Cedar and no organization policies, the base rules are role rules that callers
        # can apply in SQL; an external PDP must be asked every time.
        self.role_rules_suffice = isinstance(pdp, CedarPDP)
        self._texts: OrderedDict[tuple[UUID, int], str] = OrderedDict()

    async def policy_text(self, session: AsyncSession, org_id: UUID, version: int) -> str:
        """An organization's policy text; versions never change, so each is read once."""
        key = (org_id, version)
        cached = self._texts.get(key)
        if cached is None:
            cached = await AccessRepository(session).policy_text(org_id, version)
            self._texts[key] = cached
            if len(self._texts) > _TEXT_CACHE_SIZE:
                self._texts.popitem(last=False)
        return cached

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        if not requests:
            return []
        started = time.perf_counter()
        # Role-based access is a gate before any PDP: a policy (or an OPA server) that allows
        # too much can narrow what roles grant, never widen it.
        gated = [r for r in requests if r.action in r.subject.permissions]
        try:
            answers = (
                await asyncio.wait_for(self.pdp.decide_many(gated, org_policies), self.timeout)
                if gated
                else []
            )
            if len(answers) != len(gated) or not all(isinstance(d, Decision) for d in answers):
                raise TypeError("the PDP answered a different number of decisions")
        except Exception as exc:  # fail closed: whatever went wrong, the answer is no
            reason = "pdp_timeout" if isinstance(exc, TimeoutError) else "pdp_error"
            answers = [
                Decision(allowed=False, errors=(f"{reason}: {type(exc).__name__}",), failed=True)
                for _ in gated
            ]
        by_request = dict(zip(map(id, gated), answers, strict=True))
        decisions = [
            self._with_duties(r, by_request.get(id(r)) or Decision.deny(reasons=("base:rbac",)))
            for r in requests
        ]
        elapsed = time.perf_counter() - started
        DECISION_SECONDS.observe(elapsed / len(requests))
        for request, decision in zip(requests, decisions, strict=True):
            self._log(request, decision, elapsed / len(requests))
        return decisions

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        return (await self.decide_many([request], org_policies))[0]

    def _with_duties(self, request: DecisionRequest, decision: Decision) -> Decision:
        """An allow with its obligations parsed; one this server cannot carry out denies."""
        if not decision.allowed or not decision.obligations:
            return decision
        try:
            duties = obligations.interpret(
                decision.obligations,
                resource_type=request.resource.type,
                kind=enforcement.collection_kind(request.resource),
                throttle_classes=self.throttles.keys(),
            )
        except obligations.NotUnderstood as exc:
            return dataclasses.replace(
                decision, allowed=False, errors=(*decision.errors, str(exc)), unenforceable=str(exc)
            )
        return dataclasses.replace(decision, duties=duties)

    @staticmethod
    def _log(request: DecisionRequest, decision: Decision, seconds: float) -> None:
        result = "allow" if decision.allowed else "deny"
        DECISIONS.labels(result=result).inc()
        # The decision log (story 8.2): what was decided, under which policy version, for
        # which input (its SHA-256, ``DecisionRequest.input_hash``); a 403 names the same id.
        log.info(
            "authz.decision",
            decision_id=decision.decision_id,
            result=result,
            org_id=request.org_id,
            subject_kind=request.subject.kind,
            action=request.action,
            resource_type=request.resource.type,
            resource_id=request.resource.id[:64],
            policy_version=request.policy_version,
            input_hash=request.input_hash(),
            failed=decision.failed,
            reasons=list(decision.reasons),
            errors=[e[:200] for e in decision.errors],
            latency_us=round(seconds * 1_000_000, 1),
        )


def subject_of(principal: Principal) -> Subject:
    subject_id = str(principal.user_id or principal.api_key_id or "anonymous")
    return Subject(
        id=subject_id,
        permissions=principal.permissions,
        roles=principal.roles,
        kind="user" if principal.user_id else "service",
    )


def request_for(principal: Principal, action: str, resource: Resource) -> DecisionRequest:
    return DecisionRequest(
        org_id=str(principal.org_id),
        policy_version=principal.policy_version,
        subject=subject_of(principal),
        action=action,
        resource=resource,
        context=dict(principal.time_context),
    )


async def authorize(
    authorizer: Authorizer,
    session: AsyncSession,
    principal: Principal,
    action: str,
    resource: Resource,
    *,
    hidden: NotFound | None = None,
    read_action: str | None = None,
) -> Decision:
    """Ask the PDP once; raise ``PolicyDenied`` (403 with the decision id) on a deny, and
    carry out the obligations of an allow (``authz.enforcement``).

    For a decision on one existing object, pass ``hidden``: the error the caller gets for an
    id that does not exist. A deny then raises ``hidden`` (404) unless the caller may read the
    object (``read_action``, by default ``<kind>:read``): who may not see an object must not
    learn from a 403 that it exists. 403 remains for what the caller can see but not do.

    Managing policies is governed by roles and base rules only, so that no organization
    policy can lock its admins out of repairing it.
    """
    text = await _policy_text(authorizer, session, principal, action)
    decision = await authorizer.decide(request_for(principal, action, resource), text)
    if decision.unenforceable is not None:
        # The policy let the caller do this, so saying why reveals nothing it could not see.
        raise obligations.ObligationNotUnderstood(
            decision.decision_id, action, decision.unenforceable
        )
    if not decision.allowed:
        if hidden is not None:
            read = read_action or f"{action.partition(':')[0]}:read"
            if read == action or not await _allows(authorizer, session, principal, read, resource):
                raise hidden
        missing = action not in principal.permissions
        hint = (
            f"'{action}' requires the permission '{action}', which your roles and key scopes "
            "do not grant."
            if missing
            else None
        )
        raise PolicyDenied(decision, action=action, hint=hint)
    await enforcement.enforce(
        session, principal, action, [(resource, decision)], throttles=authorizer.throttles
    )
    return decision


async def _policy_text(
    authorizer: Authorizer, session: AsyncSession, principal: Principal, action: str
) -> str:
    if action in SELF_REPAIR_ACTIONS:
        return ""
    return await authorizer.policy_text(session, principal.org_id, principal.policy_version)


async def _allows(
    authorizer: Authorizer,
    session: AsyncSession,
    principal: Principal,
    action: str,
    resource: Resource,
) -> bool:
    text = await _policy_text(authorizer, session, principal, action)
    return (await authorizer.decide(request_for(principal, action, resource), text)).allowed


def hide_unless_readable(principal: Principal, read_permission: str, hidden: NotFound) -> None:
    """Raise ``hidden`` (404) when the caller may not read a kind of object at all.

    For refusals decided in code rather than by the PDP (such as the grant limit on roles):
    call it before raising the 403, so that only callers who can see the object learn that
    it exists.
    """
    if read_permission not in principal.permissions:
        raise hidden


def collection(kind: str) -> Resource:
    """The resource for an operation on a whole kind of thing (e.g. listing API keys)."""
    return Resource(type="Resource", id=kind, attrs={"kind": kind})
