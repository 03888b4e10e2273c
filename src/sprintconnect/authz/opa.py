"""An external Open Policy Agent server as the PDP; anything but a clear allow denies."""

from __future__ import annotations

from typing import Any

import httpx

from sprintconnect.authz.decision import Decision, DecisionRequest


class OpaPDP:
    """Asks ``POST {url}`` with ``{"input": ...}``; expects ``result`` true or
    ``{"allow": true, "obligations": [...], "reasons": [...]}``.

    The policy behind the URL should read ``default allow := false``; this client adds its own
    default: a missing, malformed, slow or failing answer is a deny.
    """

    def __init__(self, url: str, *, timeout_seconds: float = 0.5) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=timeout_seconds)

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        try:
            response = await self.client.post(self.url, json={"input": _input(request)})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return Decision.deny(f"opa_unavailable: {type(exc).__name__}")
        return _interpret(body)

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        return [await self.decide(request, org_policies) for request in requests]

    async def aclose(self) -> None:
        await self.client.aclose()


def _input(request: DecisionRequest) -> dict[str, Any]:
    return {
        "org_id": request.org_id,
        "policy_version": request.policy_version,
        "subject": {
            "id": request.subject.id,
            "kind": request.subject.kind,
            "permissions": sorted(request.subject.permissions),
            "roles": sorted(request.subject.roles),
        },
        "action": request.action,
        "resource": {
            "type": request.resource.type,
            "id": request.resource.id,
            "attrs": request.resource.attrs,
        },
        "context": request.context,
    }


def _interpret(body: Any) -> Decision:
    result = body.get("result") if isinstance(body, dict) else None
    if result is True:
        return Decision(allowed=True, reasons=("opa",))
    if isinstance(result, dict) and result.get("allow") is True:
        obligations = result.get("obligations") or []
        reasons = result.get("reasons") or ["opa"]
        if isinstance(obligations, list) and isinstance(reasons, list):
            return Decision(
                allowed=True,
                reasons=tuple(str(r) for r in reasons),
                obligations=tuple(sorted(str(o) for o in obligations)),
            )
    return Decision.deny("opa_denied_or_malformed", reasons=("opa",))
