// API answers for the playground tests, in the real shapes (web/src/api/schema.d.ts).
import type { components } from "../../src/api/schema";
import { fakeServer } from "../servers/fixtures";

type S = components["schemas"];

export const SERVER_ID = "0b9e7c1e-8a4f-4c1e-9a53-0c7d9b0e2f11";
export const OTHER_ID = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

export const SHIP_SCHEMA = {
  type: "object",
  required: ["title", "address", "priority"],
  properties: {
    title: { type: "string", description: "What to ship" },
    priority: { type: "string", enum: ["low", "normal", "high"] },
    count: { type: "integer", default: 1 },
    fragile: { type: "boolean" },
    address: { $ref: "#/$defs/Address" },
    tags: { type: "array", items: { type: "string" } },
    note: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
  },
  $defs: {
    Address: {
      type: "object",
      required: ["city"],
      properties: {
        city: { type: "string" },
        zip: { type: "string", description: "Postal code" },
      },
    },
  },
};

export function servers() {
  return {
    items: [fakeServer({ id: SERVER_ID, name: "shipping" }), fakeServer({ id: OTHER_ID, name: "weather", environment: "production" })],
    next_cursor: null,
    removed_by_policy: 0,
  };
}

export function capabilities(): S["Capabilities"] {
  return {
    server_id: SERVER_ID,
    snapshot: {
      version: 1,
      digest: "d1",
      protocol_version: "2025-11-25",
      server_info: { name: "shipping", version: "1.0.0" },
      counts: { tool: 2, prompt: 1, resource: 1 },
      diff: null,
      truncation: {},
      created_at: "2026-11-28T09:00:02Z",
      last_confirmed_at: "2026-11-28T09:00:02Z",
      invalid_items: [],
    },
    capabilities: {},
    items: [
      {
        kind: "tool",
        name: "ship",
        title: null,
        description: "Ship a parcel",
        definition: { name: "ship", inputSchema: SHIP_SCHEMA },
      },
      {
        kind: "tool",
        name: "echo",
        title: null,
        description: "Answer with the text it was given",
        definition: {
          name: "echo",
          inputSchema: { type: "object", required: ["text"], properties: { text: { type: "string" } } },
        },
      },
      {
        kind: "prompt",
        name: "greeting",
        title: null,
        description: "Greet someone",
        definition: { name: "greeting", arguments: [{ name: "name", required: true }] },
      },
      {
        kind: "resource",
        name: "docs://readme",
        title: null,
        description: "The readme",
        definition: { name: "readme", uri: "docs://readme", mimeType: "text/markdown" },
      },
    ],
  };
}

export function invocation(overrides: Partial<S["InvocationOut"]> = {}): S["InvocationOut"] {
  return {
    server_id: SERVER_ID,
    kind: "tool",
    name: "echo",
    status: "ok",
    is_error: false,
    result: { content: [{ type: "text", text: "hello" }] },
    duration_ms: 42.4,
    request_bytes: 17,
    response_bytes: 2048,
    estimated_tokens: 516,
    capability_class: "write",
    decision_id: "5b0c1d7e9a3f4e21",
    redacted: [],
    ...overrides,
  };
}

export function callRow(overrides: Partial<S["CallOut"]> = {}): S["CallOut"] {
  return {
    id: 1,
    at: "2026-11-28T10:00:00Z",
    source: "playground",
    server_id: SERVER_ID,
    toolset_id: null,
    kind: "tool",
    name: "echo",
    status: "ok",
    error_class: null,
    latency_ms: 12.3,
    request_bytes: 10,
    response_bytes: 20,
    est_tokens: 8,
    ...overrides,
  };
}

/** A text/event-stream answer whose events the test sends when it wants (and can end). */
export function eventStream(signal?: AbortSignal) {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  signal?.addEventListener("abort", () => controller.error(new DOMException("Aborted", "AbortError")));
  return {
    response: new Response(body, {
      status: 200,
      headers: { "Content-Type": "text/event-stream", Date: new Date().toUTCString() },
    }),
    send(event: string, data: unknown) {
      controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    },
    end() {
      controller.close();
    },
  };
}
