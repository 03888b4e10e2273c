// Servers as the API answers them, for the list and form tests.
import type { components } from "../../src/api/schema";

type Server = components["schemas"]["Server"];

export function fakeServer(overrides: Partial<Server> = {}): Server {
  return {
    id: "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11",
    name: "weather",
    description: "Forecasts",
    url: "https://mcp.example.com/mcp",
    transport: "streamable_http",
    environment: "staging",
    tags: ["public", "weather"],
    status: "active",
    auth: { type: "none", configured: false },
    health_check_interval_seconds: 300,
    health: {
      check_type: "ping",
      enabled: true,
      interval_seconds: 300,
      last_check_at: "2026-11-28T09:00:00Z",
      response_ms: 12.5,
      status: "healthy",
      failure_threshold: null,
      degraded_after_seconds: null,
    },
    auto_discover: true,
    last_discovered_at: "2026-11-28T08:00:00Z",
    created_at: "2026-11-27T10:00:00Z",
    updated_at: "2026-11-27T10:00:00Z",
    created_by_user_id: null,
    redacted: [],
    ...overrides,
  };
}

export function page(items: Server[], next_cursor: string | null = null) {
  return { items, next_cursor, removed_by_policy: 0 };
}
