import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ServerFormModal } from "../../src/pages/servers/ServerForm";
import { mockApi, renderScreen, type Call } from "../render";
import { fakeServer, page } from "./fixtures";

// Typing into Mantine inputs under jsdom is slow; these tests type a lot.
vi.setConfig({ testTimeout: 20_000 });

const NO_CLASH = { "GET /api/v1/servers": () => ({ body: page([]) }) };

function registered(name = "weather") {
  return {
    server: fakeServer({ name, status: "pending_discovery", last_discovered_at: null }),
    discovery_id: "d1",
    next_steps: ["Check connectivity and credentials: POST /api/v1/servers/x/connection-check"],
  };
}

async function fillRequired(name = "weather", url = "https://mcp.example.com/mcp") {
  await userEvent.type(screen.getByLabelText(/^Name/), name);
  await userEvent.type(screen.getByLabelText(/^URL/), url);
}

const posted = (calls: Call[]) => calls.find((c) => c.method === "POST" && c.path === "/api/v1/servers");

describe("ServerFormModal", () => {
  it("checks the URL as it is typed: scheme and no credentials", async () => {
    mockApi(NO_CLASH);
    renderScreen(<ServerFormModal opened onClose={() => {}} />);
    const url = await screen.findByLabelText(/^URL/);
    await userEvent.type(url, "ftp://x");
    expect(await screen.findByText("The URL must start with https:// or http://.")).toBeInTheDocument();
    await userEvent.clear(url);
    await userEvent.type(url, "https://a:b@x.io");
    expect(await screen.findByText(/Don't put credentials in the URL/)).toBeInTheDocument();
    await userEvent.clear(url);
    await userEvent.type(url, "https://x.io/mcp");
    expect(screen.queryByText(/Don't put credentials/)).not.toBeInTheDocument();
    expect(url).not.toHaveAttribute("aria-invalid", "true");
  });

  it("sends nothing while a field is invalid", async () => {
    const calls = mockApi(NO_CLASH);
    renderScreen(<ServerFormModal opened onClose={() => {}} />);
    await userEvent.click(await screen.findByRole("button", { name: "Register" }));
    expect(await screen.findByText("Enter a name.")).toBeInTheDocument();
    expect(screen.getByText("Enter the server's MCP endpoint URL.")).toBeInTheDocument();
    expect(posted(calls)).toBeUndefined();
  });

  it("registers with the fields and credentials, then shows the id, next steps and a connection check", async () => {
    const onSaved = vi.fn();
    const calls = mockApi({
      ...NO_CLASH,
      "POST /api/v1/servers": () => ({ status: 201, body: registered() }),
      "POST /api/v1/servers/{id}/connection-check": () => ({
        body: {
          ok: false,
          latency_ms: 3,
          reason: "connection_refused",
          error: "connection refused. Nothing accepted the connection. Check that the server runs.",
        },
      }),
    });
    renderScreen(<ServerFormModal opened onClose={() => {}} onSaved={onSaved} />);
    await fillRequired();
    const environment = screen.getByRole("combobox", { name: /Environment/ });
    await userEvent.clear(environment);
    await userEvent.type(environment, "staging");
    await userEvent.type(screen.getByRole("combobox", { name: "Tags" }), "public{enter}");
    await userEvent.type(screen.getByLabelText("Description"), "Forecasts");
    await userEvent.click(screen.getByRole("combobox", { name: "Authentication" }));
    await userEvent.click(await screen.findByRole("option", { name: "Bearer token", hidden: true }));
    await userEvent.type(screen.getByLabelText(/^Token/), "s3cr3t");
    await userEvent.click(screen.getByRole("button", { name: "Register" }));

    expect(await screen.findByTestId("registered-id")).toHaveTextContent(fakeServer().id);
    expect(screen.getByText(/Check connectivity and credentials/)).toBeInTheDocument();
    expect(posted(calls)!.body).toEqual({
      name: "weather",
      url: "https://mcp.example.com/mcp",
      environment: "staging",
      transport: "streamable_http",
      tags: ["public"],
      description: "Forecasts",
      auto_discover: true,
      auth: { type: "bearer", token: "s3cr3t" },
    });
    expect(onSaved).toHaveBeenCalledOnce();

    await userEvent.click(screen.getByRole("button", { name: "Check connection" }));
    const result = await screen.findByTestId("connection-check-result");
    expect(result).toHaveTextContent("Connection failed: The connection was refused");
    expect(result).toHaveTextContent("Check that the server runs.");
  });

  it("says as the name is typed that it is taken in that environment", async () => {
    const calls = mockApi({
      "GET /api/v1/servers": (call) => ({
        body: page(call.query.get("name") === "weather" ? [fakeServer({ environment: "development" })] : []),
      }),
    });
    renderScreen(<ServerFormModal opened onClose={() => {}} />);
    await userEvent.type(await screen.findByLabelText(/^Name/), "weather");
    expect(await screen.findByText(/already exists in development/)).toBeInTheDocument();
    const check = calls.find((c) => c.query.get("name") === "weather")!;
    expect(check.query.get("environment")).toBe("development");
  });

  it("shows a 409 beside the name and 422 field errors beside their fields", async () => {
    let answer: { status: number; body: unknown } = {
      status: 409,
      body: {
        type: "/problems/server-name-taken",
        title: "A server with this name exists in this environment",
        status: 409,
        detail: "weather already exists in development.",
      },
    };
    mockApi({ ...NO_CLASH, "POST /api/v1/servers": () => answer });
    renderScreen(<ServerFormModal opened onClose={() => {}} />);
    await fillRequired();
    await userEvent.click(screen.getByRole("button", { name: "Register" }));
    const name = screen.getByLabelText(/^Name/);
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    expect(screen.getByText("weather already exists in development.")).toBeInTheDocument();

    answer = {
      status: 422,
      body: {
        type: "/problems/egress-denied",
        title: "The destination is not allowed",
        status: 422,
        detail: "The destination address is in a range that is not allowed.",
        errors: [{ loc: ["body", "url"], msg: "address_denied:loopback", type: "egress_denied" }],
      },
    };
    await userEvent.type(name, "-2");
    await userEvent.click(screen.getByRole("button", { name: "Register" }));
    expect(await screen.findByText("address_denied:loopback")).toBeInTheDocument();
    expect(screen.getByLabelText(/^URL/)).toHaveAttribute("aria-invalid", "true");
  });

  it("edits: credentials show as set, blank keeps them, and only changes are sent", async () => {
    const server = fakeServer({ auth: { type: "bearer", configured: true, updated_at: "2026-11-27T10:00:00Z" } });
    const onClose = vi.fn();
    const calls = mockApi({
      ...NO_CLASH,
      "PATCH /api/v1/servers/{id}": () => ({ body: { ...server, description: "New" } }),
    });
    renderScreen(<ServerFormModal opened onClose={onClose} server={server} />);
    expect(await screen.findByTestId("credentials-set")).toHaveTextContent("Credentials are set");
    expect(screen.getByLabelText(/^Token \(set; leave blank to keep\)/)).toHaveValue("");
    const description = screen.getByLabelText("Description");
    await userEvent.clear(description);
    await userEvent.type(description, "New");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.path).toBe(`/api/v1/servers/${server.id}`);
    expect(patch.body).toEqual({ description: "New" });
  });

  it("asks for the secret again when switching to another auth type on edit", async () => {
    const server = fakeServer({ auth: { type: "bearer", configured: true } });
    const calls = mockApi(NO_CLASH);
    renderScreen(<ServerFormModal opened onClose={() => {}} server={server} />);
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("combobox", { name: "Authentication" }));
    await userEvent.click(await screen.findByRole("option", { name: "API key in a header", hidden: true }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Enter the value.")).toBeInTheDocument();
    expect(screen.getByText("Enter the header's name, e.g. X-API-Key.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
  });
});
