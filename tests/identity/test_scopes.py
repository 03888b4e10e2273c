"""Scope implication rules."""

from __future__ import annotations

import pytest

from sprintconnect.identity.scopes import ALL_SCOPES, exceeding, grants, unknown_scopes


@pytest.mark.parametrize(
    ("held", "required", "allowed"),
    [
        ({"admin"}, "servers:write", True),
        ({"admin"}, "admin", True),
        ({"write"}, "servers:write", True),
        ({"write"}, "servers:read", True),
        ({"write"}, "admin", False),
        ({"read"}, "servers:read", True),
        ({"read"}, "servers:write", False),
        ({"read"}, "write", False),
        ({"servers:write"}, "servers:read", True),
        ({"servers:read"}, "servers:write", False),
        ({"servers:read"}, "api_keys:read", False),
        ({"servers:write"}, "read", False),
        (set(), "read", False),
    ],
)
def test_grants(held: set[str], required: str, allowed: bool) -> None:
    assert grants(held, required) is allowed


def test_exceeding_lists_what_is_not_covered() -> None:
    assert exceeding({"write"}, ["servers:read", "admin", "read"]) == ["admin"]
    assert exceeding({"servers:read"}, ["servers:read"]) == []


def test_unknown_scopes() -> None:
    assert unknown_scopes(["read", "servers:fly", "root"]) == ["root", "servers:fly"]
    assert "api_keys:write" in ALL_SCOPES
