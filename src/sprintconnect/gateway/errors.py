"""What a call through the gateway or the playground can answer besides its result."""

from __future__ import annotations

from typing import Any

from sprintconnect.errors import (
    Conflict,
    FieldError,
    NotFound,
    RateLimited,
    SprintConnectError,
    ValidationFailed,
)


class ToolsetNotFound(NotFound):
    slug = "toolset-not-found"
    title = "Toolset not found"


class ToolsetNameTaken(Conflict):
    slug = "toolset-name-taken"
    title = "A toolset with this name exists"


class CapabilityNotFound(NotFound):
    slug = "capability-not-found"
    title = "Capability not found"


class ToolArgumentsInvalid(ValidationFailed):
    slug = "tool-arguments-invalid"
    title = "The arguments do not match the tool's input schema"

    def __init__(self, tool: str, errors: list[FieldError]) -> None:
        first = errors[0]
        where = ".".join(str(p) for p in first.loc[2:]) or "arguments"
        super().__init__(
            f"Nothing was sent to the server: '{where}' {first.msg} (the input schema of "
            f"'{tool}' in the latest capability snapshot).",
            errors=errors,
        )


class CapabilityThrottled(RateLimited):
    slug = "capability-rate-limited"
    title = "The rate limit of this capability class is spent"

    def __init__(self, retry_after: int, limit: str, capability_class: str) -> None:
        SprintConnectError.__init__(
            self,
            f"Calls of '{capability_class}' capabilities are limited to {limit} per caller in "
            f"this organization; retry in {retry_after}s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
            capability_class=capability_class,
        )


class UpstreamFailed(SprintConnectError):
    """The upstream server could not answer: a classified reason and what to do about it."""

    status = 502
    slug = "upstream-failed"
    title = "The MCP server did not answer the call"

    def __init__(self, reason: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, reason=reason, **extra)
        self.reason = reason


class UpstreamTimeout(UpstreamFailed):
    status = 504
    slug = "upstream-timeout"
    title = "The MCP server did not answer in time"


class CapabilityChanged(UpstreamFailed):
    """The server no longer has the capability, or refused arguments its schema allowed."""

    status = 409
    slug = "capability-changed-upstream"
    title = "The capability changed on the server since its snapshot"
