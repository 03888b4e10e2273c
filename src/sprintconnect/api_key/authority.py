"""Who may revoke a key: the grant limit that role removal has, applied to keys.

- A caller may always revoke their own keys (keys they own, and the key they call with).
- Another member's key: only when the caller acts with every permission that key acts with,
  which is the key's scopes intersected with its owner's permissions, read now.
- Operator keys (service keys, which no member owns, and keys whose owner is a platform
  super admin): only by a caller who acts with every permission, as an admin with an
  admin-scoped key does. Such keys can reach past what their scopes say in the organization
  (the platform's job administration, or a key an operator handed out), so nothing less
  than the whole catalog may take them away.
"""

from __future__ import annotations

from dataclasses import dataclass

from sprintconnect.authz.access import effective_permissions
from sprintconnect.authz.permissions import ALL_PERMISSIONS
from sprintconnect.authz.repository import AccessFacts
from sprintconnect.identity.principal import Principal
from sprintconnect.models import ApiKey

SERVICE = "service"
USER = "user"


@dataclass(frozen=True)
class Requirement:
    """What a caller must act with to revoke a key, and whether it is an operator key."""

    permissions: frozenset[str]
    operator_key: bool


def owns(principal: Principal, key: ApiKey) -> bool:
    """The caller's own key: the one it calls with, or one its member owns."""
    if key.id == principal.api_key_id:
        return True
    return key.created_by_user_id is not None and key.created_by_user_id == principal.user_id


def revocation_requirement(key: ApiKey, owner: AccessFacts | None) -> Requirement:
    """What revoking ``key`` asks of the caller; ``owner`` is its owner's access, read now."""
    if key.kind == SERVICE or owner is None or owner.super_admin:
        return Requirement(ALL_PERMISSIONS, operator_key=True)
    acting = effective_permissions(owner, frozenset(key.scopes), has_user=True)
    return Requirement(acting, operator_key=False)
