"""Choosing the policy decision point from settings."""

from __future__ import annotations

from sprintconnect.authz.cedar import CedarPDP
from sprintconnect.authz.decision import PolicyDecisionPoint
from sprintconnect.authz.opa import OpaPDP
from sprintconnect.authz.service import Authorizer
from sprintconnect.config import Settings


def build_authorizer(settings: Settings) -> Authorizer:
    pdp: PolicyDecisionPoint
    if settings.pdp_backend == "opa":
        assert settings.opa_url is not None  # enforced by Settings
        pdp = OpaPDP(settings.opa_url, timeout_seconds=settings.pdp_timeout_seconds)
    else:
        pdp = CedarPDP()
    return Authorizer(pdp, timeout_seconds=settings.pdp_timeout_seconds)
