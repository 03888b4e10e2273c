"""The Cedar schema every policy is validated against, and the base policy set."""

from __future__ import annotations

from sprintconnect.authz.permissions import PERMISSIONS

_ACTIONS = ", ".join(f'"{p}"' for p in PERMISSIONS)

SCHEMA = f"""
entity Role;
entity User in [Role] {{ permissions: Set<String>, kind: String }};
entity Resource {{ kind: String }};
entity Server {{ name: String, environment: String, tags: Set<String> }};
entity Capability {{ name: String, kind: String, server: String, environment: String }};
type RequestContext = {{
  action: String,
  minute_of_day: Long,
  day_of_week: Long,
  time_zone: String
}};
action {_ACTIONS}
  appliesTo {{
    principal: [User],
    resource: [Resource, Server, Capability],
    context: RequestContext
  }};
"""

# Base rules, evaluated with every organization's own policies. Organizations add policies; they
# cannot remove these. RBAC is one forbid, so an organization's permit can never widen a role.
BASE_POLICIES = """
@id("base:allow")
permit (principal, action, resource);

@id("base:rbac")
forbid (principal, action, resource)
unless { principal.permissions.contains(context.action) };

@id("base:production")
forbid (principal, action, resource is Server)
when {
  resource.environment == "production" &&
  !principal.permissions.contains("servers:production")
};

@id("base:production-capability")
forbid (principal, action, resource is Capability)
when {
  resource.environment == "production" &&
  !principal.permissions.contains("servers:production")
};
"""

BASE_ID_PREFIX = "base:"
