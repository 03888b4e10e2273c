"""What the idempotency layer reads from a request: scope, key, credential and fingerprint."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from starlette.types import Scope

from sprintconnect.idempotency.errors import IdempotencyKeyInvalid

HEADER = b"idempotency-key"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1"
MAX_KEY_LENGTH = 255
# Printable ASCII; no leading or trailing space (servers strip them, so they cannot matter).
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def applies(scope: Scope) -> bool:
    """Mutating methods under the versioned API take part; everything else passes through."""
    path: str = scope["path"]
    return scope["method"] in METHODS and (path == API_PREFIX or path.startswith(API_PREFIX + "/"))


def _headers(scope: Scope, wanted: bytes) -> list[bytes]:
    return [value for name, value in scope.get("headers", []) if name.lower() == wanted]


def idempotency_key(scope: Scope) -> str | None:
    """The request's key, None without one; ``IdempotencyKeyInvalid`` for a malformed one."""
    values = _headers(scope, HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise IdempotencyKeyInvalid()
    key = values[0].decode("latin-1")
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise IdempotencyKeyInvalid()
    return key


@dataclass(frozen=True)
class Fingerprint:
    """What makes two requests "the same": method, target (path and query) and body digest."""

    method: str
    target: str
    body_sha256: bytes

    @classmethod
    def of(cls, scope: Scope, body: bytes) -> Fingerprint:
        target: str = scope["path"]
        query = scope.get("query_string", b"")
        if query:
            target += "?" + query.decode("latin-1")
        return cls(scope["method"], target, hashlib.sha256(body).digest())
