import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { notifications } from "@mantine/notifications";
import { beforeEach, describe, expect, it, vi } from "vitest";

import ToolsetsPage from "../../src/pages/toolsets/ToolsetsPage";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";
import { fakeToolset, TOOLSET_ID } from "./fixtures";

// Notifications outlive a test (one store for the whole file): start each test without them.
beforeEach(() => notifications.clean());

const READER = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "toolsets:write") });

describe("Toolsets list", () => {
  it("lists name, description, servers and the endpoint, linking to each toolset", async () => {
    mockApi({
      "GET /api/v1/toolsets": () => ({
        body: {
          items: [
            fakeToolset(),
            fakeToolset({ id: "t2", name: "empty", description: null, endpoint: "/mcp/acme/empty", servers: [] }),
          ],
          next_cursor: null,
        },
      }),
    });
    renderScreen(<ToolsetsPage />, { path: "/toolsets" });
    const table = await screen.findByRole("table", { name: "Toolsets" });
    const rows = within(table).getAllByTestId("toolset-row");
    expect(rows).toHaveLength(2);
    const first = rows[0]!;
    expect(within(first).getByRole("link", { name: "support-agent" })).toHaveAttribute(
      "href",
      `/toolsets/${TOOLSET_ID}`,
    );
    expect(first).toHaveTextContent("What the support agent may use");
    expect(within(first).getByTestId("toolset-servers")).toHaveTextContent("2 servers");
    expect(within(first).getByTestId("toolset-endpoint")).toHaveTextContent("/mcp/acme/support-agent");
    expect(within(rows[1]!).getByTestId("toolset-servers")).toHaveTextContent("0 servers");
  });

  it("copies the endpoint's full URL", async () => {
    mockApi({ "GET /api/v1/toolsets": () => ({ body: { items: [fakeToolset()], next_cursor: null } }) });
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    renderScreen(<ToolsetsPage />, { path: "/toolsets" });
    await user.click(await screen.findByRole("button", { name: "Copy URL: support-agent" }));
    expect(writeText).toHaveBeenCalledWith(`${window.location.origin}/mcp/acme/support-agent`);
    expect(await screen.findByRole("button", { name: "Copied: support-agent" })).toBeInTheDocument();
  });

  it("explains what a toolset is when there is none, and offers New toolset to writers", async () => {
    mockApi({ "GET /api/v1/toolsets": () => ({ body: { items: [], next_cursor: null } }) });
    renderScreen(<ToolsetsPage />, { path: "/toolsets" });
    expect(await screen.findByTestId("empty-state")).toHaveTextContent(
      /A toolset gathers tools from one or more registered MCP servers/,
    );
    expect(screen.getByRole("link", { name: "New toolset" })).toHaveAttribute("href", "/toolsets/new");
  });

  it("offers no New toolset without toolsets:write", async () => {
    mockApi({ "GET /api/v1/toolsets": () => ({ body: { items: [], next_cursor: null } }) });
    renderScreen(<ToolsetsPage />, { path: "/toolsets", me: READER });
    await screen.findByTestId("empty-state");
    expect(screen.queryByRole("link", { name: "New toolset" })).not.toBeInTheDocument();
  });

  it("shows the problem when they cannot be read", async () => {
    mockApi({
      "GET /api/v1/toolsets": () => ({
        status: 403,
        body: { type: "/problems/insufficient-scope", title: "Forbidden", status: 403, detail: "Needs toolsets:read." },
      }),
    });
    renderScreen(<ToolsetsPage />, { path: "/toolsets" });
    expect(await screen.findByRole("alert")).toHaveTextContent("Needs toolsets:read.");
  });

  it("pages with Load more", async () => {
    const calls = mockApi({
      "GET /api/v1/toolsets": (call) =>
        call.query.get("cursor")
          ? { body: { items: [fakeToolset({ id: "t3", name: "zeta", endpoint: "/mcp/acme/zeta" })], next_cursor: null } }
          : { body: { items: [fakeToolset()], next_cursor: "next" } },
    });
    const user = userEvent.setup();
    renderScreen(<ToolsetsPage />, { path: "/toolsets" });
    await user.click(await screen.findByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("link", { name: "zeta" })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/v1/toolsets").at(-1)!.query.get("cursor")).toBe("next");
  });
});
