"""Scopes: ``read``, ``write``, ``admin``, and any single permission such as ``servers:write``."""

from __future__ import annotations

from collections.abc import Iterable

from sprintconnect.authz.permissions import ALL_SCOPES, expand_scopes

__all__ = ["ALL_SCOPES", "exceeding", "grants", "unknown_scopes"]


def unknown_scopes(scopes: Iterable[str]) -> list[str]:
    return sorted(s for s in set(scopes) if s not in ALL_SCOPES)


def grants(held: Iterable[str], required: str) -> bool:
    """Whether the scopes ``held`` allow what ``required`` (a scope or permission) names."""
    return expand_scopes([required]) <= expand_scopes(held)


def exceeding(held: Iterable[str], requested: Iterable[str]) -> list[str]:
    """The requested scopes that ``held`` does not cover (for granting a narrower key)."""
    allowed = expand_scopes(held)
    return sorted(s for s in set(requested) if not expand_scopes([s]) <= allowed)
