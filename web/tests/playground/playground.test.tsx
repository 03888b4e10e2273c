import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { setCsrfToken } from "../../src/api/client";
import { readEvents } from "../../src/pages/playground/invoke";
import PlaygroundPage from "../../src/pages/playground/PlaygroundPage";
import { keepCall, keptCalls } from "../../src/pages/playground/storage";
import { CapabilitiesTab } from "../../src/pages/servers/detail/CapabilitiesTab";
import { SCREENS } from "../../src/routes";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen, type Handler } from "../render";
import { callRow, capabilities, eventStream, invocation, servers, SERVER_ID } from "./fixtures";

const ECHO = `/playground?server=${SERVER_ID}&tool=echo`;
const SHIP = `/playground?server=${SERVER_ID}&tool=ship`;
// A 1x1 transparent PNG.
const PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

function handlers(extra: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    "GET /api/v1/servers": () => ({ body: servers() }),
    "GET /api/v1/servers/{id}/capabilities": () => ({ body: capabilities() }),
    "GET /api/v1/tool-calls": () => ({ body: { items: [], next_cursor: null } }),
    ...extra,
  };
}

beforeEach(() => {
  setCsrfToken("csrf-test");
  window.sessionStorage.clear();
});
afterEach(() => setCsrfToken(null));

async function typeText(value: string) {
  const input = await screen.findByRole("textbox", { name: /text/ });
  await userEvent.type(input, value);
}

describe("Playground", () => {
  it("is in the navigation only for members who may call tools", () => {
    const screenOf = SCREENS.find((s) => s.path === "/playground")!;
    expect(screenOf.label).toBe("Playground");
    const can = (permissions: string[]) => (p: string) => permissions.includes(p);
    expect(screenOf.visible!({ can: can(["tools:invoke"]) } as never)).toBe(true);
    expect(screenOf.visible!({ can: can(["servers:read"]) } as never)).toBe(false);
  });

  it("opens on the server and tool of a deep link, runs it as a stream with progress, and shows the result", async () => {
    let stream: ReturnType<typeof eventStream> | null = null;
    const calls = mockApi(
      handlers({
        "POST /api/v1/servers/{id}/tools/{name}/invoke": (call) => {
          stream = eventStream(call.signal);
          return { response: stream.response };
        },
      }),
    );
    renderScreen(<PlaygroundPage />, { path: ECHO });
    const serverBox = await screen.findByRole("combobox", { name: "Server" });
    await waitFor(() => expect(serverBox).toHaveValue("shipping (staging)"));
    expect(await screen.findByRole("combobox", { name: "Tool" })).toHaveValue("echo");
    expect(screen.getByTestId("capability-description")).toHaveTextContent("Answer with the text it was given");
    await typeText("hello");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));

    await waitFor(() => expect(stream).not.toBeNull());
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.path).toBe(`/api/v1/servers/${SERVER_ID}/tools/echo/invoke`);
    expect(post.body).toEqual({ arguments: { text: "hello" } });
    expect(post.headers.get("Accept")).toBe("text/event-stream");
    expect(post.headers.get("X-CSRF-Token")).toBe("csrf-test");
    expect(post.headers.get("X-Return-To")).toBe("/");

    stream!.send("progress", { progress: 1, total: 4, message: "step 1" });
    const bar = await screen.findByRole("progressbar", { name: "Progress of the call" });
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "25"));
    expect(screen.getByTestId("call-progress")).toHaveTextContent("step 1 · 1 of 4");
    expect(screen.getByRole("button", { name: "Cancel" })).toBeInTheDocument();

    stream!.send("result", invocation());
    stream!.end();
    expect(await screen.findByTestId("result-text")).toHaveTextContent("hello");
    expect(screen.getByTestId("result-status")).toHaveTextContent("ok");
    expect(screen.getByTestId("fact-duration")).toHaveTextContent("42 ms");
    expect(screen.getByTestId("fact-received")).toHaveTextContent("2.0 kB");
    expect(screen.getByTestId("fact-estimated-tokens")).toHaveTextContent("516");
    expect(screen.getByTestId("fact-decision")).toHaveTextContent("5b0c1d7e9a3f4e21");
    expect(screen.queryByTestId("call-progress")).not.toBeInTheDocument();
    // Its arguments are kept in this tab (never localStorage) for the history.
    expect(keptCalls("s1")).toMatchObject([{ serverId: SERVER_ID, kind: "tool", name: "echo", arguments: { text: "hello" } }]);
    expect(window.localStorage.length).toBe(0);
  });

  it("cancels a running call: the stream is closed", async () => {
    let stream: ReturnType<typeof eventStream> | null = null;
    let signal: AbortSignal | null = null;
    mockApi(
      handlers({
        "POST /api/v1/servers/{id}/tools/{name}/invoke": (call) => {
          signal = call.signal;
          stream = eventStream(call.signal);
          return { response: stream.response };
        },
      }),
    );
    renderScreen(<PlaygroundPage />, { path: ECHO });
    await typeText("wait");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    await userEvent.click(await screen.findByRole("button", { name: "Cancel" }));
    expect(await screen.findByTestId("call-cancelled")).toBeInTheDocument();
    expect(signal!.aborted).toBe(true);
    expect(screen.queryByTestId("result")).not.toBeInTheDocument();
  });

  it("takes a JSON answer as it is, and draws text, JSON text, images and structured content", async () => {
    mockApi(
      handlers({
        "POST /api/v1/servers/{id}/tools/{name}/invoke": () => ({
          body: invocation({
            status: "tool_error",
            is_error: true,
            result: {
              content: [
                { type: "text", text: "plain words" },
                { type: "text", text: '{"city": "Oslo", "days": [1, 2]}' },
                { type: "image", data: PIXEL, mimeType: "image/png" },
                { type: "resource_link", uri: "docs://readme", name: "readme", mimeType: "text/markdown" },
              ],
              structuredContent: { total: 3 },
              isError: true,
            },
            redacted: ["result.structuredContent.token"],
          }),
        }),
      }),
    );
    renderScreen(<PlaygroundPage />, { path: ECHO });
    await typeText("x");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    expect(await screen.findByTestId("result-status")).toHaveTextContent("tool error");
    expect(screen.getByTestId("result-text")).toHaveTextContent("plain words");
    const tree = screen.getByRole("group", { name: "Text content (JSON)" });
    expect(tree).toHaveTextContent('"city": "Oslo"');
    // The tree folds: the list collapses to its size.
    const days = within(tree).getAllByRole("button", { expanded: true })[0]!;
    await userEvent.click(days);
    expect(within(tree).getByRole("button", { expanded: false })).toHaveTextContent("2 keys");
    expect(screen.getByRole("img", { name: /Image 3 of the result \(image\/png\)/ })).toHaveAttribute(
      "src",
      `data:image/png;base64,${PIXEL}`,
    );
    expect(screen.getByTestId("result-resource")).toHaveTextContent("docs://readme");
    expect(screen.getByRole("group", { name: "Structured content" })).toHaveTextContent('"total": 3');
    expect(screen.getByText("result.structuredContent.token")).toBeInTheDocument();
  });

  it("shows a 422's field errors beside the fields they name", async () => {
    mockApi(
      handlers({
        "POST /api/v1/servers/{id}/tools/{name}/invoke": () => ({
          status: 422,
          body: {
            type: "/problems/tool-arguments-invalid",
            title: "The arguments do not match the tool's input schema",
            status: 422,
            detail: "Nothing was sent to the server: 'address' 'city' is a required property.",
            errors: [
              { loc: ["body", "arguments", "address"], msg: "'city' is a required property", type: "schema.required" },
              { loc: ["body", "arguments", "title"], msg: "'' is too short", type: "schema.minLength" },
            ],
          },
        }),
      }),
    );
    renderScreen(<PlaygroundPage />, { path: SHIP });
    await userEvent.type(await screen.findByRole("textbox", { name: /title/ }), "x");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    const city = await screen.findByRole("textbox", { name: /city/ });
    await waitFor(() => expect(city).toHaveAttribute("aria-invalid", "true"));
    expect(city).toHaveAccessibleDescription(/Required/);
    expect(screen.getByRole("textbox", { name: /title/ })).toHaveAccessibleDescription(/'' is too short/);
    const alert = within(screen.getByTestId("call-problem")).getByRole("alert");
    expect(alert).toHaveTextContent("The arguments do not match the tool's input schema");
    expect(alert).toHaveTextContent("Nothing was sent to the server");
  });

  it("edits the arguments as JSON and back", async () => {
    const calls = mockApi(
      handlers({ "POST /api/v1/servers/{id}/tools/{name}/invoke": () => ({ body: invocation() }) }),
    );
    renderScreen(<PlaygroundPage />, { path: ECHO });
    await typeText("hi");
    await userEvent.click(screen.getByRole("radio", { name: "JSON" }));
    const json = screen.getByRole("textbox", { name: "Arguments (JSON)" });
    expect(JSON.parse((json as HTMLTextAreaElement).value)).toEqual({ text: "hi" });
    await userEvent.clear(json);
    await userEvent.type(json, "[[1]");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    expect(await screen.findByText("The arguments must be a JSON object: { … }")).toBeInTheDocument();
    await userEvent.clear(json);
    await userEvent.type(json, '{{"text": "from json"}');
    await userEvent.click(screen.getByRole("radio", { name: "Form" }));
    expect(screen.getByRole("textbox", { name: /text/ })).toHaveValue("from json");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ arguments: { text: "from json" } });
  });

  it("says a discovery was queued when the capability changed upstream, with the reason", async () => {
    mockApi(
      handlers({
        "POST /api/v1/servers/{id}/tools/{name}/invoke": () => ({
          status: 409,
          body: {
            type: "/problems/capability-changed-upstream",
            title: "The capability changed on the server since its snapshot",
            status: 409,
            detail: "The server no longer has the tool 'echo'.",
            reason: "tool_missing",
          },
        }),
      }),
    );
    renderScreen(<PlaygroundPage />, { path: ECHO });
    await typeText("x");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    const problem = await screen.findByTestId("call-problem");
    expect(problem).toHaveTextContent("The server no longer has the tool 'echo'.");
    expect(problem).toHaveTextContent("Reason: tool_missing");
    expect(problem).toHaveTextContent("A discovery was queued");
  });

  it("reports a problem event of the stream", async () => {
    mockApi(
      handlers({
        "POST /api/v1/servers/{id}/tools/{name}/invoke": () => {
          const stream = eventStream();
          stream.send("problem", {
            type: "/problems/upstream-timeout",
            title: "The MCP server did not answer in time",
            status: 504,
            detail: "No answer within 30 s.",
            reason: "timeout",
          });
          stream.end();
          return { response: stream.response };
        },
      }),
    );
    renderScreen(<PlaygroundPage />, { path: ECHO });
    await typeText("x");
    await userEvent.click(screen.getByRole("button", { name: "Run" }));
    const problem = await screen.findByTestId("call-problem");
    expect(problem).toHaveTextContent("The MCP server did not answer in time");
    expect(problem).toHaveTextContent("Reason: timeout");
  });
});

describe("History", () => {
  it("lists your calls and, picked, selects the call again with its kept arguments", async () => {
    const at = "2026-11-28T10:00:00Z";
    keepCall("s1", { at: Date.parse(at) + 800, serverId: SERVER_ID, kind: "tool", name: "echo", arguments: { text: "again" } });
    const calls = mockApi(
      handlers({
        "GET /api/v1/tool-calls": () => ({
          body: {
            items: [
              callRow({ id: 2, at, status: "ok", latency_ms: 12.3 }),
              callRow({ id: 1, at: "2026-11-28T09:00:00Z", name: "ship", status: "invalid", latency_ms: 1500 }),
            ],
            next_cursor: null,
          },
        }),
      }),
    );
    renderScreen(<PlaygroundPage />, { path: "/playground" });
    const table = await screen.findByRole("list", { name: "Your recent calls" });
    const rows = within(table).getAllByTestId("history-row");
    expect(rows).toHaveLength(2);
    await waitFor(() => expect(rows[0]).toHaveTextContent("shipping"));
    expect(rows[0]).toHaveTextContent("echo");
    expect(rows[0]).toHaveTextContent("ok");
    expect(rows[0]).toHaveTextContent("12 ms");
    expect(rows[1]).toHaveTextContent("invalid arguments");
    expect(rows[1]).toHaveTextContent("1.5 s");
    const query = calls.find((c) => c.path === "/api/v1/tool-calls")!.query;
    expect(query.get("source")).toBe("playground");

    await userEvent.click(within(rows[0]!).getByRole("button", { name: "Select tool echo again" }));
    expect(await screen.findByRole("textbox", { name: /text/ })).toHaveValue("again");
    expect(screen.getByTestId("refilled")).toHaveTextContent("The arguments of that call are filled in.");

    await userEvent.click(within(rows[1]!).getByRole("button", { name: "Select tool ship again" }));
    expect(await screen.findByTestId("refilled")).toHaveTextContent("did not keep the arguments");
    expect(await screen.findByRole("textbox", { name: /title/ })).toHaveValue("");
  });

  it("says when there are no calls yet", async () => {
    mockApi(handlers());
    renderScreen(<PlaygroundPage />, { path: "/playground" });
    expect(await screen.findByText(/No calls yet/)).toBeInTheDocument();
    expect(screen.getByText("Pick a server to see its tools.")).toBeInTheDocument();
  });

  it("keeps the arguments of the last 20 calls only, and another session's are dropped", async () => {
    for (let i = 0; i < 25; i++) {
      keepCall("old", { at: i, serverId: SERVER_ID, kind: "tool", name: "echo", arguments: { i } });
    }
    expect(keptCalls("old")).toHaveLength(20);
    expect(keptCalls("old")[0]!.arguments).toEqual({ i: 24 });
    mockApi(handlers());
    renderScreen(<PlaygroundPage />, { path: "/playground" });
    await screen.findByText(/No calls yet/);
    expect(keptCalls("old")).toHaveLength(0);
  });
});

describe("Try it", () => {
  it("links each tool of a server's capabilities to the playground", async () => {
    mockApi({
      "GET /api/v1/servers/{id}/capabilities": () => ({ body: capabilities() }),
      "GET /api/v1/servers/{id}/discoveries": () => ({ body: { items: [], next_cursor: null } }),
    });
    renderScreen(<CapabilitiesTab serverId={SERVER_ID} canWrite={false} canReadCapabilities />);
    const link = await screen.findByRole("link", { name: "Try it: echo in the playground" });
    expect(link).toHaveAttribute("href", `/playground?server=${SERVER_ID}&tool=echo`);
    expect(screen.getByRole("link", { name: "Try it: greeting in the playground" })).toHaveAttribute(
      "href",
      `/playground?server=${SERVER_ID}&prompt=greeting`,
    );
  });

  it("offers no link without tools:invoke", async () => {
    mockApi({
      "GET /api/v1/servers/{id}/capabilities": () => ({ body: capabilities() }),
      "GET /api/v1/servers/{id}/discoveries": () => ({ body: { items: [], next_cursor: null } }),
    });
    const me = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "tools:invoke") });
    renderScreen(<CapabilitiesTab serverId={SERVER_ID} canWrite={false} canReadCapabilities />, { me });
    await screen.findAllByTestId("capability");
    expect(screen.queryByRole("link", { name: /in the playground/ })).not.toBeInTheDocument();
  });
});

describe("Server-sent events", () => {
  it("reads events split across chunks, with CRLF and comments", async () => {
    const encoder = new TextEncoder();
    const parts = ["event: progress\r\ndata: {\"a\"", ":1}\r\n\r\n: keep-alive\n\nevent: result\ndata: 1\ndata: 2\n\n", "data: last"];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        parts.forEach((p) => c.enqueue(encoder.encode(p)));
        c.close();
      },
    });
    const events = [];
    for await (const e of readEvents(body)) events.push(e);
    expect(events).toEqual([
      { event: "progress", data: '{"a":1}' },
      { event: "result", data: "1\n2" },
      { event: "message", data: "last" },
    ]);
  });
});
