"""What the policy decision point is asked, and what it answers."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from sprintconnect.authz.obligations import NONE, Obligations
from sprintconnect.errors import PermissionDenied


@dataclass(frozen=True)
class Subject:
    """Who asks: a user (possibly acting through an API key) or a service key."""

    id: str
    permissions: frozenset[str]
    roles: frozenset[str] = frozenset()
    kind: str = "user"  # "user" or "service"


@dataclass(frozen=True)
class Resource:
    """What is acted on: ``type`` is a Cedar entity type (Resource, Server, Capability)."""

    type: str
    id: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DecisionRequest:
    org_id: str
    policy_version: int
    subject: Subject
    action: str
    resource: Resource
    context: dict[str, Any] = field(default_factory=dict)

    def input_hash(self) -> str:
        """A stable digest of everything that went into the decision, for the decision log."""
        canonical = json.dumps(
            {
                "org": self.org_id,
                "version": self.policy_version,
                "subject": [
                    self.subject.id,
                    sorted(self.subject.permissions),
                    sorted(self.subject.roles),
                    self.subject.kind,
                ],
                "action": self.action,
                "resource": [self.resource.type, self.resource.id, self.resource.attrs],
                "context": self.context,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The PDP itself failed (raised, timed out, answered nonsense): not a policy's "no" but
    # no answer at all. Callers that filter lists must fail the whole request on this.
    failed: bool = False
    # ``obligations`` parsed by the authorizer (``authz.obligations``): what is enforced.
    duties: Obligations = NONE
    # Why an allow became a deny: an obligation that cannot be carried out (fail closed).
    unenforceable: str | None = None

    @classmethod
    def deny(cls, *errors: str, reasons: tuple[str, ...] = ()) -> Decision:
        return cls(allowed=False, reasons=reasons, errors=errors)


class PolicyDecisionPoint(Protocol):
    """Anything that decides: Cedar embedded, or an OPA server."""

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision: ...

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]: ...


class PolicyDenied(PermissionDenied):
    slug = "policy-denied"
    title = "Denied by policy"

    def __init__(self, decision: Decision, *, action: str, hint: str | None = None) -> None:
        super().__init__(
            hint or f"The policy decision point denied '{action}'.",
            decision_id=decision.decision_id,
            action=action,
            reasons=list(decision.reasons),
        )
