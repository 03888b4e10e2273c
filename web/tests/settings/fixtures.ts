// API answers in the real shapes (web/src/api/schema.d.ts) for the settings and jobs screens.
import type { components } from "../../src/api/schema";

type S = components["schemas"];

export function org(overrides: Partial<S["OrganizationOut"]> = {}): S["OrganizationOut"] {
  return {
    id: "00000000-0000-0000-0000-00000000000a",
    name: "Acme",
    slug: "acme",
    time_zone: "UTC",
    egress_allowlist: [],
    server_quota: null,
    health_min_interval_seconds: 30,
    health_failure_threshold: 3,
    health_degraded_after_seconds: 900,
    audit_sensitive_fields: [],
    gateway_limits: { read: "600/minute", write: "120/minute", expensive: "20/minute" },
    created_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

export function provider(overrides: Partial<S["IdentityProviderOut"]> = {}): S["IdentityProviderOut"] {
  return {
    issuer: "https://idp.acme.example",
    client_id: "sprintconnect",
    client_secret_set: true,
    scopes: ["openid", "email", "profile"],
    allowed_email_domains: ["acme.example"],
    claim_name: "name",
    claim_email: "email",
    claim_groups: "groups",
    group_roles: { engineers: ["engineer"] },
    access_token_audience: null,
    enabled: true,
    redirect_uri: "https://sc.acme.example/auth/callback",
    login_url: "https://sc.acme.example/auth/login?org=acme",
    updated_at: "2026-01-02T00:00:00Z",
    ...overrides,
  };
}

export function prefs(): S["NotificationPreferences"] {
  return {
    email: { enabled: true, address: "ada@acme.example", uses_account_email: true },
    slack: { enabled: false, configured: true, updated_at: "2026-01-02T00:00:00Z" },
    webhook: { enabled: false, url: null, secret_configured: false, secret_updated_at: null },
    events: ["server.health.degraded", "server.health.recovered", "server.health.unhealthy"],
    updated_at: null,
  };
}

export function policy(): S["EscalationPolicy"] {
  return {
    unhealthy: { user_ids: [], roles: ["admin"] },
    degraded: { user_ids: ["00000000-0000-0000-0000-0000000000b2"], roles: ["admin"] },
    repeat_minutes: 60,
    cooldown_minutes: 30,
    is_default: true,
    updated_at: null,
    updated_by_user_id: null,
  };
}

export function job(overrides: Partial<S["Job"]> = {}): S["Job"] {
  return {
    id: 42,
    task: "sc:discovery.run",
    queue: "discovery",
    state: "dead",
    attempts: 5,
    scheduled_at: null,
    lock: null,
    args: { discovery_id: "d1", org_id: "o1", server_id: "s1" },
    last_event: { type: "failed", at: "2026-01-02T00:00:00Z" },
    last_error: "OperationalError: the database went away",
    ...overrides,
  };
}

export function stats(overrides: Partial<S["JobStats"]> = {}): S["JobStats"] {
  return {
    queued: 1,
    running: 2,
    succeeded: 812,
    dead: 3,
    cancelled: 0,
    aborted: 0,
    dead_by_task: { "sc:discovery.run": 3 },
    ...overrides,
  };
}

export function problem(status: number, slug: string, detail: string, errors?: unknown[]) {
  return {
    status,
    body: { type: `/problems/${slug}`, title: slug, status, detail, ...(errors ? { errors } : {}) },
  };
}
