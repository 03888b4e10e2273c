"""Every error SprintConnect answers with, rendered as RFC 9457 ``application/problem+json``.

SprintConnectError
├── BadRequest (400)
├── ValidationFailed (422)
│   └── InvalidCursor
├── AuthenticationRequired (401)
│   ├── InvalidCredentials
│   ├── CredentialsExpired
│   └── CredentialsRevoked
├── PermissionDenied (403)
│   └── InsufficientScope
├── NotFound (404)
├── Conflict (409)
├── PayloadTooLarge (413)
├── RateLimited (429)
├── ServiceUnavailable (503)
└── InternalError (500)

Domains subclass these (``class ApiKeyNotFound(NotFound)``); one handler renders them all.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


class FieldError(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int] = Field(description="Where the value sits, e.g. ['body', 'name'].")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI reference naming the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = None
    errors: list[FieldError] | None = None


class SprintConnectError(Exception):
    """Base of every error that reaches a client; subclasses set status, slug and title."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    @classmethod
    def type_uri(cls) -> str:
        return PROBLEM_BASE + cls.slug

    def to_problem(self, *, instance: str | None, request_id: str | None) -> Problem:
        return Problem(
            type=self.type_uri(),
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            request_id=request_id,
            errors=self.errors,
            **self.extra,
        )


class BadRequest(SprintConnectError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class ValidationFailed(SprintConnectError):
    status = 422
    slug = "validation-failed"
    title = "The request is not valid"


class InvalidCursor(ValidationFailed):
    slug = "invalid-cursor"
    title = "The pagination cursor is not valid"

    def __init__(self) -> None:
        super().__init__("Use the next_cursor value from a previous page, unchanged.")


class AuthenticationRequired(SprintConnectError):
    status = 401
    slug = "authentication-required"
    title = "Authentication required"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(
            detail, headers={"WWW-Authenticate": 'Bearer realm="sprintconnect"'}, **extra
        )


class InvalidCredentials(AuthenticationRequired):
    slug = "invalid-credentials"
    title = "The credentials are not valid"


class CredentialsExpired(AuthenticationRequired):
    slug = "credentials-expired"
    title = "The credentials have expired"


class CredentialsRevoked(AuthenticationRequired):
    slug = "credentials-revoked"
    title = "The credentials have been revoked"


class PermissionDenied(SprintConnectError):
    status = 403
    slug = "permission-denied"
    title = "Permission denied"


class InsufficientScope(PermissionDenied):
    slug = "insufficient-scope"
    title = "The credentials lack a required scope"

    def __init__(self, required: str, held: list[str]) -> None:
        super().__init__(
            f"This operation requires the scope '{required}'.",
            required_scopes=[required],
            granted_scopes=sorted(held),
        )


class NotFound(SprintConnectError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(SprintConnectError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(SprintConnectError):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class RateLimited(SprintConnectError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(
            f"The rate limit of {limit} for these credentials is spent; retry in {retry_after}s.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class ServiceUnavailable(SprintConnectError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class InternalError(SprintConnectError):
    status = 500
    slug = "internal-error"
    title = "Internal error"


def problem_responses(*errors: type[SprintConnectError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the errors a route can answer with."""
    by_status: dict[int, list[type[SprintConnectError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            "description": "; ".join(f"{e.title} ({e.type_uri()})" for e in group),
        }
        for status, group in sorted(by_status.items())
    }
