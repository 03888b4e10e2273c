"""The embedded policy decision point: Cedar through ``cedarpy``, failing closed.

Cedar's parser is native code that recurses per level of nesting: untrusted text is first
bounded by ``cedar_limits.shape_problems`` and then parsed, validated and compiled only on
``PARSER``, a thread with a large stack (see ``cedar_limits`` for the measured thresholds).
Decisions on an already compiled policy set stay on the caller's thread: Cedar's evaluator
bounds its own recursion, and entity attributes are bounded here (``MAX_ATTR_DEPTH``).
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import cedarpy

from sprintconnect.authz.cedar_limits import MAX_POLICY_BYTES, shape_problems
from sprintconnect.authz.cedar_schema import BASE_ID_PREFIX, BASE_POLICIES, SCHEMA
from sprintconnect.authz.decision import Decision, DecisionRequest
from sprintconnect.kit.native import BigStackWorker

__all__ = ["MAX_POLICY_BYTES", "PARSER", "CedarPDP", "PolicyInvalid", "check_org_policies"]

MAX_POLICIES = 200
# Resource attributes and context may nest this deep (dry-run takes them from the client);
# the schema's own attributes nest two levels (a set of strings).
MAX_ATTR_DEPTH = 16
_CACHE_SIZE = 256
_TOO_DEEP = (
    "an expression is nested too deeply for the policy engine "
    "(split long chains of && or || into several policies, or use a set and .contains)"
)

# Every parse, validation and compile of policy text runs here, never on the event loop.
PARSER = BigStackWorker("cedar-parser")


class PolicyInvalid(ValueError):
    """Organization policy text that cannot be accepted; ``problems`` says why, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CompiledPolicies:
    policy_set: Any
    annotations: dict[str, dict[str, str]]
    effects: dict[str, str]


def _est(text: str) -> dict[str, Any]:
    try:
        est = cedarpy.policies_to_json_str(text)
    except ValueError as exc:
        raise PolicyInvalid([f"syntax: {exc}"]) from exc
    try:
        parsed: dict[str, Any] = json.loads(est)
    except RecursionError as exc:
        raise PolicyInvalid([_TOO_DEEP]) from exc
    return parsed


def _policy_set(static: dict[str, dict[str, Any]]) -> Any:
    document = {"staticPolicies": static, "templates": {}, "templateLinks": []}
    try:
        return cedarpy.PolicySet.from_json_str(json.dumps(document))
    except (ValueError, RecursionError) as exc:
        # The engine reads the JSON form with a nesting limit (128 levels) of its own.
        raise PolicyInvalid([_TOO_DEEP]) from exc


def _keyed(est: dict[str, Any], *, default_prefix: str) -> dict[str, dict[str, Any]]:
    """Key each policy by its ``@id`` annotation (or a positional id) so reasons read well."""
    keyed: dict[str, dict[str, Any]] = {}
    for position, policy in est.get("staticPolicies", {}).items():
        annotations = policy.get("annotations") or {}
        policy_id = annotations.get("id") or f"{default_prefix}{position}"
        if policy_id in keyed:
            raise PolicyInvalid([f"duplicate @id {policy_id!r}"])
        keyed[policy_id] = policy
    return keyed


def check_org_policies(text: str) -> dict[str, dict[str, Any]]:
    """Validate an organization's policy text; raise ``PolicyInvalid`` listing every problem.

    Parses with native code: call it on ``PARSER`` (``check_org_policies_safely``).
    """
    if shape := shape_problems(text):
        raise PolicyInvalid(shape)
    est = _est(text)
    if est.get("templates") or est.get("templateLinks"):
        raise PolicyInvalid(["templates are not supported; write static policies"])
    keyed = _keyed(est, default_prefix="org:")
    if len(keyed) > MAX_POLICIES:
        raise PolicyInvalid([f"at most {MAX_POLICIES} policies per organization"])
    problems = [
        f"@id {pid!r} uses the reserved prefix '{BASE_ID_PREFIX}'"
        for pid in keyed
        if pid.startswith(BASE_ID_PREFIX)
    ]
    if text.strip():
        result = cedarpy.validate_policies(text, SCHEMA)
        problems += [f"schema: {error.error}" for error in result.errors]
    if problems:
        raise PolicyInvalid(problems)
    if keyed:
        _policy_set(keyed)  # what passes here must also load, or every decision would deny
    return keyed


async def check_org_policies_safely(text: str) -> dict[str, dict[str, Any]]:
    """``check_org_policies`` on the large-stack parser thread."""
    return await PARSER.run(check_org_policies, text)


def compile_policies(org_text: str) -> CompiledPolicies:
    """Base policies plus an organization's, parsed into one reusable policy set."""
    static = _keyed(_est(BASE_POLICIES), default_prefix=BASE_ID_PREFIX)
    if org_text.strip():
        static.update(check_org_policies(org_text))
    return CompiledPolicies(
        policy_set=_policy_set(static),
        annotations={
            pid: {k: v or "" for k, v in (p.get("annotations") or {}).items()}
            for pid, p in static.items()
        },
        effects={pid: str(p.get("effect")) for pid, p in static.items()},
    )


class CedarPDP:
    """Decides with Cedar. Anything but a clean Allow with no evaluation error is a deny."""

    def __init__(self) -> None:
        self._schema = cedarpy.Schema.from_str(SCHEMA)
        self._compiled: OrderedDict[str, CompiledPolicies] = OrderedDict()
        self._compiling: dict[str, asyncio.Future[CompiledPolicies]] = {}

    async def compiled(self, org_text: str) -> CompiledPolicies:
        """Parse each distinct policy text once (versions are immutable, so text is the key).

        A new text compiles on ``PARSER``; concurrent callers share one compile, and a caller
        that gives up waiting (the authorizer's timeout) does not cancel it for the others.
        """
        key = sha256(org_text.encode()).hexdigest()
        hit = self._compiled.get(key)
        if hit is not None:
            self._compiled.move_to_end(key)
            return hit
        pending = self._compiling.get(key)
        if pending is None:
            pending = asyncio.ensure_future(PARSER.run(compile_policies, org_text))
            self._compiling[key] = pending
            pending.add_done_callback(lambda done: self._settle(key, done))
        return await asyncio.shield(pending)

    def _settle(self, key: str, done: asyncio.Future[CompiledPolicies]) -> None:
        self._compiling.pop(key, None)
        if done.cancelled() or done.exception() is not None:
            return
        self._compiled[key] = done.result()
        if len(self._compiled) > _CACHE_SIZE:
            self._compiled.popitem(last=False)

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        return (await self.decide_many([request], org_policies))[0]

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        compiled = await self.compiled(org_policies)
        decisions: list[Decision | None] = [None] * len(requests)
        for index, request in enumerate(requests):
            if _deeper_than(request.resource.attrs, MAX_ATTR_DEPTH) or _deeper_than(
                request.context, MAX_ATTR_DEPTH
            ):
                decisions[index] = Decision.deny(
                    f"resource attributes or context nest deeper than {MAX_ATTR_DEPTH}"
                )
        evaluable = [r if decisions[i] is None else None for i, r in enumerate(requests)]
        for batch, entities in _batches(evaluable):
            results = cedarpy.is_authorized_batch(
                [_cedar_request(requests[i]) for i in batch],
                compiled.policy_set,
                list(entities.values()),
                self._schema,
            )
            for index, result in zip(batch, results, strict=True):
                decisions[index] = _interpret(result, compiled)
        return [d if d is not None else Decision.deny("not evaluated") for d in decisions]


EntityKey = tuple[str, str]


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether dicts and lists in ``value`` nest deeper than ``limit``; no recursion."""
    level: list[Any] = [value]  # the values ``depth`` containers down
    for _depth in range(limit):
        level = [
            item
            for node in level
            if isinstance(node, dict | list)
            for item in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, dict | list) for node in level)


def _batches(
    requests: list[DecisionRequest | None],
) -> list[tuple[list[int], dict[EntityKey, dict[str, Any]]]]:
    """Group requests whose entities agree, so one uid never stands for two different things.

    ``None`` stands for a request that is already decided and is left out.
    """
    batches: list[tuple[list[int], dict[EntityKey, dict[str, Any]]]] = []
    for index, request in enumerate(requests):
        if request is None:
            continue
        mine = {(e["uid"]["type"], e["uid"]["id"]): e for e in _entities(request)}
        for members, entities in batches:
            if all(entities.get(k, e) == e for k, e in mine.items()):
                members.append(index)
                entities.update(mine)
                break
        else:
            batches.append(([index], mine))
    return batches


def _entities(request: DecisionRequest) -> list[dict[str, Any]]:
    subject, resource = request.subject, request.resource
    return [
        {
            "uid": {"type": "User", "id": subject.id},
            "attrs": {"permissions": sorted(subject.permissions), "kind": subject.kind},
            "parents": [{"type": "Role", "id": role} for role in sorted(subject.roles)],
        },
        {"uid": {"type": resource.type, "id": resource.id}, "attrs": resource.attrs, "parents": []},
    ]


def _cedar_request(request: DecisionRequest) -> dict[str, Any]:
    return {
        "principal": {"type": "User", "id": request.subject.id},
        "action": {"type": "Action", "id": request.action},
        "resource": {"type": request.resource.type, "id": request.resource.id},
        "context": {"action": request.action, **request.context},
    }


def _interpret(result: Any, compiled: CompiledPolicies) -> Decision:
    reasons = tuple(sorted(result.diagnostics.reasons))
    errors = tuple(str(e) for e in result.diagnostics.errors)
    decision_name = getattr(result.decision, "name", str(result.decision))
    if decision_name != "Allow" or errors:
        # NoDecision (bad input), Deny, or an Allow reached while some policy failed to
        # evaluate (Cedar skips an erroring forbid): all deny.
        return Decision.deny(*errors, reasons=reasons)
    obligations = sorted(
        {
            item.strip()
            for pid in reasons
            for item in compiled.annotations.get(pid, {}).get("obligation", "").split(",")
            if item.strip()
        }
    )
    return Decision(allowed=True, reasons=reasons, obligations=tuple(obligations))
