"""Scopes: ``read``, ``write``, ``admin``, and finer ``resource:action`` ones."""

from __future__ import annotations

from collections.abc import Iterable

RESOURCES = (
    "api_keys",
    "servers",
    "capabilities",
    "discovery",
    "health",
    "users",
    "roles",
    "policies",
    "audit",
    "webhooks",
    "analytics",
    "exports",
    "org",
)
ACTIONS = ("read", "write")
BROAD = ("read", "write", "admin")
ALL_SCOPES = frozenset(BROAD) | frozenset(f"{r}:{a}" for r in RESOURCES for a in ACTIONS)

# A broad scope and everything above it.
_IMPLIED_BY = {"read": ("read", "write", "admin"), "write": ("write", "admin"), "admin": ("admin",)}


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(s for s in scopes if s not in ALL_SCOPES)


def grants(held: Iterable[str], required: str) -> bool:
    """Whether the scopes ``held`` allow what ``required`` names."""
    held = set(held)
    resource, _, action = required.partition(":")
    if not action:
        return any(s in held for s in _IMPLIED_BY[resource])
    if any(s in held for s in _IMPLIED_BY[action]):
        return True
    if action == "read":
        return f"{resource}:read" in held or f"{resource}:write" in held
    return f"{resource}:{action}" in held


def exceeding(held: Iterable[str], requested: Iterable[str]) -> list[str]:
    """The requested scopes that ``held`` does not cover (for granting a narrower key)."""
    held = set(held)
    return sorted(s for s in requested if not grants(held, s))
