import "./timeouts";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import ApiKeysPage from "../../src/pages/apikeys/ApiKeysPage";
import { expiringSoon } from "../../src/pages/apikeys/keys";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";
import { fakeKey, inDays, problem } from "./fixtures";

const page = (items: unknown[], next_cursor: string | null = null) => ({
  body: { items, next_cursor },
});

describe("API keys", () => {
  it("lists keys with prefix, scopes, dates and status, marking those that expire soon", async () => {
    mockApi({
      "GET /api/v1/roles": () => page([]),
      "GET /api/v1/api-keys": () =>
        page([
          fakeKey({ name: "deploy", prefix: "aaaaaaaaaaaa", scopes: ["read", "servers:write"] }),
          fakeKey({
            id: "b0000000-0000-4000-8000-000000000002",
            name: "nightly",
            prefix: "bbbbbbbbbbbb",
            expires_at: inDays(3),
          }),
          fakeKey({
            id: "c0000000-0000-4000-8000-000000000003",
            name: "old",
            prefix: "cccccccccccc",
            status: "revoked",
            revoked_at: inDays(-1),
          }),
          fakeKey({
            id: "d0000000-0000-4000-8000-000000000004",
            name: "forever",
            prefix: "dddddddddddd",
            expires_at: null,
            last_used_at: inDays(-0.01),
          }),
        ]),
    });
    renderScreen(<ApiKeysPage />);

    const deploy = await screen.findByTestId("api-key-aaaaaaaaaaaa");
    expect(deploy).toHaveTextContent("sc_aaaaaaaaaaaa_…");
    expect(deploy).toHaveTextContent("servers:write");
    expect(deploy).toHaveTextContent("never"); // never used
    expect(within(deploy).getByTestId("key-status")).toHaveTextContent("active");
    expect(within(deploy).queryByText("Expires soon")).toBeNull();

    const nightly = screen.getByTestId("api-key-bbbbbbbbbbbb");
    expect(within(nightly).getByText("Expires soon")).toBeInTheDocument();
    expect(screen.getByText(/One key expires within 7 days/)).toBeInTheDocument();

    const old = screen.getByTestId("api-key-cccccccccccc");
    expect(within(old).getByTestId("key-status")).toHaveTextContent("revoked");
    expect(within(old).queryByRole("button", { name: "Revoke" })).toBeNull();

    expect(within(screen.getByTestId("api-key-dddddddddddd")).getByText("never")).toBeInTheDocument();
  });

  it("says expiring soon only for active keys within 7 days", () => {
    expect(expiringSoon(fakeKey({ expires_at: inDays(6.9) }))).toBe(true);
    expect(expiringSoon(fakeKey({ expires_at: inDays(8) }))).toBe(false);
    expect(expiringSoon(fakeKey({ expires_at: null }))).toBe(false);
    expect(expiringSoon(fakeKey({ expires_at: inDays(2), status: "revoked" }))).toBe(false);
    expect(expiringSoon(fakeKey({ expires_at: inDays(-1), status: "expired" }))).toBe(false);
  });

  it("shows an empty state", async () => {
    mockApi({ "GET /api/v1/api-keys": () => page([]), "GET /api/v1/roles": () => page([]) });
    renderScreen(<ApiKeysPage />);
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("No API keys yet");
  });

  it("shows the problem's detail when the list fails", async () => {
    mockApi({
      "GET /api/v1/api-keys": () =>
        problem(403, "insufficient-scope", "Insufficient scope", "This key lacks api_keys:read."),
    });
    renderScreen(<ApiKeysPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("This key lacks api_keys:read.");
  });

  it("offers neither create nor revoke without api_keys:write", async () => {
    mockApi({ "GET /api/v1/api-keys": () => page([fakeKey()]) });
    renderScreen(<ApiKeysPage />, {
      me: fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "api_keys:write") }),
    });
    await screen.findByTestId("api-key-cjx5p978l258");
    expect(screen.queryByRole("button", { name: "Create API key" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Revoke" })).toBeNull();
  });

  it("checks the form before sending anything", async () => {
    const calls = mockApi({
      "GET /api/v1/api-keys": () => page([]),
      "GET /api/v1/roles": () => page([]),
    });
    renderScreen(<ApiKeysPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.clear(within(dialog).getByLabelText("Expires in (days)"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));
    expect(await within(dialog).findByText("Give the key a name.")).toBeInTheDocument();
    expect(within(dialog).getByText("Choose at least one scope.")).toBeInTheDocument();
    expect(within(dialog).getByText("A whole number of days, 1 to 3650.")).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("creates a key with the chosen scopes and shows it once, with a copy button", async () => {
    const calls = mockApi({
      "GET /api/v1/api-keys": () => page([]),
      "GET /api/v1/roles": () => page([]),
      "POST /api/v1/api-keys": () => ({
        status: 201,
        body: { api_key: fakeKey({ scopes: ["servers:read"] }), key: "sc_cjx5p978l258_secretpart" },
      }),
    });
    renderScreen(<ApiKeysPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/^Name/), "ci-pipeline");
    await userEvent.type(within(dialog).getByLabelText("Description"), "GitHub Actions");
    await userEvent.click(within(dialog).getByLabelText(/^Scopes/));
    await userEvent.click(await screen.findByRole("option", { name: "servers:read", hidden: true }));
    await userEvent.click(within(dialog).getByLabelText("Never expires"));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));

    expect(await screen.findByTestId("secret-value")).toHaveTextContent("sc_cjx5p978l258_secretpart");
    expect(screen.getByText(/You won't see it again/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy API key" })).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST");
    expect(post?.path).toBe("/api/v1/api-keys");
    expect(post?.headers.get("X-CSRF-Token")).toBeNull(); // set by the session loader only
    expect(post?.body).toEqual({
      name: "ci-pipeline",
      description: "GitHub Actions",
      scopes: ["servers:read"],
      never_expires: true,
    });

    await userEvent.click(screen.getByRole("button", { name: "Done, I stored it" }));
    await waitFor(() => expect(screen.queryByTestId("secret-value")).toBeNull());
  });

  it("sends the expiry in days and shows a 422 beside the field", async () => {
    const calls = mockApi({
      "GET /api/v1/api-keys": () => page([]),
      "GET /api/v1/roles": () => page([]),
      "POST /api/v1/api-keys": () =>
        problem(422, "validation-failed", "Validation failed", "The request is not valid.", {
          errors: [{ loc: ["body", "name"], msg: "must be printable text", type: "value_error" }],
        }),
    });
    renderScreen(<ApiKeysPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Create API key" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/^Name/), "x");
    await userEvent.click(within(dialog).getByLabelText(/^Scopes/));
    await userEvent.click(await screen.findByRole("option", { name: /^read/, hidden: true }));
    await userEvent.clear(within(dialog).getByLabelText("Expires in (days)"));
    await userEvent.type(within(dialog).getByLabelText("Expires in (days)"), "30");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create key" }));

    expect(await within(dialog).findByText("must be printable text")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({
      scopes: ["read"],
      expires_in_days: 30,
      never_expires: false,
    });
  });

  it("revokes after confirmation, and shows why when the server refuses", async () => {
    let refuse = false;
    const calls = mockApi({
      "GET /api/v1/api-keys": () => page([fakeKey()]),
      "POST /api/v1/api-keys/{id}/revoke": () =>
        refuse
          ? problem(403, "key-above-revoker", "You cannot revoke", "It acts with audit:read, which you do not hold.")
          : { body: fakeKey({ status: "revoked" }) },
    });
    renderScreen(<ApiKeysPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Revoke" }));
    await userEvent.click(await screen.findByRole("button", { name: "Revoke key" }));
    await waitFor(() =>
      expect(calls.some((c) => c.path === `/api/v1/api-keys/${fakeKey().id}/revoke`)).toBe(true),
    );

    refuse = true;
    await userEvent.click(await screen.findByRole("button", { name: "Revoke" }));
    await userEvent.click(await screen.findByRole("button", { name: "Revoke key" }));
    expect(await screen.findByText("It acts with audit:read, which you do not hold.")).toBeInTheDocument();
  });
});
