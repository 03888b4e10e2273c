"""Idempotent retries of mutating API requests (the ``Idempotency-Key`` header)."""

from sprintconnect.idempotency.middleware import IdempotencyMiddleware

__all__ = ["IdempotencyMiddleware"]
