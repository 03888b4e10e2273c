"""Problems of sign-in, sessions and step-up.

SprintConnectError
├── AuthenticationRequired (401)
│   ├── SessionExpired          sign in again (``Location``: the login URL)
│   └── StepUpRequired          sign in again, recently enough (RFC 9470 challenge)
├── PermissionDenied (403)
│   ├── CsrfTokenMissing
│   ├── CsrfTokenInvalid
│   └── CrossSiteRequest
├── NotFound (404)
│   └── IdentityProviderNotFound
└── ValidationFailed (422)
    ├── IdentityProviderUnusable  the metadata or keys could not be fetched or are wrong
    └── UnknownMappedRole
"""

from __future__ import annotations

from typing import Any

from sprintconnect.errors import (
    AuthenticationRequired,
    NotFound,
    PermissionDenied,
    SprintConnectError,
    ValidationFailed,
)


class SessionExpired(AuthenticationRequired):
    slug = "session-expired"
    title = "Your session has ended: sign in again"

    def __init__(self, detail: str, *, login_url: str) -> None:
        SprintConnectError.__init__(
            self,
            detail,
            headers={"WWW-Authenticate": 'Bearer realm="sprintconnect"', "Location": login_url},
            login_url=login_url,
        )


class StepUpRequired(AuthenticationRequired):
    slug = "step-up-required"
    title = "Sign in again to continue"

    def __init__(self, detail: str, *, challenge: str, login_url: str, **extra: Any) -> None:
        SprintConnectError.__init__(
            self,
            detail,
            headers={"WWW-Authenticate": challenge, "Location": login_url},
            login_url=login_url,
            **extra,
        )


class CsrfTokenMissing(PermissionDenied):
    slug = "csrf-token-missing"
    title = "The request lacks its CSRF token"


class CsrfTokenInvalid(PermissionDenied):
    slug = "csrf-token-invalid"
    title = "The request's CSRF token is not this session's"


class CrossSiteRequest(PermissionDenied):
    slug = "cross-site-request"
    title = "Cross-site requests cannot use the session"


class IdentityProviderNotFound(NotFound):
    slug = "identity-provider-not-found"
    title = "No identity provider is configured"


class IdentityProviderUnusable(ValidationFailed):
    slug = "identity-provider-unusable"
    title = "The identity provider cannot be used"


class UnknownMappedRole(ValidationFailed):
    slug = "unknown-mapped-role"
    title = "The group mapping names a role that does not exist"


class SignInFailed(Exception):
    """A sign-in that cannot go on; shown as the failure page, never as JSON.

    ``reason`` is a stable code for the audit log; ``message`` is for the person signing in.
    """

    def __init__(self, reason: str, message: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status
