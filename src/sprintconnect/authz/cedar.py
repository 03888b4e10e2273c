"""The embedded policy decision point: Cedar through ``cedarpy``, failing closed."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

import cedarpy

from sprintconnect.authz.cedar_schema import BASE_ID_PREFIX, BASE_POLICIES, SCHEMA
from sprintconnect.authz.decision import Decision, DecisionRequest

MAX_POLICY_BYTES = 64 * 1024
MAX_POLICIES = 200
_CACHE_SIZE = 256


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
        parsed: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise PolicyInvalid([f"syntax: {exc}"]) from exc
    return parsed


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
    """Validate an organization's policy text; raise ``PolicyInvalid`` listing every problem."""
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise PolicyInvalid([f"policy text exceeds {MAX_POLICY_BYTES} bytes"])
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
    return keyed


def compile_policies(org_text: str) -> CompiledPolicies:
    """Base policies plus an organization's, parsed into one reusable policy set."""
    static = _keyed(_est(BASE_POLICIES), default_prefix=BASE_ID_PREFIX)
    if org_text.strip():
        static.update(check_org_policies(org_text))
    policy_set = cedarpy.PolicySet.from_json_str(
        json.dumps({"staticPolicies": static, "templates": {}, "templateLinks": []})
    )
    return CompiledPolicies(
        policy_set=policy_set,
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

    def compiled(self, org_text: str) -> CompiledPolicies:
        """Parse each distinct policy text once (versions are immutable, so text is the key)."""
        key = sha256(org_text.encode()).hexdigest()
        hit = self._compiled.get(key)
        if hit is not None:
            self._compiled.move_to_end(key)
            return hit
        compiled = compile_policies(org_text)
        self._compiled[key] = compiled
        if len(self._compiled) > _CACHE_SIZE:
            self._compiled.popitem(last=False)
        return compiled

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        return (await self.decide_many([request], org_policies))[0]

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        compiled = self.compiled(org_policies)
        decisions: list[Decision | None] = [None] * len(requests)
        for batch, entities in _batches(requests):
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


def _batches(
    requests: list[DecisionRequest],
) -> list[tuple[list[int], dict[EntityKey, dict[str, Any]]]]:
    """Group requests whose entities agree, so one uid never stands for two different things."""
    batches: list[tuple[list[int], dict[EntityKey, dict[str, Any]]]] = []
    for index, request in enumerate(requests):
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
