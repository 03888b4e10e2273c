import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { components } from "../../src/api/schema";
import WebhookDetail from "../../src/pages/webhooks/WebhookDetail";
import WebhooksPage from "../../src/pages/webhooks/WebhooksPage";
import { validateWebhook } from "../../src/pages/webhooks/WebhookForm";
import { groupEvents } from "../../src/pages/webhooks/hooks";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";

type Webhook = components["schemas"]["Webhook"];
type Stats = components["schemas"]["Stats"];
type Delivery = components["schemas"]["sprintconnect__webhook__schemas__Delivery"];
type DeliveryDetails = components["schemas"]["DeliveryDetails"];

const ID = "0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90";
const READER = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "webhooks:write") });

function webhook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: ID,
    url: "https://hooks.example.com/sc",
    description: "Pager",
    event_types: ["server.health.unhealthy", "api_key.*"],
    enabled: true,
    disabled_at: null,
    disabled_reason: null,
    failing_since: null,
    secret_rotated_at: null,
    previous_secret_expires_at: null,
    created_at: "2026-11-28T10:00:00Z",
    updated_at: "2026-11-28T10:00:00Z",
    ...overrides,
  };
}

function stats(overrides: Partial<Stats> = {}): Stats {
  return {
    webhook_id: ID,
    success_rate_24h: 0.5,
    attempts_24h: 2,
    success_rate_7d: 0.5,
    attempts_7d: 2,
    latency_ms_p50_24h: 120.5,
    latency_ms_p95_24h: 480,
    last_delivery: { at: "2026-11-28T10:05:00Z", succeeded: true, status_code: 200 },
    errors_by_class_7d: { gone: 1 },
    pending: 0,
    ...overrides,
  };
}

const EVENT_TYPES = {
  event_types: [
    { type: "api_key.created", description: "The api key was created." },
    { type: "api_key.revoked", description: "The api key was revoked." },
    { type: "server.health.unhealthy", description: "A server failed its health checks." },
    { type: "server.registered", description: "The server was registered." },
  ],
  patterns: ["*", "api_key.*", "server.*", "server.health.*"],
};

const DELIVERY: Delivery = {
  id: "d1",
  webhook_id: ID,
  event_type: "api_key.created",
  status: "delivered",
  attempts: 1,
  message_id: "msg_1",
  occurred_at: "2026-11-28T10:04:59Z",
  created_at: "2026-11-28T10:05:00Z",
  delivered_at: "2026-11-28T10:05:01Z",
  last_attempt_at: "2026-11-28T10:05:01Z",
  last_status_code: 200,
  last_error_class: null,
  next_attempt_at: null,
};

const DETAILS: DeliveryDetails = {
  ...DELIVERY,
  payload: { api_key_id: "k1", name: "ci" },
  attempt_log: [
    {
      attempted_at: "2026-11-28T10:05:01Z",
      succeeded: true,
      status_code: 200,
      latency_ms: 42.1,
      response_snippet: "thanks",
      error_class: null,
      error_message: null,
    },
  ],
};

const problem = (status: number, detail: string) => ({
  status,
  body: { type: "/problems/x", title: "Problem", status, detail },
});

describe("Webhooks list", () => {
  it("lists webhooks: URL, events, status and the last delivery", async () => {
    mockApi({
      "GET /api/v1/webhooks": () => ({
        body: { items: [webhook(), webhook({ id: "w2", url: "https://b.example.com/x", enabled: false, disabled_reason: "gone" })], next_cursor: null },
      }),
      "GET /api/v1/webhooks/{id}/stats": (call) =>
        ({ body: call.path.includes(ID) ? stats() : stats({ last_delivery: null }) }),
    });
    renderScreen(<WebhooksPage />, { path: "/webhooks" });
    const table = await screen.findByRole("table", { name: "Webhooks" });
    expect(within(table).getByRole("link", { name: "https://hooks.example.com/sc" })).toHaveAttribute(
      "href",
      `/webhooks/${ID}`,
    );
    expect(within(table).getAllByText("server.health.unhealthy")).toHaveLength(2);
    expect(within(table).getByText("disabled (gone)")).toBeInTheDocument();
    expect(await within(table).findByTestId("last-delivery-status")).toHaveTextContent("200");
    expect(await within(table).findByText("none yet")).toBeInTheDocument();
  });

  it("says when there are none", async () => {
    mockApi({ "GET /api/v1/webhooks": () => ({ body: { items: [], next_cursor: null } }) });
    renderScreen(<WebhooksPage />, { path: "/webhooks" });
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("No webhooks yet");
  });

  it("shows the problem when they cannot be read", async () => {
    mockApi({ "GET /api/v1/webhooks": () => problem(403, "Needs webhooks:read.") });
    renderScreen(<WebhooksPage />, { path: "/webhooks" });
    expect(await screen.findByRole("alert")).toHaveTextContent("Needs webhooks:read.");
  });

  it("offers no Add without webhooks:write", async () => {
    mockApi({ "GET /api/v1/webhooks": () => ({ body: { items: [], next_cursor: null } }) });
    renderScreen(<WebhooksPage />, { path: "/webhooks", me: READER });
    await screen.findByTestId("empty-state");
    expect(screen.queryByRole("button", { name: "Add webhook" })).not.toBeInTheDocument();
  });

  it("creates a webhook with the chosen events and shows its secret once", { timeout: 20_000 }, async () => {
    const calls = mockApi({
      "GET /api/v1/webhooks": () => ({ body: { items: [], next_cursor: null } }),
      "GET /api/v1/webhooks/event-types": () => ({ body: EVENT_TYPES }),
      "POST /api/v1/webhooks": (call) => ({
        status: 201,
        body: { ...webhook({ url: (call.body as { url: string }).url }), secret: "whsec_c2VjcmV0" },
      }),
    });
    const user = userEvent.setup();
    renderScreen(<WebhooksPage />, { path: "/webhooks" });
    await user.click(await screen.findByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog");
    await within(dialog).findByText("Every event (*)");
    await user.click(within(dialog).getByRole("button", { name: "Create webhook" }));
    expect(within(dialog).getByText("Enter the address that receives the events.")).toBeInTheDocument();
    expect(within(dialog).getByText("Choose at least one event.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.type(within(dialog).getByRole("textbox", { name: /URL/ }), "https://hooks.example.com/new");
    await user.click(within(dialog).getByRole("checkbox", { name: "All server events (server.*)" }));
    await user.click(within(dialog).getByRole("checkbox", { name: /api_key.created/ }));
    await user.click(within(dialog).getByRole("button", { name: "Create webhook" }));
    expect(await within(dialog).findByTestId("secret-value")).toHaveTextContent("whsec_c2VjcmV0");
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({
      url: "https://hooks.example.com/new",
      description: "",
      enabled: true,
      event_types: ["server.*", "api_key.created"],
    });
  });

  it("shows the API's refusal beside the URL", { timeout: 20_000 }, async () => {
    mockApi({
      "GET /api/v1/webhooks": () => ({ body: { items: [], next_cursor: null } }),
      "GET /api/v1/webhooks/event-types": () => ({ body: EVENT_TYPES }),
      "POST /api/v1/webhooks": () => ({
        status: 422,
        body: {
          type: "/problems/validation-failed",
          title: "Invalid request",
          status: 422,
          detail: "The request is not valid.",
          errors: [{ loc: ["body", "url"], msg: "The URL must use https.", type: "value_error" }],
        },
      }),
    });
    const user = userEvent.setup();
    renderScreen(<WebhooksPage />, { path: "/webhooks" });
    await user.click(await screen.findByRole("button", { name: "Add webhook" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(await within(dialog).findByRole("checkbox", { name: "Every event (*)" }));
    await user.type(within(dialog).getByRole("textbox", { name: /URL/ }), "http://hooks.example.com/x");
    await user.click(within(dialog).getByRole("button", { name: "Create webhook" }));
    expect(await within(dialog).findAllByText("The URL must use https.")).not.toHaveLength(0);
    expect(within(dialog).getByRole("textbox", { name: /URL/ })).toHaveAttribute("aria-invalid", "true");
  });
});

function detailHandlers(extra: Record<string, Parameters<typeof mockApi>[0][string]> = {}) {
  return {
    "GET /api/v1/webhooks/event-types": () => ({ body: EVENT_TYPES }),
    "GET /api/v1/webhooks/{id}/stats": () => ({ body: stats() }),
    "GET /api/v1/webhooks/{id}/deliveries": () => ({ body: { items: [DELIVERY], next_cursor: null } }),
    "GET /api/v1/webhooks/{id}/deliveries/{d}": () => ({ body: DETAILS }),
    "GET /api/v1/webhooks/{id}": () => ({ body: webhook() }),
    ...extra,
  };
}

function renderDetail(me = fakeMe()) {
  return renderScreen(<WebhookDetail />, { path: `/webhooks/${ID}`, route: "/webhooks/:webhookId", me });
}

describe("Webhook detail", () => {
  it("shows the settings, the stats and the deliveries", async () => {
    mockApi(detailHandlers());
    renderDetail();
    expect(await screen.findByTestId("webhook-url")).toHaveTextContent("https://hooks.example.com/sc");
    expect(await screen.findByTestId("success-24h")).toHaveTextContent("50.0%");
    expect(screen.getByTestId("latency-p50")).toHaveTextContent("121 ms");
    expect(screen.getByText("gone: 1")).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Deliveries" });
    expect(within(table).getByText("api_key.created")).toBeInTheDocument();
    expect(within(table).getByTestId("delivery-status")).toHaveTextContent("delivered");
  });

  it("tests the webhook and shows what the receiver answered", async () => {
    const calls = mockApi(
      detailHandlers({
        "POST /api/v1/webhooks/{id}/test": () => ({
          body: {
            succeeded: true,
            message_id: "msg_test_1",
            status_code: 200,
            latency_ms: 12.3,
            response_snippet: "received",
            error_class: null,
            error_message: null,
          },
        }),
      }),
    );
    const user = userEvent.setup();
    renderDetail();
    await user.click(await screen.findByRole("button", { name: "Test webhook" }));
    const result = await screen.findByTestId("test-result");
    expect(within(result).getByTestId("test-status")).toHaveTextContent("200");
    expect(within(result).getByTestId("test-body")).toHaveTextContent("received");
    expect(result).toHaveTextContent("12 ms");
    expect(calls.some((c) => c.method === "POST" && c.path === `/api/v1/webhooks/${ID}/test`)).toBe(true);
  });

  it("opens a delivery with its request and attempts, and redelivers it", async () => {
    const calls = mockApi(
      detailHandlers({
        "POST /api/v1/webhooks/{id}/deliveries/{d}/redeliver": () => ({ body: { ...DELIVERY, status: "pending" } }),
      }),
    );
    const user = userEvent.setup();
    renderDetail();
    await user.click(await screen.findByRole("button", { name: /Open delivery of api_key.created/ }));
    const details = await screen.findByTestId("delivery-details");
    expect(within(details).getByTestId("delivery-payload")).toHaveTextContent('"name": "ci"');
    expect(within(details).getByTestId("attempt")).toHaveTextContent("thanks");
    await user.click(within(details).getByRole("button", { name: "Redeliver" }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === "POST" && c.path.endsWith("/deliveries/d1/redeliver"))).toBe(true),
    );
  });

  it("deletes after confirmation", async () => {
    const calls = mockApi(
      detailHandlers({ "DELETE /api/v1/webhooks/{id}": () => ({ status: 204 }) }),
    );
    const user = userEvent.setup();
    renderDetail();
    await user.click(await screen.findByRole("button", { name: "Delete" }));
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(await screen.findByRole("button", { name: "Delete webhook" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.path === `/api/v1/webhooks/${ID}`)).toBe(true));
  });

  it("rotates the secret and shows the new one once", async () => {
    const calls = mockApi(
      detailHandlers({
        "POST /api/v1/webhooks/{id}/rotate-secret": () => ({
          body: { id: ID, secret: "whsec_bmV3", previous_secret_expires_at: "2026-11-29T10:00:00Z" },
        }),
      }),
    );
    const user = userEvent.setup();
    renderDetail();
    await user.click(await screen.findByRole("button", { name: "Rotate secret" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Rotate secret" }));
    expect(await within(dialog).findByTestId("secret-value")).toHaveTextContent("whsec_bmV3");
    expect(calls.find((c) => c.path.endsWith("/rotate-secret"))!.body).toEqual({ overlap_seconds: 86400 });
  });

  it("saves changes with a PATCH of every field", async () => {
    let current = webhook();
    const calls = mockApi(
      detailHandlers({
        "PATCH /api/v1/webhooks/{id}": (call) => {
          current = { ...current, ...(call.body as object), updated_at: "2026-11-28T11:00:00Z" };
          return { body: current };
        },
        "GET /api/v1/webhooks/{id}": () => ({ body: current }),
      }),
    );
    const user = userEvent.setup();
    renderDetail();
    const form = await screen.findByRole("form", { name: "Save changes" });
    await within(form).findByText("Every event (*)");
    await user.clear(within(form).getByRole("textbox", { name: "Description" }));
    await user.type(within(form).getByRole("textbox", { name: "Description" }), "Pager duty");
    await user.click(within(form).getByRole("switch", { name: /Enabled/ }));
    await user.click(within(form).getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({
      url: "https://hooks.example.com/sc",
      description: "Pager duty",
      enabled: false,
      event_types: ["server.health.unhealthy", "api_key.*"],
    });
    expect(await screen.findByRole("heading", { name: "Pager duty", level: 1 })).toBeInTheDocument();
  });

  it("shows no changes to a member without webhooks:write", async () => {
    mockApi(detailHandlers());
    renderDetail(READER);
    await screen.findByTestId("webhook-url");
    expect(screen.queryByRole("button", { name: "Test webhook" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Delete" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save changes" })).not.toBeInTheDocument();
  });

  it("shows the problem of a webhook that is not there", async () => {
    mockApi({ "GET /api/v1/webhooks/{id}": () => problem(404, "No such webhook.") });
    renderDetail();
    // (Notifications of earlier tests are alerts too: look for this one's text.)
    const detail = await screen.findByText("No such webhook.");
    expect(detail.closest("[role=alert]")).not.toBeNull();
  });
});

describe("webhook helpers", () => {
  it("groups the catalog by its first word", () => {
    const groups = groupEvents(EVENT_TYPES.event_types);
    expect(groups.map((g) => g.pattern)).toEqual(["api_key.*", "server.*"]);
  });

  it("checks a webhook's fields", () => {
    expect(validateWebhook({ url: "ftp://x", description: "", enabled: true, event_types: ["*"] }).url).toMatch(
      /https/,
    );
    expect(validateWebhook({ url: "https://a.example/x", description: "", enabled: true, event_types: ["*"] })).toEqual({});
  });
});
