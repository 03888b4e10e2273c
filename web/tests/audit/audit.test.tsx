import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { setCsrfToken } from "../../src/api/client";
import type { components } from "../../src/api/schema";
import AuditPage from "../../src/pages/audit/AuditPage";
import { exportHref, validate, withOffset, formOf } from "../../src/pages/audit/filters";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";

type Entry = components["schemas"]["AuditEntry"];
type Report = components["schemas"]["VerifyReport"];
type Checkpoint = components["schemas"]["Checkpoint"];

const USER = "7d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a";

function entry(overrides: Partial<Entry> = {}): Entry {
  return {
    id: "0b9a4a57-3c8e-4d6c-9f57-1a2b3c4d5e6f",
    seq: 1042,
    occurred_at: "2026-11-28T10:15:02.123456Z",
    action: "org:server:registered",
    actor: {
      type: "api_key",
      id: "5f0c1d2e-8a9b-4c3d-9e8f-7a6b5c4d3e2f",
      display: "deploy key (sc_ab12cd34ef56)",
      user_id: USER,
      super_admin: false,
    },
    target: { type: "mcp_server", id: "3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d" },
    outcome: "success",
    request_id: "req_01JDX9Q7",
    ip: "203.0.113.7",
    user_agent: "curl/8.5.0",
    details: { name: "weather-eu", environment: "production" },
    leaf_index: 17,
    ...overrides,
  };
}

const CHECKPOINT: Checkpoint = {
  tree_size: 18,
  root_hash: "cm9vdA==",
  issued_at: "2026-11-28T10:16:00Z",
  key_id: "k1",
  signature: "c2ln",
  note: "sprintconnect/audit/x\n18\ncm9vdA==\n\n— k1 c2ln\n",
};

function handlers(items: Entry[] = [entry()]) {
  return {
    "GET /api/v1/audit/events": () => ({ body: { items, next_cursor: null } }),
    "GET /api/v1/audit/checkpoints/latest": () => ({ body: CHECKPOINT }),
  };
}

describe("Audit log", () => {
  it("lists entries: when, actor, action, target, outcome", async () => {
    mockApi(handlers([entry(), entry({ id: "e2", action: "org:api_key:auth_failed", outcome: "failure" })]));
    renderScreen(<AuditPage />, { path: "/audit" });
    const table = await screen.findByRole("table", { name: "Audit entries" });
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(table).getByText("org:server:registered")).toBeInTheDocument();
    expect(within(table).getAllByText("deploy key (sc_ab12cd34ef56)")).toHaveLength(2);
    expect(within(table).getByText("failure")).toBeInTheDocument();
    expect(within(table).getAllByText("mcp server")).toHaveLength(2);
    expect(screen.getByTestId("latest-checkpoint")).toHaveTextContent("18 entries");
  });

  it("says when nothing matches", async () => {
    mockApi(handlers([]));
    renderScreen(<AuditPage />, { path: "/audit?action=org:server:" });
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("No entries match");
  });

  it("shows the problem when the log cannot be read", async () => {
    mockApi({
      "GET /api/v1/audit/events": () => ({
        status: 403,
        body: { type: "/problems/insufficient-scope", title: "Forbidden", status: 403, detail: "Needs audit:read." },
      }),
    });
    renderScreen(<AuditPage />, { path: "/audit" });
    expect(await screen.findByRole("alert")).toHaveTextContent("Needs audit:read.");
  });

  it("sends the filters, and checks them first", { timeout: 20_000 }, async () => {
    const calls = mockApi(handlers());
    const user = userEvent.setup();
    renderScreen(<AuditPage />, { path: "/audit" });
    await screen.findByRole("table", { name: "Audit entries" });
    await user.type(screen.getByLabelText("Search"), "ab");
    await user.type(screen.getByLabelText("Action"), "Org Server");
    await user.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(screen.getByText("Search for 3 to 200 characters.")).toBeInTheDocument();
    expect(screen.getByText(/An audit tag like/)).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/v1/audit/events")).toHaveLength(1);

    await user.clear(screen.getByLabelText("Search"));
    await user.type(screen.getByLabelText("Search"), "weather-eu");
    await user.clear(screen.getByLabelText("Action"));
    await user.type(screen.getByLabelText("Action"), "org:server:");
    await user.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() => {
      const last = calls.filter((c) => c.path === "/api/v1/audit/events").at(-1)!;
      expect(last.query.get("q")).toBe("weather-eu");
      expect(last.query.get("action")).toBe("org:server:");
    });
  });

  it("shows the API's field error beside the field", async () => {
    mockApi({
      "GET /api/v1/audit/events": () => ({
        status: 422,
        body: {
          type: "/problems/validation-failed",
          title: "Invalid request",
          status: 422,
          detail: "The request is not valid.",
          errors: [{ loc: ["query", "to"], msg: "`from` must be before `to`.", type: "value_error" }],
        },
      }),
      "GET /api/v1/audit/checkpoints/latest": () => ({ body: CHECKPOINT }),
    });
    renderScreen(<AuditPage />, {
      path: "/audit?from=2026-11-28T10:00:00Z&to=2026-11-28T09:00:00Z",
    });
    expect(await screen.findByText("`from` must be before `to`.", { selector: "p, div" })).toBeInTheDocument();
  });

  it("clicking an actor shows all activity of the user behind it", async () => {
    const calls = mockApi(handlers());
    const user = userEvent.setup();
    renderScreen(<AuditPage />, { path: "/audit" });
    const table = await screen.findByRole("table", { name: "Audit entries" });
    await user.click(within(table).getByRole("button", { name: "deploy key (sc_ab12cd34ef56)" }));
    expect(await screen.findByTestId("actor-filter")).toHaveTextContent("Activity of deploy key");
    await waitFor(() => {
      const last = calls.filter((c) => c.path === "/api/v1/audit/events").at(-1)!;
      expect(last.query.get("actor_id")).toBe(USER);
    });
  });

  it("opens an entry with its details and, on demand, its inclusion proof", async () => {
    const calls = mockApi({
      ...handlers(),
      "GET /api/v1/audit/events/{id}/inclusion-proof": () => ({
        body: {
          event_id: entry().id,
          leaf_index: 17,
          tree_size: 18,
          leaf_hash: "bGVhZg==",
          root_hash: "cm9vdA==",
          proof: ["aGFzaDE=", "aGFzaDI="],
          checkpoint: CHECKPOINT,
        },
      }),
    });
    const user = userEvent.setup();
    renderScreen(<AuditPage />, { path: "/audit" });
    await user.click(await screen.findByRole("button", { name: /Open entry org:server:registered/ }));
    const details = await screen.findByTestId("audit-entry");
    expect(within(details).getByTestId("entry-details")).toHaveTextContent('"name": "weather-eu"');
    expect(within(details).getByTestId("leaf-index")).toHaveTextContent("17");
    expect(calls.some((c) => c.path.endsWith("/inclusion-proof"))).toBe(false);
    await user.click(within(details).getByRole("button", { name: "Show inclusion proof" }));
    expect(await within(details).findByTestId("inclusion-proof")).toHaveTextContent("Leaf 17 of a tree of 18");
  });

  it("verifies the log and shows the result", async () => {
    const report: Report = {
      status: "intact",
      tree_size: 18,
      pending: 2,
      checkpoint: {
        tree_size: 18,
        root_hash: "cm9vdA==",
        issued_at: "2026-11-28T10:16:00Z",
        key_id: "k1",
        signature_valid: true,
        root_matches: true,
      },
      problem: null,
      last_matching_checkpoint: 18,
      first_mismatching_checkpoint: null,
    };
    const calls = mockApi({ ...handlers(), "POST /api/v1/audit/verify": () => ({ body: report }) });
    setCsrfToken("csrf-test");
    const user = userEvent.setup();
    renderScreen(<AuditPage />, { path: "/audit" });
    await user.click(await screen.findByRole("button", { name: "Verify log" }));
    const result = await screen.findByTestId("verify-result");
    expect(result).toHaveTextContent("The log is intact");
    expect(result).toHaveTextContent("18 entries checked; 2 written since");
    expect(result).toHaveTextContent("signature valid, root matches");
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.headers.get("X-CSRF-Token")).toBe("csrf-test");
  });

  it("shows what failed when the log was tampered with", async () => {
    const report: Report = {
      status: "tampered",
      tree_size: 18,
      pending: 0,
      checkpoint: null,
      problem: { class: "edited", detail: "The entry no longer hashes to its leaf.", event_id: null, leaf_index: 4 },
      last_matching_checkpoint: null,
      first_mismatching_checkpoint: null,
    };
    mockApi({ ...handlers(), "POST /api/v1/audit/verify": () => ({ body: report }) });
    const user = userEvent.setup();
    renderScreen(<AuditPage />, { path: "/audit" });
    await user.click(await screen.findByRole("button", { name: "Verify log" }));
    expect(await screen.findByTestId("verify-problem")).toHaveTextContent("entry edited at leaf 4");
  });

  it("offers no verification without audit:manage", async () => {
    mockApi(handlers());
    renderScreen(<AuditPage />, {
      path: "/audit",
      me: fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "audit:manage") }),
    });
    await screen.findByRole("table", { name: "Audit entries" });
    expect(screen.queryByRole("button", { name: "Verify log" })).not.toBeInTheDocument();
  });

  it("exports with the filters shown", async () => {
    mockApi(handlers());
    const user = userEvent.setup();
    renderScreen(<AuditPage />, { path: "/audit?action=org:server:&q=weather" });
    await user.click(await screen.findByRole("button", { name: "Export" }));
    // The menu is still fading in (display: none) in jsdom.
    const csv = await screen.findByRole("menuitem", { name: "CSV", hidden: true });
    const href = new URL(csv.getAttribute("href")!, "http://x");
    expect(href.pathname).toBe("/api/v1/audit/events/export");
    expect(href.searchParams.get("format")).toBe("csv");
    expect(href.searchParams.get("action")).toBe("org:server:");
    expect(href.searchParams.get("q")).toBe("weather");
  });
});

describe("audit filters", () => {
  it("writes dates with an offset", () => {
    expect(withOffset("2026-11-28T10:15", "utc")).toBe("2026-11-28T10:15:00Z");
    expect(withOffset("2026-11-28T10:15", "local")).toMatch(/^2026-11-28T10:15:00[+-]\d{2}:\d{2}$/);
  });

  it("reads them back into the form", () => {
    const form = formOf({ from: "2026-11-28T10:15:00Z", to: "2026-11-29T00:00:00+02:00" });
    expect(form.from).toBe("2026-11-28T10:15");
    expect(form.zone).toBe("utc");
    expect(form.to).toBe("2026-11-29T00:00");
  });

  it("refuses a range that ends before it starts", () => {
    const form = { ...formOf({}), from: "2026-11-28T10:00", to: "2026-11-28T09:00" };
    expect(validate(form).to).toBe("Must be after From.");
  });

  it("builds the export link", () => {
    expect(exportHref({ outcome: "failure" }, "ndjson")).toBe(
      "/api/v1/audit/events/export?format=ndjson&outcome=failure",
    );
  });
});
