import { afterEach, describe, expect, it, vi } from "vitest";

import { api, navigation, onSessionEnded, setCsrfToken, unwrap } from "../../src/api/client";
import { ProblemError } from "../../src/api/problem";
import { mockApi } from "../render";

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

const problem = (status: number, kind: string, extra: Record<string, unknown> = {}) => ({
  status,
  body: { type: `/problems/${kind}`, title: kind, status, detail: `${kind} detail`, ...extra },
});

describe("the API client", () => {
  it("sends the CSRF token on writes only, and where to come back to", async () => {
    setCsrfToken("tok-1");
    const calls = mockApi({
      "POST /api/v1/api-keys/{id}/revoke": () => ({ body: {} }),
      "GET /api/v1/me": () => ({ body: {} }),
    });
    await api.POST("/api/v1/api-keys/{key_id}/revoke", { params: { path: { key_id: "k1" } } });
    await api.GET("/api/v1/me");
    expect(calls[0]!.headers.get("X-CSRF-Token")).toBe("tok-1");
    expect(calls[1]!.headers.get("X-CSRF-Token")).toBeNull();
    expect(calls[0]!.headers.get("X-Return-To")).toBe("/");
  });

  it("turns a problem answer into a ProblemError with its fields", async () => {
    mockApi({
      "GET /api/v1/me": () =>
        problem(422, "validation-failed", { errors: [{ loc: ["body", "name"], msg: "too long", type: "string_too_long" }] }),
    });
    const error = await unwrap(api.GET("/api/v1/me")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    const failed = error as ProblemError;
    expect(failed.status).toBe(422);
    expect(failed.kind).toBe("validation-failed");
    expect(failed.message).toBe("validation-failed detail");
    expect(failed.fieldMessage("name")).toBe("too long");
  });

  it("goes to sign in when an operation needs a fresh sign-in", async () => {
    const assign = vi.spyOn(navigation, "assign").mockImplementation(() => {});
    mockApi({
      "PUT /api/v1/organization/identity-provider": () =>
        problem(401, "step-up-required", { login_url: "/auth/login?org=acme&prompt=login" }),
    });
    await api.PUT("/api/v1/organization/identity-provider", { body: {} as never });
    expect(assign).toHaveBeenCalledWith("/auth/login?org=acme&prompt=login");
  });

  it("tells the console when the session ended, without leaving the page", async () => {
    const assign = vi.spyOn(navigation, "assign").mockImplementation(() => {});
    const seen: (string | null)[] = [];
    const stop = onSessionEnded((url) => seen.push(url));
    mockApi({ "GET /api/v1/me": () => problem(401, "session-expired", { login_url: "/auth/login?org=acme" }) });
    await api.GET("/api/v1/me");
    stop();
    expect(seen).toEqual(["/auth/login?org=acme"]);
    expect(assign).not.toHaveBeenCalled();
  });
});
