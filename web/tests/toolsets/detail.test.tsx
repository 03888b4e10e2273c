import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { notifications } from "@mantine/notifications";
import { beforeEach, describe, expect, it, vi } from "vitest";

import ToolsetDetail from "../../src/pages/toolsets/ToolsetDetail";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen, type Handler } from "../render";
import { exposed, fakeToolset, TOOLSET_ID } from "./fixtures";

// Notifications outlive a test (one store for the whole file): start each test without them.
beforeEach(() => notifications.clean());

const READER = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "toolsets:write") });
const URL = `${window.location.origin}/mcp/acme/support-agent`;

function handlers(extra: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    "GET /api/v1/toolsets/{id}/tools": () => ({ body: exposed() }),
    "GET /api/v1/toolsets/{id}": () => ({ body: fakeToolset() }),
    ...extra,
  };
}

function renderDetail(me = fakeMe()) {
  return renderScreen(<ToolsetDetail />, {
    path: `/toolsets/${TOOLSET_ID}`,
    route: "/toolsets/:toolsetId",
    me,
  });
}

describe("Toolset detail", () => {
  it("shows the endpoint URL and what clients see: names, upstream names, servers, classes", async () => {
    mockApi(handlers());
    renderDetail();
    expect(await screen.findByRole("heading", { level: 1, name: "support-agent" })).toBeInTheDocument();
    expect(screen.getByTestId("endpoint-url")).toHaveTextContent(URL);
    const table = await screen.findByRole("table", { name: "Exposed tools" });
    const rows = within(table).getAllByTestId("exposed-tool");
    expect(rows.map((r) => r.getAttribute("data-name"))).toEqual(["gh_search", "tickets_create_issue"]);
    expect(rows[0]).toHaveTextContent("search");
    expect(within(rows[0]!).getByRole("link", { name: "github" })).toHaveAttribute(
      "href",
      "/servers/11111111-1111-4111-8111-111111111111",
    );
    expect(rows[0]).toHaveTextContent("read");
    expect(within(rows[0]!).queryByTestId("collision-marker")).not.toBeInTheDocument();
    expect(within(rows[1]!).getByTestId("collision-marker")).toHaveTextContent("renamed: name clash");
    expect(rows[1]).toHaveTextContent("write");
    const members = screen.getAllByTestId("toolset-member-summary");
    expect(members[0]).toHaveTextContent("All tools, prefix gh_; its prompts and resources too");
    expect(members[1]).toHaveTextContent("1 chosen tool, 1 renamed, 1 with a chosen class; no prompts or resources");
  });

  it("warns about listed tools the server no longer has", async () => {
    mockApi(handlers());
    renderDetail();
    const missing = await screen.findByTestId("missing-tools");
    expect(missing).toHaveTextContent("close_ticket on tickets");
  });

  it("says when the toolset exposes nothing yet", async () => {
    mockApi(handlers({ "GET /api/v1/toolsets/{id}/tools": () => ({ body: { tools: [], missing: [] } }) }));
    renderDetail();
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("No tools yet");
  });

  it("gives a client configuration with the endpoint and a key placeholder, never a key", async () => {
    mockApi(handlers());
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    renderDetail();
    const block = await screen.findByTestId("client-config");
    const config: unknown = JSON.parse(block.textContent ?? "");
    expect(config).toEqual({
      mcpServers: {
        "support-agent": {
          type: "http",
          url: URL,
          headers: { Authorization: "Bearer <your API key>" },
        },
      },
    });
    await user.click(screen.getByRole("button", { name: "Copy configuration" }));
    expect(writeText).toHaveBeenCalledWith(block.textContent);
    await user.click(screen.getByRole("button", { name: "Copy URL: the endpoint" }));
    expect(writeText).toHaveBeenLastCalledWith(URL);
  });

  it("deletes after confirming", async () => {
    const calls = mockApi(handlers({ "DELETE /api/v1/toolsets/{id}": () => ({ status: 204 }) }));
    const user = userEvent.setup();
    renderDetail();
    expect(await screen.findByRole("link", { name: "Edit" })).toHaveAttribute("href", `/toolsets/${TOOLSET_ID}/edit`);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toHaveTextContent("Its endpoint stops answering at once");
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Delete toolset" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === `/api/v1/toolsets/${TOOLSET_ID}`)).toBe(true));
  });

  it("offers no edit or delete without toolsets:write", async () => {
    mockApi(handlers());
    renderDetail(READER);
    await screen.findByRole("table", { name: "Exposed tools" });
    expect(screen.queryByRole("link", { name: "Edit" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
    expect(screen.getByTestId("client-config")).toBeInTheDocument();
  });

  it("shows the problem for a toolset that is not there", async () => {
    mockApi({
      "GET /api/v1/toolsets/{id}": () => ({
        status: 404,
        body: { type: "/problems/toolset-not-found", title: "Toolset not found", status: 404, detail: "No toolset x in your organization." },
      }),
    });
    renderDetail();
    expect(await screen.findByRole("alert")).toHaveTextContent("No toolset x in your organization.");
  });
});
