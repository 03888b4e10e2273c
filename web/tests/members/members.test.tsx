import "../apikeys/timeouts";

import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { components } from "../../src/api/schema";
import MembersPage from "../../src/pages/members/MembersPage";
import { PERMISSIONS } from "../../src/pages/members/access";
import { fakeMe, mockApi, renderScreen } from "../render";
import { field, pickOption, problem } from "../apikeys/fixtures";

type Member = components["schemas"]["Member"];
type Role = components["schemas"]["RoleOut"];

const ADA: Member = {
  user_id: "00000000-0000-4000-8000-0000000000a1",
  email: "ada@acme.example",
  display_name: "Ada",
  roles: ["admin"],
  joined_at: "2026-11-01T10:00:00Z",
};
const DANA: Member = {
  user_id: "00000000-0000-4000-8000-0000000000d1",
  email: "dana@example.com",
  display_name: null,
  roles: ["viewer"],
  joined_at: "2026-11-20T10:00:00Z",
};

const role = (name: string, effective: string[], builtIn = true): Role => ({
  name,
  description: null,
  built_in: builtIn,
  permissions: builtIn ? effective : [],
  extends: [],
  effective_permissions: effective,
});
const ROLES: Role[] = [
  role("admin", [...PERMISSIONS]),
  role("engineer", ["servers:read", "servers:write", "api_keys:read"]),
  role("viewer", ["servers:read"]),
  role("auditor", ["audit:read"], false),
];

function api(extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    "GET /api/v1/users": () => ({ body: { items: [ADA, DANA], next_cursor: null } }),
    "GET /api/v1/roles": () => ({ body: { items: ROLES, next_cursor: null } }),
    ...extra,
  });
}

describe("Members", () => {
  it("lists members with their roles and when they joined", async () => {
    api();
    renderScreen(<MembersPage />, { me: fakeMe({ user_id: ADA.user_id }) });
    const ada = await screen.findByTestId("member-ada@acme.example");
    expect(ada).toHaveTextContent("Ada");
    expect(ada).toHaveTextContent("(you)");
    expect(within(ada).getByTestId("member-roles")).toHaveTextContent("admin");
    const dana = screen.getByTestId("member-dana@example.com");
    expect(within(dana).getByTestId("member-roles")).toHaveTextContent("viewer");
    expect(dana).toHaveTextContent("2026");
  });

  it("shows an empty state and an error's detail", async () => {
    mockApi({ "GET /api/v1/users": () => ({ body: { items: [], next_cursor: null } }) });
    const first = renderScreen(<MembersPage />, { me: fakeMe({ permissions: ["users:read"] }) });
    expect(await screen.findByTestId("empty-state")).toBeInTheDocument();
    first.unmount();

    mockApi({
      "GET /api/v1/users": () =>
        problem(403, "policy-denied", "Denied", "A policy forbids reading members now."),
    });
    renderScreen(<MembersPage />, { me: fakeMe({ permissions: ["users:read"] }) });
    expect(await screen.findByRole("alert")).toHaveTextContent("A policy forbids reading members now.");
  });

  it("offers no changes without users:write", async () => {
    api();
    renderScreen(<MembersPage />, { me: fakeMe({ permissions: ["users:read", "roles:read"] }) });
    await screen.findByTestId("member-dana@example.com");
    expect(screen.queryByRole("button", { name: "Add member" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Remove" })).toBeNull();
    expect(screen.queryByLabelText(/Add a role to/)).toBeNull();
    expect(screen.queryByRole("button", { name: /Remove role/ })).toBeNull();
  });

  it("assigns a role chosen from the roles this admin may grant", async () => {
    const calls = api({
      "PUT /api/v1/users/{id}/roles/{role}": () => ({ body: { ...DANA, roles: ["auditor", "viewer"] } }),
    });
    // Holds what viewer and auditor grant, not engineer's or admin's.
    const me = fakeMe({ permissions: ["users:read", "users:write", "roles:read", "servers:read", "audit:read"] });
    renderScreen(<MembersPage />, { me });
    await screen.findByTestId("member-dana@example.com");
    const dana = screen.getByTestId("member-dana@example.com");
    await waitFor(() => expect(field(dana, "Add a role to dana@example.com")).not.toBeDisabled());
    const picker = field(dana, "Add a role to dana@example.com");
    await userEvent.click(picker);
    const list = document.getElementById(picker.getAttribute("aria-controls") ?? "")!;
    const options = within(list).getAllByRole("option", { hidden: true }).map((o) => o.textContent);
    expect(options).toEqual(["auditor"]); // viewer is held already; engineer, admin above the granter
    await userEvent.click(within(list).getByRole("option", { name: "auditor", hidden: true }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === "PUT" && c.path === `/api/v1/users/${DANA.user_id}/roles/auditor`)).toBe(true),
    );
  });

  it("removes a role after confirmation and shows the last-admin problem", async () => {
    const calls = api({
      "DELETE /api/v1/users/{id}/roles/{role}": () =>
        problem(409, "last-admin", "The organization needs an admin", "Ada is the only admin; assign admin to someone else first."),
    });
    renderScreen(<MembersPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Remove role admin from Ada" }));
    await userEvent.click(await screen.findByRole("button", { name: "Remove role" }));
    expect(await screen.findByText("Ada is the only admin; assign admin to someone else first.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "DELETE")?.path).toBe(`/api/v1/users/${ADA.user_id}/roles/admin`);
  });

  it("removes a member after confirmation", async () => {
    const calls = api({ "DELETE /api/v1/users/{id}": () => ({ status: 204 }) });
    renderScreen(<MembersPage />);
    const dana = await screen.findByTestId("member-dana@example.com");
    await userEvent.click(within(dana).getByRole("button", { name: "Remove" }));
    await userEvent.click(await screen.findByRole("button", { name: "Remove member" }));
    await waitFor(() =>
      expect(calls.some((c) => c.method === "DELETE" && c.path === `/api/v1/users/${DANA.user_id}`)).toBe(true),
    );
  });

  it("adds a member by email, checking the address first", async () => {
    const calls = api({
      "POST /api/v1/users": () => ({ status: 201, body: { ...DANA, email: "lee@example.com", roles: ["viewer"] } }),
    });
    renderScreen(<MembersPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Add member" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/^Email/), "not-an-address");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add member" }));
    expect(await within(dialog).findByText(/Enter an email address such as/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await userEvent.clear(within(dialog).getByLabelText(/^Email/));
    await userEvent.type(within(dialog).getByLabelText(/^Email/), "lee@example.com");
    await userEvent.type(within(dialog).getByLabelText("Display name"), "Lee");
    await pickOption(field(dialog, /^Roles/), "viewer");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add member" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({
      email: "lee@example.com",
      display_name: "Lee",
      roles: ["viewer"],
    });
  });

  it("shows why adding failed", async () => {
    api({
      "POST /api/v1/users": () =>
        problem(409, "already-member", "Already a member", "dana@example.com is already a member."),
    });
    renderScreen(<MembersPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Add member" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/^Email/), "dana@example.com");
    await userEvent.click(within(dialog).getByRole("button", { name: "Add member" }));
    expect(await within(dialog).findByText("dana@example.com is already a member.")).toBeInTheDocument();
  });
});
