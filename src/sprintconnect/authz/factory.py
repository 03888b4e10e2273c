"""Choosing the policy decision point from settings."""

from __future__ import annotations

from sprintconnect.authz.cedar import CedarPDP
from sprintconnect.authz.decision import Decision, DecisionRequest, PolicyDecisionPoint
from sprintconnect.authz.obligations import ThrottledByPolicy
from sprintconnect.authz.opa import OpaPDP
from sprintconnect.authz.service import Authorizer
from sprintconnect.config import Settings
from sprintconnect.identity.ratelimit import RateLimiter


class BaseThenExternal:
    """Cedar's base rules (production gate, schema checks) and then an external PDP: both
    must allow. Organization policy text stays with the external PDP in this mode."""

    def __init__(self, base: CedarPDP, external: PolicyDecisionPoint) -> None:
        self.base = base
        self.external = external

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        return (await self.decide_many([request], org_policies))[0]

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        base = await self.base.decide_many(requests, "")
        allowed = [r for r, d in zip(requests, base, strict=True) if d.allowed]
        external = iter(await self.external.decide_many(allowed, org_policies) if allowed else [])
        return [next(external) if d.allowed else d for d in base]


def build_authorizer(settings: Settings) -> Authorizer:
    pdp: PolicyDecisionPoint
    if settings.pdp_backend == "opa":
        assert settings.opa_url is not None  # enforced by Settings
        pdp = BaseThenExternal(
            CedarPDP(), OpaPDP(settings.opa_url, timeout_seconds=settings.pdp_timeout_seconds)
        )
    else:
        pdp = CedarPDP()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    throttles = {
        name: RateLimiter(limit, redis_url, namespace="throttle", error=ThrottledByPolicy)
        for name, limit in settings.throttle_classes.items()
    }
    return Authorizer(pdp, timeout_seconds=settings.pdp_timeout_seconds, throttles=throttles)
