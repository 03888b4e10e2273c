"""The obligation vocabulary: what an ``@obligation("...")`` item may say, and redaction.

A permit's ``@obligation("a,b")`` items ride on the decisions it allows. Each item is one of:

- ``redact:<field path>``: the field is left out of the answer (``null``, and named in the
  answer's ``redacted`` list). Paths are fields of the resource's view (``REDACTABLE``);
  a decision on a whole collection redacts every item of the answer. A decision on a
  ``Capability`` may also redact ``result.<key path>``: that key of what a call of the tool
  returns (``gateway.redaction``).
- ``throttle:<class>``: the request also counts against the named rate-limit class
  (``SPRINTCONNECT_THROTTLE_CLASSES``), once per request.
- ``audit:full``: the request (method, path, query, body without secrets) is written to the
  audit log, once per request.

Anything else, including a path the resource's view lacks or an unknown class, is not
understood, and a decision with an obligation that is not understood is a deny.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from sprintconnect.errors import PermissionDenied, RateLimited, SprintConnectError

# The fields each view may lose, by Cedar entity type. Keep in step with the views' schemas:
# every field named here is nullable there.
REDACTABLE: dict[str, frozenset[str]] = {
    "Server": frozenset(
        {
            "url",
            "description",
            "tags",
            "auth",
            "auth.header_name",
            "auth.token_url",
            "auth.client_id",
            "auth.scopes",
            "auth.audience",
            "auth.certificate",
            "created_by_user_id",
        }
    ),
    "Capability": frozenset({"title", "description", "definition"}),
}
# What a call of a tool returns: ``result.`` and a dotted path of keys.
RESULT_PATH = re.compile(r"result(\.[A-Za-z0-9_-]{1,64}){1,8}")
# Collections (``Resource::"<kind>"``) whose answers show these views and redact them. A
# redaction on any other collection is not understood: nothing there would carry it out.
COLLECTION_VIEWS: dict[str, tuple[str, ...]] = {
    "servers": ("Server",),
    "discovery": ("Server", "Capability"),
}


@dataclass(frozen=True)
class Redact:
    path: str


@dataclass(frozen=True)
class Throttle:
    name: str


@dataclass(frozen=True)
class AuditFull:
    pass


Obligation = Redact | Throttle | AuditFull


@dataclass(frozen=True)
class Obligations:
    """What one decision (or a whole request) obliges, parsed."""

    redact: frozenset[str] = frozenset()
    throttle: frozenset[str] = frozenset()
    audit_full: bool = False

    def __or__(self, other: Obligations) -> Obligations:
        return Obligations(
            self.redact | other.redact,
            self.throttle | other.throttle,
            self.audit_full or other.audit_full,
        )

    def per_request(self) -> dict[str, Any]:
        """The part that applies to the request as a whole, as JSON (kept with cached answers)."""
        return {"throttle": sorted(self.throttle), "audit_full": self.audit_full}

    @classmethod
    def from_request_part(cls, data: Any) -> Obligations:
        if not isinstance(data, dict):
            return NONE
        throttle = data.get("throttle") or []
        return cls(
            throttle=frozenset(str(t) for t in throttle), audit_full=data.get("audit_full") is True
        )


NONE = Obligations()


class NotUnderstood(ValueError):
    """An obligation item this server cannot carry out."""

    def __init__(self, item: str, why: str) -> None:
        super().__init__(f"obligation not understood: {item!r} ({why})")
        self.item = item


def redactable(resource_type: str, kind: str | None) -> frozenset[str]:
    """The paths a decision on this resource may redact."""
    if resource_type == "Resource":
        views = COLLECTION_VIEWS.get(kind or "", ())
        return frozenset().union(*(REDACTABLE[v] for v in views))
    return REDACTABLE.get(resource_type, frozenset())


def parse(
    item: str, *, resource_type: str, kind: str | None, throttle_classes: Collection[str]
) -> Obligation:
    """One obligation item as a typed value; ``NotUnderstood`` when it is not one."""
    name, colon, argument = item.partition(":")
    if name == "redact" and colon:
        if argument in redactable(resource_type, kind) or (
            resource_type == "Capability" and RESULT_PATH.fullmatch(argument)
        ):
            return Redact(argument)
        target = f"Resource::{kind!r}" if resource_type == "Resource" else resource_type
        raise NotUnderstood(item, f"{argument!r} is not a field that can be redacted on {target}")
    if name == "throttle" and colon:
        if argument in throttle_classes:
            return Throttle(argument)
        raise NotUnderstood(item, f"no throttle class {argument!r} is configured")
    if item == "audit:full":
        return AuditFull()
    raise NotUnderstood(item, "unknown obligation; use redact:, throttle: or audit:full")


def interpret(
    items: Iterable[str], *, resource_type: str, kind: str | None, throttle_classes: Collection[str]
) -> Obligations:
    """Every item of a decision, parsed; ``NotUnderstood`` on the first that is not."""
    redact: set[str] = set()
    throttle: set[str] = set()
    audit_full = False
    for item in items:
        parsed = parse(
            item, resource_type=resource_type, kind=kind, throttle_classes=throttle_classes
        )
        if isinstance(parsed, Redact):
            redact.add(parsed.path)
        elif isinstance(parsed, Throttle):
            throttle.add(parsed.name)
        else:
            audit_full = True
    return Obligations(frozenset(redact), frozenset(throttle), audit_full)


M = TypeVar("M", bound=BaseModel)


def redact(model: M, paths: Iterable[str]) -> M:
    """The view with each path set to ``null`` and named in its ``redacted`` list.

    Every endpoint redacts through this one function, after it has built its answer.
    """
    wanted = sorted(set(paths))
    if not wanted:
        return model
    data = model.model_dump()
    for path in wanted:
        *parents, leaf = path.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[leaf] = None
    data["redacted"] = sorted(set(data.get("redacted") or []) | set(wanted))
    return type(model).model_validate(data)


class ObligationNotUnderstood(PermissionDenied):
    slug = "obligation-not-understood"
    title = "A policy obligation cannot be carried out"

    def __init__(self, decision_id: str, action: str, problem: str) -> None:
        super().__init__(
            f"The policy allowed '{action}' with an obligation this server does not "
            f"understand, so the request is denied: {problem}.",
            decision_id=decision_id,
            action=action,
        )


class ThrottledByPolicy(RateLimited):
    slug = "throttled-by-policy"
    title = "A policy's throttle class is spent"

    def __init__(self, retry_after: int, limit: str) -> None:
        SprintConnectError.__init__(
            self,
            f"A policy puts this request in a throttle class of {limit} per key; "
            f"retry in {retry_after}s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
