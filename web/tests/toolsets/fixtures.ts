// Toolsets, servers and their tools as the API answers them, for the toolset screen tests.
import type { components } from "../../src/api/schema";
import { fakeServer, page } from "../servers/fixtures";

type Toolset = components["schemas"]["ToolsetOut"];
type Capabilities = components["schemas"]["Capabilities"];
type Exposed = components["schemas"]["ExposedTools"];

export const TOOLSET_ID = "5d2c9a1e-3f4b-4c6d-8e7f-0a1b2c3d4e5f";
export const GITHUB = fakeServer({ id: "11111111-1111-4111-8111-111111111111", name: "github" });
export const TICKETS = fakeServer({ id: "22222222-2222-4222-8222-222222222222", name: "tickets" });

export function fakeToolset(overrides: Partial<Toolset> = {}): Toolset {
  return {
    id: TOOLSET_ID,
    name: "support-agent",
    description: "What the support agent may use",
    endpoint: "/mcp/acme/support-agent",
    servers: [
      {
        server_id: GITHUB.id,
        server_name: "github",
        tools: null,
        prefix: "gh_",
        prompts: true,
        resources: true,
        rename: {},
        classes: {},
      },
      {
        server_id: TICKETS.id,
        server_name: "tickets",
        tools: ["search"],
        prefix: null,
        prompts: false,
        resources: false,
        rename: { search: "find_tickets" },
        classes: { search: "expensive" },
      },
    ],
    timeout_seconds: 30,
    created_at: "2026-11-28T10:00:00Z",
    updated_at: "2026-11-28T10:00:00Z",
    ...overrides,
  };
}

function tool(name: string, description: string, readOnly = false) {
  return {
    kind: "tool" as const,
    name,
    title: null,
    description,
    definition: {
      name,
      description,
      inputSchema: { type: "object", properties: {} },
      ...(readOnly ? { annotations: { readOnlyHint: true } } : {}),
    },
  };
}

/** A server's latest snapshot: `search` is read-only, `create_issue` is not, and a prompt. */
export function capabilities(serverId: string): Capabilities {
  return {
    server_id: serverId,
    capabilities: { tools: {} },
    snapshot: {
      version: 1,
      digest: "abc",
      counts: { tool: 2, prompt: 1 },
      created_at: "2026-11-28T09:00:00Z",
      last_confirmed_at: "2026-11-28T09:00:00Z",
      protocol_version: "2025-11-25",
      server_info: {},
      truncation: {},
      diff: null,
      invalid_items: [],
    },
    items: [
      tool("search", "Search things.", true),
      tool("create_issue", "Open an issue."),
      { kind: "prompt", name: "greeting", title: null, description: null, definition: {} },
    ],
  };
}

export function exposed(overrides: Partial<Exposed> = {}): Exposed {
  return {
    tools: [
      {
        name: "gh_search",
        server_id: GITHUB.id,
        server_name: "github",
        upstream_name: "search",
        capability_class: "read",
        description: "Search things.",
        renamed_for_collision: false,
      },
      {
        name: "tickets_create_issue",
        server_id: TICKETS.id,
        server_name: "tickets",
        upstream_name: "create_issue",
        capability_class: "write",
        description: "Open an issue.",
        renamed_for_collision: true,
      },
    ],
    missing: [{ server_id: TICKETS.id, tool: "close_ticket" }],
    ...overrides,
  };
}

export const SERVERS = page([GITHUB, TICKETS]);

export const problem = (status: number, body: Record<string, unknown>) => ({
  status,
  body: { type: "/problems/validation-failed", title: "Invalid request", status, ...body },
});
