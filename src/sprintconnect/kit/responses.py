"""OpenAPI error lists shared by every authenticated route."""

from __future__ import annotations

from typing import Any

from sprintconnect.authz.decision import PolicyDenied
from sprintconnect.authz.obligations import ObligationNotUnderstood, ThrottledByPolicy
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    RateLimited,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.ratelimit import AuthenticationThrottled, OrgRateLimited

AUTHENTICATED: dict[int | str, dict[str, Any]] = problem_responses(
    AuthenticationRequired,
    InsufficientScope,
    PolicyDenied,
    # Any allowed decision may carry obligations (authz.obligations).
    ObligationNotUnderstood,
    RateLimited,
    ThrottledByPolicy,
    OrgRateLimited,
    AuthenticationThrottled,
    ValidationFailed,
)
