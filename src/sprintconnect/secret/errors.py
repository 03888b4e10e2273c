"""What the secret store raises. Messages name the path, never the value.

SprintConnectError
├── ValidationFailed (422)
│   ├── InvalidSecretPath
│   └── InvalidSecretValue
├── BadRequest (400)
│   └── KeyRotationUnsupported
├── NotFound (404)
│   └── SecretNotFound
├── ServiceUnavailable (503)
│   └── SecretStoreUnavailable
└── InternalError (500)
    └── SecretIntegrityError
"""

from __future__ import annotations

from sprintconnect.errors import (
    BadRequest,
    InternalError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)


class InvalidSecretPath(ValidationFailed):
    slug = "invalid-secret-path"
    title = "The secret path is not valid"


class InvalidSecretValue(ValidationFailed):
    slug = "invalid-secret-value"
    title = "The secret value is not valid"
    default_loc = ("body", "auth")


class KeyRotationUnsupported(BadRequest):
    slug = "key-rotation-unsupported"
    title = "This secret store does not rotate its own keys"


class SecretNotFound(NotFound):
    slug = "secret-not-found"
    title = "Secret not found"

    def __init__(self, path: str) -> None:
        super().__init__(f"No secret is stored at '{path}' in this organization.")


class SecretStoreUnavailable(ServiceUnavailable):
    slug = "secret-store-unavailable"
    title = "The secret store is unavailable"


class SecretIntegrityError(InternalError):
    """Stored ciphertext or a wrapped key failed authentication: nothing is returned."""

    slug = "secret-integrity-failure"
    title = "A stored secret failed its integrity check"
