import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import SettingsPage from "../../src/pages/settings/SettingsPage";
import { timeZones } from "../../src/pages/settings/GeneralTab";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";
import { org, policy, prefs, problem, provider } from "./fixtures";

const VIEWER = ["servers:read", "capabilities:read", "discovery:read", "health:read", "org:read"];

function at(tab: string | null, permissions = ALL_PERMISSIONS) {
  return renderScreen(<SettingsPage />, {
    path: tab ? `/settings?tab=${tab}` : "/settings",
    me: fakeMe({ permissions }),
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("Settings: general", () => {
  it("shows the organization's name, time zone and limits", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org({ time_zone: "Europe/Berlin", server_quota: 25 }) }) });
    at(null);
    expect(await screen.findByLabelText(/^Name/)).toHaveValue("Acme");
    expect(screen.getByRole("combobox", { name: "Time zone" })).toHaveValue("Europe/Berlin");
    expect(screen.getByTestId("server-quota")).toHaveTextContent("25 servers");
  });

  it("saves a new time zone chosen from the searchable list", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization": () => ({ body: org() }),
      "PATCH /api/v1/organization": (call) => ({ body: org(call.body as object) }),
    });
    at(null);
    const zone = await screen.findByRole("combobox", { name: "Time zone" });
    await user.click(zone);
    await user.clear(zone);
    await user.type(zone, "Europe/Berl");
    await user.click(await screen.findByRole("option", { name: "Europe/Berlin", hidden: true }));
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.body).toEqual({ time_zone: "Europe/Berlin" });
  }, 15_000);

  it("refuses an empty name before asking the API", async () => {
    const user = userEvent.setup();
    const calls = mockApi({ "GET /api/v1/organization": () => ({ body: org() }) });
    at(null);
    await user.clear(await screen.findByLabelText(/^Name/));
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Enter the organization's name.")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(0);
  });

  it("shows the API's field error beside the field", async () => {
    const user = userEvent.setup();
    mockApi({
      "GET /api/v1/organization": () => ({ body: org() }),
      "PATCH /api/v1/organization": () =>
        problem(422, "validation-failed", "body.name: too long", [
          { loc: ["body", "name"], msg: "String should have at most 200 characters", type: "string_too_long" },
        ]),
    });
    at(null);
    const name = await screen.findByLabelText(/^Name/);
    await user.type(name, " Corp");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("String should have at most 200 characters")).toBeInTheDocument();
  });

  it("is read-only without org:write", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org() }) });
    at(null, VIEWER);
    expect(await screen.findByLabelText(/^Name/)).toHaveAttribute("readonly");
    expect(screen.getByText("Read-only")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save" })).not.toBeInTheDocument();
  });

  it("shows the problem when the organization cannot be read", async () => {
    mockApi({ "GET /api/v1/organization": () => problem(500, "internal-error", "The database is away.") });
    at(null);
    expect(await screen.findByText("The database is away.")).toBeInTheDocument();
  });

  it("offers the browser's IANA zones and keeps the current one", () => {
    const zones = timeZones("Etc/Unknown-Zone");
    expect(zones).toContain("UTC");
    expect(zones).toContain("Etc/Unknown-Zone");
    expect(zones.length).toBeGreaterThan(100);
  });
});

describe("Settings: egress allowlist", () => {
  it("lists the entries with their kind", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org({ egress_allowlist: ["*.tools.example.com", "10.20.0.0/16"] }) }) });
    at("egress");
    const rows = await screen.findAllByTestId("allowlist-entry");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText("Subdomains")).toBeInTheDocument();
    expect(within(rows[1]!).getByText("Network")).toBeInTheDocument();
  });

  it("says so when there is no allowlist", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org() }) });
    at("egress");
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("No allowlist");
  });

  it("adds an entry to the list", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization": () => ({ body: org({ egress_allowlist: ["a.example.com"] }) }),
      "PATCH /api/v1/organization": (call) => ({ body: org(call.body as object) }),
    });
    at("egress");
    await user.type(await screen.findByLabelText("New entry"), "mcp.example.com");
    await user.click(screen.getByRole("button", { name: "Add entry" }));
    await waitFor(() => expect(screen.getAllByTestId("allowlist-entry")).toHaveLength(2));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({
      egress_allowlist: ["a.example.com", "mcp.example.com"],
    });
  });

  it("shows the API's refusal of an entry at the entry", async () => {
    const user = userEvent.setup();
    mockApi({
      "GET /api/v1/organization": () => ({ body: org() }),
      "PATCH /api/v1/organization": () =>
        problem(422, "validation-failed", "body.egress_allowlist: bad", [
          {
            loc: ["body", "egress_allowlist"],
            msg: "Value error, not a host name, IP address or CIDR: 'not a host'",
            type: "value_error",
          },
        ]),
    });
    at("egress");
    const input = await screen.findByLabelText("New entry");
    await user.type(input, "not a host");
    await user.click(screen.getByRole("button", { name: "Add entry" }));
    expect(await screen.findByText("not a host name, IP address or CIDR: 'not a host'")).toBeInTheDocument();
    expect(input).toHaveAttribute("aria-invalid", "true");
  });

  it("removes an entry after a confirmation", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization": () => ({ body: org({ egress_allowlist: ["a.example.com", "b.example.com"] }) }),
      "PATCH /api/v1/organization": (call) => ({ body: org(call.body as object) }),
    });
    at("egress");
    await user.click(await screen.findByRole("button", { name: "Remove a.example.com" }));
    await user.click(await screen.findByRole("button", { name: "Remove" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ egress_allowlist: ["b.example.com"] });
  });

  it("offers no changes without org:write", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org({ egress_allowlist: ["a.example.com"] }) }) });
    at("egress", VIEWER);
    await screen.findAllByTestId("allowlist-entry");
    expect(screen.queryByLabelText("New entry")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Remove/ })).not.toBeInTheDocument();
  });
});

describe("Settings: identity provider", () => {
  it("shows an empty state when the organization has none", async () => {
    mockApi({
      "GET /api/v1/organization/identity-provider": () =>
        problem(404, "identity-provider-not-found", "This organization has no identity provider."),
    });
    at("identity");
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("no identity provider yet");
    expect(screen.getByRole("button", { name: "Set up an identity provider" })).toBeInTheDocument();
  });

  it("shows the redirect URI and sign-in link to copy, and the group mapping", async () => {
    mockApi({ "GET /api/v1/organization/identity-provider": () => ({ body: provider() }) });
    at("identity");
    expect(await screen.findByTestId("redirect-uri")).toHaveTextContent("https://sc.acme.example/auth/callback");
    expect(screen.getByTestId("login-url")).toHaveTextContent("/auth/login?org=acme");
    expect(screen.getByRole("button", { name: "Copy redirect uri" })).toBeInTheDocument();
    expect(screen.getByLabelText("Group 1")).toHaveValue("engineers");
    expect(screen.getByLabelText("Client secret")).toHaveAttribute("placeholder", "set");
  });

  it("saves without the secret unless one is typed", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization/identity-provider": () => ({ body: provider() }),
      "PUT /api/v1/organization/identity-provider": () => ({ body: provider() }),
      "GET /api/v1/roles": () => ({ body: { items: [], next_cursor: null } }),
    });
    at("identity");
    await user.click(await screen.findByRole("button", { name: "Add a group mapping" }));
    await user.type(screen.getByLabelText("Group 2"), "auditors");
    await user.type(screen.getAllByLabelText("Roles of group 2").find((e) => e.tagName === "INPUT")!, "analyst{Enter}");
    await user.click(screen.getByRole("button", { name: "Save provider" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const body = calls.find((c) => c.method === "PUT")!.body as Record<string, unknown>;
    expect(body).not.toHaveProperty("client_secret");
    expect(body.group_roles).toEqual({ engineers: ["engineer"], auditors: ["analyst"] });
    expect(body.issuer).toBe("https://idp.acme.example");

    await user.type(screen.getByLabelText("Client secret"), "s3cret-value");
    await user.click(screen.getByRole("button", { name: "Save provider" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PUT")).toHaveLength(2));
    expect(calls.filter((c) => c.method === "PUT")[1]!.body).toHaveProperty("client_secret", "s3cret-value");
  }, 20_000);

  it("shows an unknown mapped role at its group", async () => {
    const user = userEvent.setup();
    mockApi({
      "GET /api/v1/organization/identity-provider": () => ({ body: provider() }),
      "PUT /api/v1/organization/identity-provider": () =>
        problem(422, "unknown-mapped-role", "Group 'engineers' maps to the role 'engineer'...", [
          { loc: ["body", "group_roles", "engineers"], msg: "No role 'engineer' here.", type: "unknown-mapped-role" },
        ]),
      "GET /api/v1/roles": () => ({ body: { items: [], next_cursor: null } }),
    });
    at("identity");
    expect(await screen.findByRole("button", { name: "Save provider" })).toBeDisabled();
    await user.type(screen.getByLabelText("Access token audience"), "api://sc");
    await user.click(screen.getByRole("button", { name: "Save provider" }));
    expect(await screen.findByText("No role 'engineer' here.")).toBeInTheDocument();
    expect(screen.getByLabelText("Group 1")).toHaveAttribute("aria-invalid", "true");
  });

  it("removes the provider after a confirmation", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization/identity-provider": () => ({ body: provider() }),
      "DELETE /api/v1/organization/identity-provider": () => ({ status: 204 }),
      "GET /api/v1/roles": () => ({ body: { items: [], next_cursor: null } }),
    });
    at("identity");
    await user.click(await screen.findByRole("button", { name: "Remove provider" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Remove provider" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE")).toBe(true));
    expect(await screen.findByTestId("empty-state")).toBeInTheDocument();
  });

  it("is read-only without org:write", async () => {
    mockApi({ "GET /api/v1/organization/identity-provider": () => ({ body: provider() }) });
    at("identity", VIEWER);
    expect(await screen.findByLabelText(/^Issuer URL/)).toHaveAttribute("readonly");
    expect(screen.queryByRole("button", { name: "Save provider" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Remove provider" })).not.toBeInTheDocument();
    expect(screen.getByLabelText("Client secret")).toHaveValue("set");
  });
});

describe("Settings: notifications and escalation", () => {
  it("saves my preferences, keeping the stored Slack URL", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/me/notification-preferences": () => ({ body: prefs() }),
      "PUT /api/v1/me/notification-preferences": () => ({ body: prefs() }),
    });
    at("notifications");
    await user.click(await screen.findByLabelText("A server recovers"));
    await user.click(screen.getByRole("button", { name: "Save preferences" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const body = calls.find((c) => c.method === "PUT")!.body as Record<string, Record<string, unknown>>;
    expect(body.slack).toEqual({ enabled: false });
    expect(body.email).toEqual({ enabled: true, address: null });
    expect(body.events).toEqual(["server.health.degraded", "server.health.unhealthy"]);
  });

  it("shows the escalation policy, read-only without health:write", async () => {
    mockApi({ "GET /api/v1/health/escalation-policy": () => ({ body: policy() }) });
    at("escalation", VIEWER);
    expect(await screen.findByText("Default policy")).toBeInTheDocument();
    expect(screen.getByText("1 member chosen by id is notified too.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save policy" })).not.toBeInTheDocument();
  });

  it("hides the notification tabs without health:read", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org() }) });
    at(null, ["org:read"]);
    await screen.findByLabelText(/^Name/);
    expect(screen.queryByRole("tab", { name: "My notifications" })).not.toBeInTheDocument();
    expect(screen.getByRole("tab", { name: "Egress allowlist" })).toBeInTheDocument();
  });
});
