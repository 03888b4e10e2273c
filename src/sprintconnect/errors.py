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

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from sprintconnect.problem_examples import EXAMPLES

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
    """A 422; it always lists ``errors``: given, or one entry at ``loc`` (else ``default_loc``)."""

    status = 422
    slug = "validation-failed"
    title = "The request is not valid"
    default_loc: ClassVar[tuple[str | int, ...]] = ("body",)

    def __init__(
        self,
        detail: str | None = None,
        *,
        loc: Sequence[str | int] | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        # Subclasses with another status (a 429 that is still an egress denial) list nothing.
        if errors is None and self.status == 422:
            where = list(loc if loc is not None else self.default_loc)
            errors = [FieldError(loc=where, msg=detail or self.title, type=self.slug)]
        super().__init__(detail, errors=errors, headers=headers, **extra)


class InvalidCursor(ValidationFailed):
    slug = "invalid-cursor"
    title = "The pagination cursor is not valid"
    default_loc = ("query", "cursor")

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


def problem_example(error: type[SprintConnectError]) -> dict[str, Any]:
    """A realistic answer of ``error`` for OpenAPI, from ``problem_examples.EXAMPLES``."""
    known = dict(EXAMPLES.get(error.slug, {}))
    example: dict[str, Any] = {
        "type": error.type_uri(),
        "title": error.title,
        "status": error.status,
        "detail": known.pop("detail", f"{error.title}."),
        "instance": known.pop("instance", "/api/v1/servers"),
        "request_id": "3f1c9b0e2d7a4c58b6e1f0a9d2c4e7b1",
    }
    loc = known.pop("loc", None)
    if error.status == 422 and "errors" not in known:
        default_loc = getattr(error, "default_loc", ("body",))
        where = list(loc if loc is not None else default_loc)
        known["errors"] = [{"loc": where, "msg": example["detail"], "type": error.slug}]
    return {**example, **known}


def problem_responses(*errors: type[SprintConnectError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the errors a route can answer with, each with an
    example answer per problem type."""
    by_status: dict[int, list[type[SprintConnectError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    # A route's 422 entry replaces its router's (FastAPI merges by status), and every route can
    # answer validation-failed (unknown query parameters, at least): keep it listed.
    if 422 in by_status and ValidationFailed not in by_status[422]:
        by_status[422].insert(0, ValidationFailed)
    return {
        status: {
            "model": Problem,
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {
                        e.slug: {"summary": e.title, "value": problem_example(e)} for e in group
                    },
                }
            },
            "description": "; ".join(f"{e.title} ({e.type_uri()})" for e in group),
        }
        for status, group in sorted(by_status.items())
    }
