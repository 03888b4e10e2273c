"""OpenAPI error lists shared by every authenticated route."""

from __future__ import annotations

from typing import Any

from sprintconnect.authz.decision import PolicyDenied
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    RateLimited,
    ValidationFailed,
    problem_responses,
)

AUTHENTICATED: dict[int | str, dict[str, Any]] = problem_responses(
    AuthenticationRequired, InsufficientScope, PolicyDenied, RateLimited, ValidationFailed
)
