// Rendering a screen in a component test: the providers the app has, a signed-in session with
// the permissions the test gives, and an API answered by the test's own handlers.
import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, type RenderResult } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";

import { SessionProvider, type Me, type SessionInfo } from "../src/auth/session";
import { contrast, theme } from "../src/theme";

export const ALL_PERMISSIONS = [
  "api_keys:read",
  "api_keys:write",
  "servers:read",
  "servers:write",
  "servers:production",
  "capabilities:read",
  "discovery:read",
  "tools:invoke",
  "toolsets:read",
  "toolsets:write",
  "health:read",
  "health:write",
  "users:read",
  "users:write",
  "roles:read",
  "roles:write",
  "policies:read",
  "policies:write",
  "audit:read",
  "audit:manage",
  "webhooks:read",
  "webhooks:write",
  "org:read",
  "org:write",
];

export function fakeMe(overrides: Partial<Me> = {}): Me {
  return {
    org_id: "00000000-0000-0000-0000-00000000000a",
    org_name: "Acme",
    org_slug: "acme",
    user_id: "00000000-0000-0000-0000-0000000000u1",
    email: "ada@acme.example",
    name: "Ada",
    credential: "session",
    api_key_id: null,
    service_account_id: null,
    scopes: [],
    permissions: ALL_PERMISSIONS,
    roles: ["admin"],
    policy_version: 1,
    super_admin: false,
    ...overrides,
  } as Me;
}

export function fakeSession(me: Me): SessionInfo {
  return {
    session_id: "s1",
    org_id: me.org_id,
    org_slug: me.org_slug,
    user: { id: me.user_id ?? "", email: me.email, name: me.name, roles: me.roles },
    csrf_token: "csrf-test",
    authenticated_at: "2026-01-01T00:00:00Z",
    expires_at: "2026-01-02T00:00:00Z",
    idle_expires_at: "2026-01-01T08:00:00Z",
    acr: null,
  } as SessionInfo;
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Headers;
  signal: AbortSignal;
}

/** An answer: a status and a JSON body (a problem for 4xx/5xx), or a whole Response (a stream). */
export type Handler = (
  call: Call,
) => { status?: number; body?: unknown; response?: Response } | undefined;

/**
 * Answer the app's fetches with `handlers` ("GET /api/v1/servers" → handler); anything else
 * is a 404 problem. Returns the calls made, for assertions.
 */
export function mockApi(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (input: Request | string, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const call: Call = {
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
      headers: request.headers,
      signal: request.signal,
    };
    calls.push(call);
    const key = Object.keys(handlers).find((pattern) => matches(pattern, call));
    const answer = key ? handlers[key]!(call) : undefined;
    if (!answer) {
      return json(404, { type: "/problems/not-found", title: "Not found", status: 404, detail: `no handler for ${call.method} ${call.path}` });
    }
    if (answer.response) return answer.response;
    return json(answer.status ?? 200, answer.body ?? null);
  });
  return calls;
}

function matches(pattern: string, call: Call): boolean {
  const [method, path] = pattern.split(" ");
  if (method !== call.method || !path) return false;
  const re = new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
  return re.test(call.path);
}

function json(status: number, body: unknown): Response {
  const type = status >= 400 ? "application/problem+json" : "application/json";
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": type },
  });
}

/** Render `ui` at `path` (matched by `route`) as a signed-in member with `me`. */
export function renderScreen(
  ui: ReactNode,
  { path = "/", route = "*", me = fakeMe() }: { path?: string; route?: string; me?: Me } = {},
): RenderResult {
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <MantineProvider theme={theme} cssVariablesResolver={contrast}>
      <Notifications />
      <QueryClientProvider client={queries}>
        <MemoryRouter initialEntries={[path]}>
          <SessionProvider value={{ session: fakeSession(me), me }}>
            <Routes>
              <Route path={route} element={ui} />
            </Routes>
          </SessionProvider>
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}
