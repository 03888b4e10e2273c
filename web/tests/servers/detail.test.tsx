import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { components } from "../../src/api/schema";
import ServerDetail from "../../src/pages/servers/ServerDetail";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen, type Handler } from "../render";
import { fakeServer } from "./fixtures";

type S = components["schemas"];
const ID = "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11";
const ROUTE = "/servers/:serverId/*";

// The list's fake server, with the detail tests' own defaults.
function server(overrides: Partial<S["Server"]> = {}): S["Server"] {
  return fakeServer({ id: ID, tags: ["public"], auto_discover: false, ...overrides });
}

function discovery(overrides: Partial<S["DiscoveryOut"]> = {}): S["DiscoveryOut"] {
  return {
    id: "d1",
    discovery_id: "d1",
    server_id: ID,
    status: "succeeded",
    phase: null,
    force_refresh: false,
    outcome: "first",
    snapshot_version: 1,
    reason: null,
    error: null,
    guidance: null,
    attempts: 1,
    created_at: "2026-11-28T09:00:00Z",
    started_at: "2026-11-28T09:00:01Z",
    finished_at: "2026-11-28T09:00:02Z",
    estimated_completion_at: null,
    ...overrides,
  };
}

function snapshot(version: number, overrides: Partial<S["SnapshotSummary"]> = {}): S["SnapshotSummary"] {
  return {
    version,
    digest: `digest-${version}`,
    protocol_version: "2025-11-25",
    server_info: { name: "weather", version: "1.0.0" },
    counts: { tool: 2, prompt: 1 },
    diff: null,
    truncation: {},
    created_at: "2026-11-28T09:00:02Z",
    last_confirmed_at: "2026-11-28T09:00:02Z",
    invalid_items: [],
    ...overrides,
  };
}

const FORECAST_SCHEMA = {
  type: "object",
  required: ["city"],
  properties: {
    city: { type: "string", description: "The city's name" },
    units: { type: "string", enum: ["metric", "imperial"], default: "metric" },
    window: {
      $ref: "#/$defs/Window",
    },
  },
  $defs: {
    Window: {
      type: "object",
      required: ["days"],
      properties: { days: { type: "integer", description: "How many days" } },
    },
  },
};

function capabilities(version = 1, tools: S["CapabilityOut"][] = defaultTools()): S["Capabilities"] {
  return {
    server_id: ID,
    snapshot: snapshot(version),
    capabilities: { tools: { listChanged: true } },
    items: [
      ...tools,
      {
        kind: "prompt",
        name: "summarize",
        title: null,
        description: "Summarize a text",
        definition: { name: "summarize", arguments: [{ name: "text", required: true }] },
      },
    ],
  };
}

function defaultTools(): S["CapabilityOut"][] {
  return [
    {
      kind: "tool",
      name: "forecast",
      title: null,
      description: "A forecast for the next days",
      definition: { name: "forecast", description: "A forecast for the next days", inputSchema: FORECAST_SCHEMA },
    },
    {
      kind: "tool",
      name: "add",
      title: null,
      description: "Add two numbers",
      definition: {
        name: "add",
        description: "Add two numbers",
        inputSchema: { type: "object", properties: { a: { type: "integer" } }, required: ["a"] },
      },
    },
  ];
}

const health: S["HealthDetails"] = {
  server_id: ID,
  status: "unhealthy",
  status_changed_at: "2026-11-28T08:55:00Z",
  last_check_at: "2026-11-28T09:00:00Z",
  response_ms: 10003.2,
  error_class: "timeout",
  error: "The server did not answer within 10 s.",
  guidance: "The server did not answer in time. Check its load, or raise the timeout.",
  failure_streak: 2,
  unhealthy_since: "2026-11-28T08:55:00Z",
  next_check_at: "2026-11-28T09:05:00Z",
  interval_seconds: 300,
  check_type: "ping",
  enabled: true,
  thresholds: { failure_threshold: 3, degraded_after_seconds: 900, overridden: [], min_interval_seconds: 60 },
};

const history: S["HealthHistory"] = {
  server_id: ID,
  from: "2026-11-28T08:00:00Z",
  to: "2026-11-28T10:00:00Z",
  bucket: "hour",
  status_at_from: "healthy",
  timeline: [{ id: 812, at: "2026-11-28T08:55:00Z", from_status: "healthy", to_status: "unhealthy", reason: "timeout" }],
  next_cursor: null,
  checks: 24,
  failures: 2,
  uptime_percent: 91.667,
  response_ms: { p50: 11.9, p95: 24.4, p99: 10391.0, mean: 79.1 },
  buckets: [
    { start: "2026-11-28T08:00:00Z", end: "2026-11-28T09:00:00Z", checks: 12, failures: 2, uptime_percent: 83.333, p50_ms: 11.9, p95_ms: 10391, p99_ms: 10391 },
    { start: "2026-11-28T09:00:00Z", end: "2026-11-28T10:00:00Z", checks: 12, failures: 0, uptime_percent: 100, p50_ms: 11.2, p95_ms: 14, p99_ms: 15 },
  ],
};

function base(extra: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    "GET /api/v1/servers/{id}/discoveries": () => ({ body: { items: [discovery()], next_cursor: null } }),
    "GET /api/v1/servers/{id}/capabilities": () => ({ body: capabilities() }),
    "GET /api/v1/servers/{id}/snapshots": () => ({ body: { items: [snapshot(1)], next_cursor: null } }),
    "GET /api/v1/servers/{id}/health/history": () => ({ body: history }),
    "GET /api/v1/servers/{id}/health": () => ({ body: health }),
    "GET /api/v1/servers/{id}": () => ({ body: server() }),
    ...extra,
  };
}

/** The card of one capability, once it shows. */
async function card(name: string): Promise<HTMLElement> {
  return waitFor(() => {
    const found = document.querySelector<HTMLElement>(`[data-testid="capability"][data-name="${name}"]`);
    if (!found) throw new Error(`no capability ${name}`);
    return found;
  });
}

function shown(name: string): boolean {
  return document.querySelector(`[data-testid="capability"][data-name="${name}"]`) !== null;
}

function open(path = `/servers/${ID}`, me = fakeMe()) {
  return renderScreen(<ServerDetail />, { path, route: ROUTE, me });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("ServerDetail header", () => {
  it("shows the server's name, URL, environment and health, with Edit and Delete", async () => {
    mockApi(base());
    open();
    expect(await screen.findByRole("heading", { level: 1, name: "weather" })).toBeInTheDocument();
    expect(screen.getByText("https://mcp.example.com/mcp")).toBeInTheDocument();
    expect(screen.getByTestId("server-environment")).toHaveTextContent("staging");
    expect(within(screen.getByTestId("server-facts")).getByText("Healthy")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Edit" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Delete" })).toBeInTheDocument();
  });

  it("shows the problem's detail when the server cannot be read", async () => {
    mockApi({
      "GET /api/v1/servers/{id}": () => ({
        status: 404,
        body: { type: "/problems/server-not-found", title: "MCP server not found", status: 404, detail: "No MCP server has that id." },
      }),
    });
    open();
    expect(await screen.findByText("No MCP server has that id.")).toBeInTheDocument();
  });

  it("offers no write actions to a viewer", async () => {
    mockApi(base());
    const viewer = fakeMe({ permissions: ["servers:read", "capabilities:read", "discovery:read", "health:read"], roles: ["viewer"] });
    open(`/servers/${ID}`, viewer);
    await screen.findByRole("heading", { level: 1, name: "weather" });
    await card("forecast");
    expect(screen.queryByRole("button", { name: "Edit" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Discover capabilities" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Force refresh" })).not.toBeInTheDocument();
  });

  it("deletes the server after confirmation", async () => {
    const calls = mockApi(base({ "DELETE /api/v1/servers/{id}": () => ({ status: 204 }) }));
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Delete" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete server" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === `/api/v1/servers/${ID}`)).toBe(true));
  });
});

describe("Capabilities", () => {
  it("lists tools with their input schemas as field tables, nested fields indented", async () => {
    mockApi(base());
    open();
    const forecast = await card("forecast");
    const city = forecast.querySelector('tr[data-field="city"]') as HTMLElement;
    expect(city).toHaveTextContent("string");
    expect(city).toHaveTextContent("required");
    expect(city).toHaveTextContent("The city's name");
    const units = forecast.querySelector('tr[data-field="units"]') as HTMLElement;
    expect(units).toHaveTextContent("metric, imperial");
    expect(units).toHaveTextContent("optional");
    expect(forecast.querySelector('tr[data-field="window"]')).toHaveTextContent("Window");
    expect(forecast.querySelector('tr[data-field="window.days"]')).toHaveTextContent("How many days");
    expect(screen.getByRole("heading", { name: "Tools" })).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Prompts" })).toBeInTheDocument();
    expect(screen.getByTestId("snapshot-summary")).toHaveTextContent("2 tools · 1 prompt");

    await userEvent.click(within(forecast).getByRole("button", { name: "Show raw JSON of forecast" }));
    expect(await within(forecast).findByText(/"inputSchema"/)).toBeInTheDocument();
  });

  it("filters the capabilities by name or description", async () => {
    mockApi(base());
    open();
    await card("add");
    await userEvent.type(screen.getByLabelText("Filter capabilities"), "numbers");
    expect(shown("forecast")).toBe(false);
    expect(shown("add")).toBe(true);
  });

  it("says so when nothing was discovered yet", async () => {
    mockApi(
      base({
        "GET /api/v1/servers/{id}/discoveries": () => ({ body: { items: [], next_cursor: null } }),
        "GET /api/v1/servers/{id}/capabilities": () => ({
          status: 404,
          body: { type: "/problems/snapshot-not-found", title: "Capability snapshot not found", status: 404, detail: "none" },
        }),
      }),
    );
    open();
    expect(await screen.findByText(/No capabilities yet/)).toBeInTheDocument();
    expect(screen.getByText("No discovery has run for this server yet.")).toBeInTheDocument();
  });

  it("starts a discovery, shows its progress and estimate, then what it recorded", async () => {
    let polls = 0;
    const running = discovery({
      id: "d2",
      discovery_id: "d2",
      status: "in_progress",
      phase: "listing_tools",
      outcome: null,
      snapshot_version: null,
      finished_at: null,
      started_at: new Date().toISOString(),
      estimated_completion_at: new Date(Date.now() + 60_000).toISOString(),
    });
    const calls = mockApi(
      base({
        "POST /api/v1/servers/{id}/discoveries": () => ({ status: 202, body: { ...running, status: "queued", phase: null } }),
        "GET /api/v1/discoveries/{id}": () => {
          polls += 1;
          return {
            body:
              polls < 2
                ? running
                : { ...running, status: "succeeded", phase: null, outcome: "changed", snapshot_version: 2, estimated_completion_at: null, finished_at: new Date().toISOString() },
          };
        },
      }),
    );
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Discover capabilities" }));
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({ force_refresh: false });
    expect(await screen.findByTestId("discovery-progress")).toHaveTextContent(/Queued|In progress/);
    expect(screen.getByTestId("discovery-eta")).toHaveTextContent(/Estimated completion in (\d+ seconds|1 minute)/);
    await waitFor(() => expect(screen.getByTestId("discovery-result")).toHaveTextContent("Changes found: version 2 recorded."), {
      timeout: 4000,
    });
  });

  it("sends force_refresh for Force refresh", async () => {
    const calls = mockApi(
      base({
        "POST /api/v1/servers/{id}/discoveries": () => ({ status: 202, body: discovery({ id: "d3", status: "queued", outcome: null, force_refresh: true }) }),
        "GET /api/v1/discoveries/{id}": () => ({ body: discovery({ id: "d3", force_refresh: true, outcome: "refreshed", snapshot_version: 2 }) }),
      }),
    );
    open();
    await userEvent.click(await screen.findByRole("button", { name: "Force refresh" }));
    await waitFor(() => expect(calls.find((c) => c.method === "POST")?.body).toEqual({ force_refresh: true }));
  });

  it("shows why the last discovery failed and what to do", async () => {
    mockApi(
      base({
        "GET /api/v1/servers/{id}/discoveries": () => ({
          body: {
            items: [
              discovery({
                status: "failed",
                outcome: null,
                snapshot_version: null,
                reason: "connection_refused",
                error: "connection refused by 127.0.0.1:9",
                guidance: "Nothing accepted the connection. Check that the server runs.",
              }),
            ],
            next_cursor: null,
          },
        }),
      }),
    );
    open();
    const result = await screen.findByTestId("discovery-result");
    expect(result).toHaveTextContent("The discovery failed: the connection was refused");
    expect(result).toHaveTextContent("connection refused by 127.0.0.1:9");
    expect(result).toHaveTextContent("What to do: Nothing accepted the connection.");
  });
});

describe("A discovery that ran out of time", () => {
  it("says it timed out, with guidance", async () => {
    mockApi(
      base({
        "GET /api/v1/servers/{id}/discoveries": () => ({
          body: {
            items: [
              discovery({
                status: "timed_out",
                outcome: null,
                snapshot_version: null,
                reason: "timeout",
                error: "the discovery took longer than 60 s",
                guidance: "The server did not answer in time. Check its load, or raise the timeout.",
              }),
            ],
            next_cursor: null,
          },
        }),
      }),
    );
    open();
    const result = await screen.findByTestId("discovery-result");
    expect(result).toHaveTextContent("The discovery timed out");
    expect(result).toHaveTextContent("What to do: The server did not answer in time.");
  });
});

describe("Snapshots", () => {
  it("lists the versions and shows added, removed and modified with before and after", async () => {
    const v2tools: S["CapabilityOut"][] = [
      {
        kind: "tool",
        name: "forecast",
        title: null,
        description: "A longer forecast",
        definition: { name: "forecast", description: "A longer forecast", inputSchema: FORECAST_SCHEMA },
      },
      { kind: "tool", name: "alerts", title: null, description: null, definition: { name: "alerts", inputSchema: { type: "object" } } },
    ];
    mockApi(
      base({
        "GET /api/v1/servers/{id}/snapshots": () => ({
          body: {
            items: [
              snapshot(2, {
                diff: { added: [{ kind: "tool", name: "alerts" }], removed: [{ kind: "tool", name: "add" }], modified: [{ kind: "tool", name: "forecast", fields: ["description"] }], unchanged: 1, server_changed: [] },
              }),
              snapshot(1),
            ],
            next_cursor: null,
          },
        }),
        "GET /api/v1/servers/{id}/discoveries": () => ({
          body: { items: [discovery({ id: "d2", outcome: "changed", snapshot_version: 2, force_refresh: true }), discovery()], next_cursor: null },
        }),
        "GET /api/v1/servers/{id}/capabilities": (call) => ({
          body: call.query.get("version") === "2" ? capabilities(2, v2tools) : capabilities(1),
        }),
        "GET /api/v1/servers/{id}/snapshots/{a}/diff/{b}": () => ({
          body: {
            server_id: ID,
            from_version: 1,
            to_version: 2,
            added: [{ kind: "tool", name: "alerts" }],
            removed: [{ kind: "tool", name: "add" }],
            modified: [{ kind: "tool", name: "forecast", fields: ["description"] }],
            unchanged: 1,
            server_changed: [],
          },
        }),
      }),
    );
    open(`/servers/${ID}/snapshots`);
    const v2 = await screen.findByText("v2");
    const row = v2.closest("tr") as HTMLElement;
    expect(row).toHaveTextContent("1 added, 1 removed, 1 modified");
    expect(row).toHaveTextContent("Forced refresh");
    expect((screen.getByText("v1").closest("tr") as HTMLElement)).toHaveTextContent("First discovery");
    expect(screen.getByLabelText("From")).toHaveValue("1");
    expect(screen.getByLabelText("To")).toHaveValue("2");
    expect(await screen.findByTestId("diff-added")).toHaveTextContent("alerts");
    expect(screen.getByTestId("diff-removed")).toHaveTextContent("add");
    const modified = screen.getByTestId("diff-modified");
    expect(modified).toHaveTextContent("forecast");
    expect(await within(modified).findByText('"A forecast for the next days"')).toBeInTheDocument();
    expect(within(modified).getByText('"A longer forecast"')).toBeInTheDocument();
  });

  it("says when there is nothing to compare yet", async () => {
    mockApi(base({ "GET /api/v1/servers/{id}/snapshots": () => ({ body: { items: [], next_cursor: null } }) }));
    open(`/servers/${ID}/snapshots`);
    expect(await screen.findByText(/No snapshots yet/)).toBeInTheDocument();
  });
});

describe("Health", () => {
  it("shows the details, the last error with guidance, uptime and percentiles", async () => {
    mockApi(base());
    open(`/servers/${ID}/health`);
    expect(await screen.findByTestId("health-response")).toHaveTextContent("10003.2 ms");
    expect(screen.getByTestId("health-status")).toHaveTextContent("Unhealthy");
    expect(screen.getByTestId("health-error")).toHaveTextContent("The server did not answer within 10 s.");
    expect(screen.getByTestId("health-error")).toHaveTextContent("What to do: The server did not answer in time.");
    expect(await screen.findByTestId("health-uptime")).toHaveTextContent("91.67 %");
    expect(screen.getByTestId("health-percentiles")).toHaveTextContent("11.9 / 24.4 / 10391.0 ms");
    expect(screen.getByTestId("health-timeline")).toHaveTextContent("timeout");
    expect(screen.getByRole("img", { name: "2 hours with checks, 1 with failures" })).toBeInTheDocument();
  });

  it("runs Check now and shows the result", async () => {
    const calls = mockApi(
      base({
        "POST /api/v1/servers/{id}/health/checks": () => ({
          body: {
            server_id: ID,
            checked_at: "2026-11-28T09:01:00Z",
            check_type: "ping",
            trigger: "manual",
            outcome: "healthy",
            response_ms: 11.5,
            error_class: null,
            message: null,
            status: "healthy",
            previous_status: "unhealthy",
            failure_streak: 0,
            discovery_id: null,
          },
        }),
      }),
    );
    open(`/servers/${ID}/health`);
    await userEvent.click(await screen.findByRole("button", { name: "Check now" }));
    expect(await screen.findByText("In 11.5 ms.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.path === `/api/v1/servers/${ID}/health/checks`)).toBe(true);
  });

  it("refuses an interval below the organization's minimum before sending it", async () => {
    const calls = mockApi(base());
    open(`/servers/${ID}/health`);
    const interval = await screen.findByLabelText(/Check interval/);
    await userEvent.clear(interval);
    await userEvent.type(interval, "30");
    await userEvent.click(screen.getByRole("button", { name: "Save check settings" }));
    expect(await screen.findByText(/organization's minimum is 60/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
  });

  it("saves the check settings in the server's health block", async () => {
    const calls = mockApi(
      base({
        "PATCH /api/v1/servers/{id}": (call) => ({
          body: server({ health: { ...server().health, ...(call.body as { health: object }).health } as S["ServerHealthSummary"] }),
        }),
      }),
    );
    open(`/servers/${ID}/health`);
    const interval = await screen.findByLabelText(/Check interval/);
    await userEvent.clear(interval);
    await userEvent.type(interval, "600");
    fireEvent.change(screen.getByLabelText("Check type"), { target: { value: "capability" } });
    await userEvent.type(screen.getByLabelText("Failures before degraded"), "5");
    await userEvent.click(screen.getByRole("button", { name: "Save check settings" }));
    await waitFor(() => expect(calls.find((c) => c.method === "PATCH")).toBeDefined());
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({
      health: { interval_seconds: 600, check_type: "capability", enabled: true, failure_threshold: 5, degraded_after_seconds: null },
    });
    expect(await screen.findByText("weather is checked every 10 minutes.")).toBeInTheDocument();
  });

  it("shows the API's field error beside the interval", async () => {
    mockApi(
      base({
        "PATCH /api/v1/servers/{id}": () => ({
          status: 422,
          body: {
            type: "/problems/health-interval-below-minimum",
            title: "The check interval is below the organization's minimum",
            status: 422,
            detail: "At least 120 seconds.",
            errors: [
              { loc: ["body", "health", "interval_seconds"], msg: "must be at least 120", type: "value_error" },
            ],
          },
        }),
      }),
    );
    open(`/servers/${ID}/health`);
    await userEvent.click(await screen.findByRole("button", { name: "Save check settings" }));
    expect(await screen.findByLabelText(/Check interval/)).toHaveAccessibleDescription(/must be at least 120/);
  });

  it("hides Check now and the settings without health:write", async () => {
    mockApi(base());
    const reader = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "health:write") });
    open(`/servers/${ID}/health`, reader);
    await screen.findByTestId("health-response");
    expect(screen.queryByRole("button", { name: "Check now" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save check settings" })).not.toBeInTheDocument();
  });
});
