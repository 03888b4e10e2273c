import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { setCsrfToken } from "../../src/api/client";
import ServerList from "../../src/pages/servers/ServerList";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";
import { fakeServer, page } from "./fixtures";

const LIST = "GET /api/v1/servers";

describe("ServerList", () => {
  it("shows each server with its environment, transport, status, health and tags", async () => {
    mockApi({
      [LIST]: () => ({
        body: page([
          fakeServer(),
          fakeServer({
            id: "11111111-1111-4111-8111-111111111111",
            name: "maps",
            environment: "production",
            transport: "sse",
            status: "discovery_failed",
            tags: ["a", "b", "c", "d"],
            last_discovered_at: null,
            health: { ...fakeServer().health, status: "degraded" },
          }),
        ]),
      }),
    });
    renderScreen(<ServerList />, { path: "/servers" });
    const rows = await screen.findAllByTestId("server-row");
    expect(rows).toHaveLength(2);
    const first = within(rows[0]!);
    expect(first.getByRole("link", { name: "weather" })).toHaveAttribute(
      "href",
      "/servers/0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11",
    );
    expect(first.getByText("Streamable HTTP")).toBeInTheDocument();
    expect(first.getByText("Active")).toBeInTheDocument();
    expect(first.getByText("Healthy")).toBeInTheDocument();
    expect(first.getByText("public")).toBeInTheDocument();
    const second = within(rows[1]!);
    expect(second.getByText("Degraded")).toBeInTheDocument();
    expect(second.getByText("Discovery failed")).toBeInTheDocument();
    expect(second.getByText("SSE")).toBeInTheDocument();
    expect(second.getByText("+1")).toBeInTheDocument();
    expect(second.getByText("Never")).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: "Health" })).toBeInTheDocument();
  });

  it("asks the API for one page, and the next with the cursor on Load more", async () => {
    const calls = mockApi({
      [LIST]: (call) =>
        call.query.get("cursor") === "next-1"
          ? { body: page([fakeServer({ id: "22222222-2222-4222-8222-222222222222", name: "second" })]) }
          : { body: page([fakeServer()], "next-1") },
    });
    renderScreen(<ServerList />, { path: "/servers" });
    await screen.findByRole("link", { name: "weather" });
    expect(calls[0]!.query.get("limit")).toBe("50");
    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    await screen.findByText("second");
    expect(screen.getAllByTestId("server-row")).toHaveLength(2);
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();
  });

  it("sends the filters from the address to the API", async () => {
    const calls = mockApi({ [LIST]: () => ({ body: page([fakeServer()]) }) });
    renderScreen(<ServerList />, {
      path: "/servers?environment=staging&status=active&health=unhealthy&tag=a&tag=b&q=wea&sort=name",
    });
    await screen.findByRole("link", { name: "weather" });
    const query = calls[0]!.query;
    expect(query.get("environment")).toBe("staging");
    expect(query.get("status")).toBe("active");
    expect(query.get("health")).toBe("unhealthy");
    expect(query.getAll("tag")).toEqual(["a", "b"]);
    expect(query.get("q")).toBe("wea");
    expect(query.get("sort")).toBe("name");
  });

  it("debounces the search: one request once typing pauses", async () => {
    const calls = mockApi({ [LIST]: () => ({ body: page([fakeServer()]) }) });
    renderScreen(<ServerList />, { path: "/servers" });
    await screen.findByRole("link", { name: "weather" });
    await userEvent.type(screen.getByLabelText("Search"), "forecast");
    await waitFor(() => expect(calls.some((c) => c.query.get("q") === "forecast")).toBe(true));
    const searches = calls.filter((c) => c.query.get("q"));
    expect(searches.map((c) => c.query.get("q"))).toEqual(["forecast"]);
  });

  it("offers to register a server when there are none", async () => {
    mockApi({ [LIST]: () => ({ body: page([]) }) });
    renderScreen(<ServerList />, { path: "/servers" });
    const empty = await screen.findByTestId("empty-state");
    expect(empty).toHaveTextContent("No MCP servers are registered yet");
    await userEvent.click(within(empty).getByRole("button", { name: "Register a server" }));
    expect(await screen.findByRole("dialog", { name: "Register a server" })).toBeInTheDocument();
  });

  it("says when no server matches the filters", async () => {
    mockApi({ [LIST]: () => ({ body: page([]) }) });
    renderScreen(<ServerList />, { path: "/servers?status=active" });
    const empty = await screen.findByTestId("empty-state");
    expect(empty).toHaveTextContent("No servers match these filters.");
    expect(within(empty).getByRole("button", { name: "Clear filters" })).toBeInTheDocument();
  });

  it("shows the problem's detail when the list fails", async () => {
    mockApi({
      [LIST]: () => ({
        status: 503,
        body: { type: "/problems/unavailable", title: "Unavailable", status: 503, detail: "The database is down." },
      }),
    });
    renderScreen(<ServerList />, { path: "/servers" });
    expect(await screen.findByRole("alert")).toHaveTextContent("The database is down.");
  });

  it("hides register, edit and delete without servers:write", async () => {
    mockApi({ [LIST]: () => ({ body: page([fakeServer()]) }) });
    const me = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "servers:write"), roles: ["viewer"] });
    renderScreen(<ServerList />, { path: "/servers", me });
    await screen.findByRole("link", { name: "weather" });
    expect(screen.queryByRole("button", { name: "Register a server" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Edit weather" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete weather" })).not.toBeInTheDocument();
  });

  it("deletes a server after confirmation", async () => {
    const calls = mockApi({
      [LIST]: () => ({ body: page([fakeServer()]) }),
      "DELETE /api/v1/servers/{id}": () => ({ status: 204 }),
    });
    setCsrfToken("csrf-test");
    renderScreen(<ServerList />, { path: "/servers" });
    await userEvent.click(await screen.findByRole("button", { name: "Delete weather" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete weather?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Delete server" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE")).toBe(true));
    const remove = calls.find((c) => c.method === "DELETE")!;
    expect(remove.path).toBe("/api/v1/servers/0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11");
    expect(remove.headers.get("X-CSRF-Token")).toBe("csrf-test");
  });
});
