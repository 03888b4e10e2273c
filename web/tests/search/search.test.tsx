import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router";
import { describe, expect, it } from "vitest";

import type { components } from "../../src/api/schema";
import SearchPage from "../../src/pages/search/SearchPage";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen, type Call } from "../render";

type SearchPage = components["schemas"]["SearchPage"];
type Server = components["schemas"]["Server"];

function server(name: string, overrides: Partial<Server> = {}): Server {
  return {
    id: `00000000-0000-0000-0000-${name.padStart(12, "0").slice(-12)}`,
    name,
    url: `https://${name}.example.com/mcp`,
    transport: "streamable_http",
    environment: "staging",
    tags: ["public"],
    description: `The ${name} server`,
    status: "active",
    auto_discover: true,
    auth: { type: "none", configured: false },
    health: {
      status: "healthy",
      check_type: "ping",
      enabled: true,
      interval_seconds: 300,
      last_check_at: "2026-11-28T09:00:00Z",
      response_ms: 12,
      degraded_after_seconds: null,
      failure_threshold: null,
    },
    health_check_interval_seconds: 300,
    created_at: "2026-11-01T00:00:00Z",
    updated_at: "2026-11-01T00:00:00Z",
    created_by_user_id: null,
    last_discovered_at: "2026-11-01T00:01:00Z",
    redacted: [],
    ...overrides,
  };
}

function answer(items: SearchPage["items"], extra: Partial<SearchPage["search"]> = {}): SearchPage {
  return {
    items,
    next_cursor: null,
    search: {
      query: { capabilities: ["weather"], kind: "tool", match: "words" },
      filters: { environment: null, tags: [], status: null, health: null },
      total: items.length,
      removed_by_policy: 0,
      took_ms: 4.2,
      cached: false,
      fuzzy_engine: "none",
      ...extra,
    },
  };
}

const WEATHER: SearchPage["items"][number] = {
  server: server("alpha"),
  score: 0.7333,
  health: { status: "healthy", last_check_at: "2026-11-28T09:00:00Z", response_ms: 12.5 },
  capabilities: [
    {
      kind: "tool",
      name: "get_weather_forecast",
      title: null,
      description: "Forecast for the next days",
      definition: { name: "get_weather_forecast" },
      snapshot_version: 3,
      score: 0.7333,
      matched_term: "weather",
      matched_on: "name",
      redacted: [],
    },
    {
      kind: "tool",
      name: "sky",
      title: null,
      description: "Is it raining? Weather now",
      definition: {},
      snapshot_version: 3,
      score: 0.41,
      matched_term: "weather",
      matched_on: "description",
      redacted: [],
    },
  ],
};

function Where() {
  const location = useLocation();
  return <output data-testid="location">{location.search}</output>;
}

function searches(calls: Call[]): Call[] {
  return calls.filter((c) => c.path === "/api/v1/discovery/servers");
}

describe("Find servers", () => {
  it("shows each server with the capabilities that matched, why, and the score", async () => {
    mockApi({ "GET /api/v1/discovery/servers": () => ({ body: answer([WEATHER], { removed_by_policy: 2 }) }) });
    renderScreen(<SearchPage />, { path: "/search?q=weather" });

    const card = (await screen.findByRole("link", { name: "alpha" })).closest("article")!;
    expect(within(card).getByText("get_weather_forecast")).toBeInTheDocument();
    expect(within(card).getByText("matches “weather” by its name")).toBeInTheDocument();
    expect(within(card).getByText("matches “weather” by its description")).toBeInTheDocument();
    expect(within(card).getByText("score 0.73")).toBeInTheDocument();
    expect(screen.getByTestId("hidden-by-policy")).toHaveTextContent("2 servers hidden by policy");
    expect(screen.getByLabelText("Capabilities")).toHaveValue("weather");
  });

  it("searches as you type, once typing pauses, and keeps the query in the URL", async () => {
    const calls = mockApi({ "GET /api/v1/discovery/servers": () => ({ body: answer([WEATHER]) }) });
    renderScreen(
      <>
        <SearchPage />
        <Where />
      </>,
      { path: "/search" },
    );
    await userEvent.type(screen.getByLabelText("Capabilities"), "weather");
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("?q=weather"));
    await screen.findByText("get_weather_forecast");
    const sent = searches(calls).map((c) => c.query.get("capability"));
    // The first (empty) search lists by filters; then one search for the whole word, not per key.
    expect(sent).toEqual([null, "weather"]);
  });

  it("sends the match mode and the filters", async () => {
    const calls = mockApi({ "GET /api/v1/discovery/servers": () => ({ body: answer([WEATHER]) }) });
    renderScreen(<SearchPage />, { path: "/search?q=wether" });
    await screen.findByText("get_weather_forecast");

    await userEvent.click(screen.getByRole("radio", { name: "Fuzzy" }));
    await userEvent.selectOptions(screen.getByLabelText("Status"), "active");
    await userEvent.type(screen.getByLabelText("Environment"), "production");
    await waitFor(() => {
      const last = searches(calls).at(-1)!;
      expect(last.query.get("environment")).toBe("production");
    });
    const last = searches(calls).at(-1)!;
    expect(last.query.get("capability")).toBe("wether");
    expect(last.query.get("match")).toBe("fuzzy");
    expect(last.query.get("status")).toBe("active");
  });

  it("says when nothing matched", async () => {
    mockApi({ "GET /api/v1/discovery/servers": () => ({ body: answer([]) }) });
    renderScreen(<SearchPage />, { path: "/search?q=teleport" });
    expect(await screen.findByTestId("empty-state")).toHaveTextContent(
      "No server you may see offers a capability matching “teleport”",
    );
  });

  it("shows a rejected term beside the search box and the problem's detail", async () => {
    mockApi({
      "GET /api/v1/discovery/servers": () => ({
        status: 422,
        body: {
          type: "/problems/validation-failed",
          title: "The request is not valid",
          status: 422,
          detail: "'we#ther' is not a capability name to search for.",
          errors: [
            { loc: ["query", "capability"], msg: "'we#ther' is not a capability name to search for.", type: "validation-failed" },
          ],
        },
      }),
    });
    renderScreen(<SearchPage />, { path: "/search?q=we%23ther" });
    const box = screen.getByLabelText("Capabilities");
    await waitFor(() => expect(box).toHaveAttribute("aria-invalid", "true"));
    expect(screen.getByRole("alert")).toHaveTextContent("not a capability name");
  });

  it("shows a failed search's detail", async () => {
    mockApi({
      "GET /api/v1/discovery/servers": () => ({
        status: 403,
        body: {
          type: "/problems/policy-denied",
          title: "Denied by policy",
          status: 403,
          detail: "Policy evaluation failed, so no results are returned.",
        },
      }),
    });
    renderScreen(<SearchPage />, { path: "/search?q=weather" });
    expect(await screen.findByRole("alert")).toHaveTextContent("Policy evaluation failed");
  });

  it("asks nothing without discovery:read", async () => {
    const calls = mockApi({});
    renderScreen(<SearchPage />, {
      me: fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "discovery:read") }),
    });
    expect(screen.getByText(/needs the discovery:read permission/)).toBeInTheDocument();
    expect(screen.queryByLabelText("Capabilities")).not.toBeInTheDocument();
    expect(searches(calls)).toHaveLength(0);
  });
});
