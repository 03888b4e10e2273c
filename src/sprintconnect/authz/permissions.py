"""The permission catalog, built-in roles, and how API key scopes map onto permissions."""

from __future__ import annotations

from collections.abc import Iterable

# Every permission is ``resource:action``. ``servers:production`` gates production servers.
PERMISSIONS: tuple[str, ...] = (
    "api_keys:read",
    "api_keys:write",
    "servers:read",
    "servers:write",
    "servers:production",
    "capabilities:read",
    "discovery:read",
    # Using a server's tools, resources and prompts (playground and gateway), and toolsets.
    "tools:invoke",
    "toolsets:read",
    "toolsets:write",
    "health:read",
    "health:write",
    "users:read",
    "users:write",
    "roles:read",
    "roles:write",
    "policies:read",
    "policies:write",
    "audit:read",
    # The audit ledger's operations: publishing a checkpoint now, verifying the whole ledger.
    "audit:manage",
    "webhooks:read",
    "webhooks:write",
    "analytics:read",
    "exports:read",
    "exports:write",
    "org:read",
    "org:write",
    # Service accounts (OAuth clients of the token service) and the tokens issued to them.
    "service_accounts:read",
    "service_accounts:write",
)
ALL_PERMISSIONS = frozenset(PERMISSIONS)
READ_PERMISSIONS = frozenset(p for p in PERMISSIONS if p.endswith(":read")) | {"servers:production"}
# What the broad ``write`` scope leaves to ``admin``: who may do what, and the org itself.
ADMIN_ONLY = frozenset(
    {
        "users:write",
        "roles:write",
        "policies:write",
        "org:write",
        "audit:manage",
        # A service account is a member with roles: creating one is granting them.
        "service_accounts:write",
    }
)
WRITE_PERMISSIONS = ALL_PERMISSIONS - ADMIN_ONLY

BUILT_IN_ROLES: dict[str, frozenset[str]] = {
    "admin": ALL_PERMISSIONS,
    "engineer": frozenset(
        {
            "api_keys:read",
            "api_keys:write",
            "servers:read",
            "servers:write",
            "servers:production",
            "capabilities:read",
            "discovery:read",
            "tools:invoke",
            "toolsets:read",
            "toolsets:write",
            "health:read",
            "health:write",
            "webhooks:read",
            "webhooks:write",
            "users:read",
            "roles:read",
            "policies:read",
            "analytics:read",
            "org:read",
        }
    ),
    "analyst": frozenset(
        {
            "servers:read",
            "toolsets:read",
            "capabilities:read",
            "discovery:read",
            "health:read",
            "analytics:read",
            "audit:read",
            "exports:read",
            "exports:write",
            "users:read",
            "org:read",
        }
    ),
    "viewer": frozenset(
        {
            "servers:read",
            "capabilities:read",
            "discovery:read",
            "health:read",
            "org:read",
            "toolsets:read",
        }
    ),
}
BUILT_IN_ROLE_DESCRIPTIONS = {
    "admin": "Everything in the organization, including users, roles and policies.",
    "engineer": "Registers and runs MCP servers, including production; manages API keys.",
    "analyst": "Reads servers, analytics and the audit log; exports reports.",
    "viewer": "Reads servers, their capabilities and health.",
}
# Platform operators: every permission in every organization they belong to.
SUPER_ADMIN = "super_admin"
RESERVED_ROLE_NAMES = frozenset(BUILT_IN_ROLES) | {SUPER_ADMIN}

BROAD_SCOPES: dict[str, frozenset[str]] = {
    "read": READ_PERMISSIONS,
    "write": WRITE_PERMISSIONS,
    "admin": ALL_PERMISSIONS,
}
ALL_SCOPES = frozenset(BROAD_SCOPES) | ALL_PERMISSIONS


def unknown_permissions(permissions: Iterable[str]) -> list[str]:
    return sorted(p for p in set(permissions) if p not in ALL_PERMISSIONS)


def expand_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The permissions scopes allow: broad scopes expand, ``x:write`` implies ``x:read``."""
    allowed: set[str] = set()
    for scope in scopes:
        if scope in BROAD_SCOPES:
            allowed |= BROAD_SCOPES[scope]
        elif scope in ALL_PERMISSIONS:
            allowed.add(scope)
            resource, _, action = scope.partition(":")
            if action == "write" and f"{resource}:read" in ALL_PERMISSIONS:
                allowed.add(f"{resource}:read")
    return frozenset(allowed)
