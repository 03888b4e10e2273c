"""Problems answered by the idempotency layer itself.

ValidationFailed (422)
├── IdempotencyKeyInvalid
└── IdempotencyKeyReused
Conflict (409)
└── IdempotencyInProgress
"""

from __future__ import annotations

from sprintconnect.errors import Conflict, ValidationFailed

# Seconds a client should wait before retrying a request whose first attempt is still running.
IN_PROGRESS_RETRY_AFTER = 1


class IdempotencyKeyInvalid(ValidationFailed):
    slug = "idempotency-key-invalid"
    title = "The Idempotency-Key header is not valid"
    default_loc = ("header", "Idempotency-Key")

    def __init__(self) -> None:
        super().__init__(
            "Send one Idempotency-Key header of 1 to 255 printable ASCII characters, "
            "without leading or trailing spaces; a UUID is a good choice."
        )


class IdempotencyKeyReused(ValidationFailed):
    slug = "idempotency-key-reused"
    title = "The idempotency key was used for a different request"
    default_loc = ("header", "Idempotency-Key")

    def __init__(self, method: str, path: str) -> None:
        super().__init__(
            f"This Idempotency-Key was first used for {method} {path} with another body; "
            "use a new key for a new request.",
        )


class IdempotencyInProgress(Conflict):
    slug = "idempotency-in-progress"
    title = "A request with this idempotency key is still running"

    def __init__(self) -> None:
        super().__init__(
            "The first request with this Idempotency-Key has not finished; retry shortly to "
            "receive its answer.",
            headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)},
            retry_after=IN_PROGRESS_RETRY_AFTER,
        )
