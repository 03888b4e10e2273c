"""Removing secrets from request data before it is kept (audit entries)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from sprintconnect.kit.redact import REDACTED

# A key naming any of these holds a secret. ``value`` is the secret of header credentials.
_SECRET_WORDS = (
    "secret",
    "password",
    "passwd",
    "token",
    "credential",
    "authorization",
    "private",
    "key_pem",
    "api_key",
)
_SECRET_NAMES = frozenset({"value", "key"})
_MAX_DEPTH = 64  # bodies are already limited to 64 levels by kit.input


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def scrub(value: Any, _depth: int = 0) -> Any:
    """A copy of JSON-like data with the value under every secret-looking key replaced."""
    if _depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            str(k): REDACTED if is_secret_name(str(k)) else scrub(v, _depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, _depth + 1) for item in value]
    return value


def scrub_query(query: str) -> dict[str, list[str]]:
    """A query string as lists of values per name, secret-looking ones replaced."""
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, []).append(REDACTED if is_secret_name(name) else value)
    return params


def scrub_body(body: bytes) -> Any:
    """A request body as scrubbed JSON; a body that is not JSON is described, not kept."""
    if not body:
        return None
    try:
        return scrub(json.loads(body))
    except (ValueError, RecursionError):
        return {"not_json": True, "bytes": len(body)}
