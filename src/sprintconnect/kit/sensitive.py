"""Masking an organization's sensitive fields in JSON-like data with a keyed digest.

A field is named by a JSON key (``email``: that key at any depth) or a dotted path from the
root (``headers.authorization``; a leading ``details.`` is the root itself, since audit
details are what is masked). Names match keys without regard to case; a path walks through
lists. A masked value reads ``[redacted:<8 hex>]``: the first four bytes of
HMAC-SHA256(organization key, value), so that equal values still correlate in a search
while the value itself is not kept. The organization key is HMAC-SHA256 of the organization
id under a sub-key of the master secret: nobody holding only the database can test guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sprintconnect.kit.secrets import KeyRing

# The sub-key of the master secret that organization redaction keys derive from.
REDACTION_PURPOSE = "audit/sensitive-field-digest"
# Where a session finds that sub-key (``Session.info``, set by the session factory).
REDACTION_INFO_KEY = "sprintconnect.redaction_key"
MAX_FIELDS = 100
MAX_FIELD_LENGTH = 200
_SEGMENT = r"[A-Za-z0-9_\-$@:]+"
_FIELD = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_ROOT = "details"
_MAX_DEPTH = 64


def session_info(keyring: KeyRing) -> dict[str, Any]:
    """What a session factory puts in ``Session.info`` for ``masker_for``."""
    return {REDACTION_INFO_KEY: keyring.derive(REDACTION_PURPOSE)}


def normalize_fields(fields: Iterable[str]) -> list[str]:
    """Sorted, unique, lower-cased field names; ``ValueError`` names the first bad one."""
    cleaned: set[str] = set()
    for raw in fields:
        name = raw.strip()
        if not name or len(name) > MAX_FIELD_LENGTH or _FIELD.fullmatch(name) is None:
            raise ValueError(
                f"{raw[:MAX_FIELD_LENGTH]!r} is not a JSON key or dotted path "
                "(letters, digits, '_', '-', '$', '@', ':' between dots)"
            )
        cleaned.add(name.lower())
    if len(cleaned) > MAX_FIELDS:
        raise ValueError(f"at most {MAX_FIELDS} sensitive fields")
    return sorted(cleaned)


class Masker:
    """Masks the configured fields of one organization (see the module doc)."""

    def __init__(self, fields: Iterable[str], org_key: bytes | None) -> None:
        self.anywhere: frozenset[str] = frozenset()
        self.paths: list[tuple[str, ...]] = []
        anywhere = set()
        for name in fields:
            parts = tuple(name.lower().split("."))
            if len(parts) == 1:
                anywhere.add(parts[0])  # a bare key: at any depth
                continue
            if parts[0] == _ROOT:
                parts = parts[1:]
            self.paths.append(parts)  # a path: from the root only
        self.anywhere = frozenset(anywhere)
        self.org_key = org_key

    @classmethod
    def for_org(cls, fields: Iterable[str], platform_key: bytes | None, org_id: UUID) -> Masker:
        org_key = (
            hmac.new(platform_key, org_id.bytes, hashlib.sha256).digest()
            if platform_key is not None
            else None
        )
        return cls(fields, org_key)

    def __bool__(self) -> bool:
        return bool(self.anywhere or self.paths)

    def digest(self, value: Any) -> str:
        """``[redacted:<8 hex>]`` for a value; ``[redacted]`` when no key is at hand."""
        if self.org_key is None:
            return "[redacted]"
        data = (
            value.encode()
            if isinstance(value, str)
            else json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
        )
        return f"[redacted:{hmac.new(self.org_key, data, hashlib.sha256).hexdigest()[:8]}]"

    def mask(self, value: Any) -> Any:
        """A copy of ``value`` with the configured fields' values replaced by their digest."""
        return self._walk(value, self.paths, 0)

    def _walk(self, value: Any, paths: list[tuple[str, ...]], depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return value
        if isinstance(value, list):
            return [self._walk(item, paths, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).lower()
            if name in self.anywhere or any(p == (name,) for p in paths):
                out[key] = self.digest(item)
                continue
            deeper = [p[1:] for p in paths if len(p) > 1 and p[0] == name]
            out[key] = self._walk(item, deeper, depth + 1)
        return out
