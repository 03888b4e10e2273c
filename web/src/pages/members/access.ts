// What the members, roles and API key screens share: the permission catalog, the scopes a key
// may carry, every role of the organization, and which of them the caller may hand out.
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import type { Session } from "../../auth/session";

export type Role = components["schemas"]["RoleOut"];

/**
 * The permission catalog as the API defines it (authz/permissions.py), in its order. The API
 * publishes it as the built-in `admin` role's permissions; this list stands in when the caller
 * cannot read roles. tests/ops/test_console_serving.py checks that it matches the server's.
 */
export const PERMISSIONS = [
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
  "users:read",
  "users:write",
  "roles:read",
  "roles:write",
  "policies:read",
  "policies:write",
  "audit:read",
  "audit:manage",
  "webhooks:read",
  "webhooks:write",
  "analytics:read",
  "exports:read",
  "exports:write",
  "org:read",
  "org:write",
  "service_accounts:read",
  "service_accounts:write",
] as const;

/** The broad key scopes, besides every single permission. */
export const BROAD_SCOPES: { value: string; label: string }[] = [
  { value: "read", label: "read (every read permission)" },
  { value: "write", label: "write (everything but managing people, roles, policies)" },
  { value: "admin", label: "admin (every permission)" },
];

/** Permissions grouped by their resource, in catalog order: servers → [read, write, …]. */
export function byResource(permissions: readonly string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const permission of permissions) {
    const [resource = permission] = permission.split(":");
    const list = groups.get(resource) ?? [];
    list.push(permission);
    groups.set(resource, list);
  }
  return [...groups.entries()];
}

/** "servers:write" → "write"; the action part of a permission. */
export function action(permission: string): string {
  return permission.split(":")[1] ?? permission;
}

/** A resource name for people: "api_keys" → "API keys". */
export function resourceLabel(resource: string): string {
  const special: Record<string, string> = {
    api_keys: "API keys",
    org: "Organization",
    service_accounts: "Service accounts",
  };
  if (special[resource]) return special[resource];
  return resource.charAt(0).toUpperCase() + resource.slice(1).replace(/_/g, " ");
}

/** Every role of the organization, built-in first, all pages of the list. */
export async function loadAllRoles(): Promise<Role[]> {
  const roles: Role[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const answer = await unwrap(
      api.GET("/api/v1/roles", { params: { query: { limit: 200, cursor } } }),
    );
    roles.push(...answer.items);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return roles;
}

export const ROLES_KEY = ["roles", "all"] as const;

export function useAllRoles(enabled = true) {
  return useQuery({ queryKey: ROLES_KEY, queryFn: loadAllRoles, enabled });
}

/** The catalog: from the API (the admin role holds every permission) when known. */
export function catalogOf(roles: Role[] | undefined): string[] {
  const admin = roles?.find((r) => r.built_in && r.name === "admin");
  if (!admin || admin.effective_permissions.length === 0) return [...PERMISSIONS];
  // Keep the known order; anything new the server added goes last.
  const known = PERMISSIONS.filter((p) => admin.effective_permissions.includes(p));
  const added = admin.effective_permissions.filter(
    (p) => !(PERMISSIONS as readonly string[]).includes(p),
  );
  return [...known, ...added.sort()];
}

/**
 * The roles the caller may hand out: the grant limit lets a member grant a role only when
 * they act with every permission it grants, inherited ones included.
 */
export function grantable(roles: Role[], session: Session): Role[] {
  const held = new Set(session.me.permissions);
  return roles.filter((r) => r.effective_permissions.every((p) => held.has(p)));
}
