import "../apikeys/timeouts";

import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { components } from "../../src/api/schema";
import { PERMISSIONS } from "../../src/pages/members/access";
import RolesPage from "../../src/pages/members/RolesPage";
import { nameError } from "../../src/pages/members/RoleFormModal";
import { field, pickOption, problem } from "../apikeys/fixtures";
import { fakeMe, mockApi, renderScreen } from "../render";

type Role = components["schemas"]["RoleOut"];

const VIEWER: Role = {
  name: "viewer",
  description: "Reads servers, their capabilities and health.",
  built_in: true,
  permissions: ["servers:read", "org:read"],
  extends: [],
  effective_permissions: ["servers:read", "org:read"],
};
const ADMIN: Role = {
  name: "admin",
  description: "Everything.",
  built_in: true,
  permissions: [...PERMISSIONS],
  extends: [],
  effective_permissions: [...PERMISSIONS],
};
const AUDITOR: Role = {
  name: "auditor",
  description: "Viewers who read the audit log",
  built_in: false,
  permissions: ["audit:read"],
  extends: ["viewer"],
  effective_permissions: ["audit:read", "org:read", "servers:read"],
};

function api(custom: Role[] = [AUDITOR], extra: Parameters<typeof mockApi>[0] = {}) {
  return mockApi({
    "GET /api/v1/roles": () => ({ body: { items: [ADMIN, VIEWER, ...custom], next_cursor: null } }),
    ...extra,
  });
}

describe("Roles", () => {
  it("shows built-in roles with their permissions and custom roles with inheritance", async () => {
    api();
    renderScreen(<RolesPage />);
    const viewer = await screen.findByTestId("role-viewer");
    expect(viewer).toHaveTextContent("Servers: read");
    expect(viewer).toHaveTextContent("2 permissions");
    expect(within(viewer).queryByRole("button")).toBeNull(); // built-in: read-only
    const auditor = screen.getByTestId("role-auditor");
    expect(auditor).toHaveTextContent("viewer"); // extends
    expect(auditor).toHaveTextContent("Audit: read");
    expect(auditor).toHaveTextContent("3 permissions");
  });

  it("says when there are no custom roles, and shows a failure's detail", async () => {
    api([]);
    const first = renderScreen(<RolesPage />);
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("No custom roles yet");
    first.unmount();
    mockApi({ "GET /api/v1/roles": () => problem(403, "policy-denied", "Denied", "Not now.") });
    renderScreen(<RolesPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Not now.");
  });

  it("offers no changes without roles:write", async () => {
    api();
    renderScreen(<RolesPage />, { me: fakeMe({ permissions: ["roles:read"] }) });
    await screen.findByTestId("role-auditor");
    expect(screen.queryByRole("button", { name: "Create role" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete" })).toBeNull();
  });

  it("checks a new role's name", () => {
    expect(nameError("")).toBeDefined();
    expect(nameError("Release")).toBeDefined();
    expect(nameError("viewer")).toMatch(/reserved/);
    expect(nameError("release-manager")).toBeUndefined();
  });

  it("creates a role with permissions and parents, marking what is inherited", async () => {
    const calls = api([], {
      "POST /api/v1/roles": () => ({ status: 201, body: { ...AUDITOR, name: "release-manager" } }),
    });
    renderScreen(<RolesPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Create role" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.type(within(dialog).getByLabelText(/^Name/), "Bad Name");
    await userEvent.click(within(dialog).getByRole("button", { name: "Create role" }));
    expect(await within(dialog).findByText(/lowercase letter/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await userEvent.clear(within(dialog).getByLabelText(/^Name/));
    await userEvent.type(within(dialog).getByLabelText(/^Name/), "release-manager");
    await userEvent.type(within(dialog).getByLabelText("Description"), "Reads the audit log");
    await pickOption(field(dialog, /^Extends/), "viewer");
    expect(within(dialog).getAllByText("(inherited)")).toHaveLength(2); // viewer's two
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "audit:read" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Create role" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({
      name: "release-manager",
      description: "Reads the audit log",
      permissions: ["audit:read"],
      extends: ["viewer"],
    });
  });

  it("edits a custom role and shows a cycle's detail", async () => {
    const calls = api([AUDITOR], {
      "PATCH /api/v1/roles/{name}": () =>
        problem(422, "role-cycle", "Role inheritance would form a cycle", "Inheritance would loop: auditor -> x -> auditor."),
    });
    renderScreen(<RolesPage />);
    const row = await screen.findByTestId("role-auditor");
    await userEvent.click(within(row).getByRole("button", { name: "Edit" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getByRole("checkbox", { name: "audit:read" })).toBeChecked();
    await userEvent.click(within(dialog).getByRole("checkbox", { name: "exports:read" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Save role" }));
    expect(await within(dialog).findByText("Inheritance would loop: auditor -> x -> auditor.")).toBeInTheDocument();
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.path).toBe("/api/v1/roles/auditor");
    expect(patch?.body).toEqual({
      description: "Viewers who read the audit log",
      permissions: ["audit:read", "exports:read"],
      extends: ["viewer"],
    });
  });

  it("deletes a custom role after confirmation, showing role-in-use", async () => {
    const calls = api([AUDITOR], {
      "DELETE /api/v1/roles/{name}": () =>
        problem(409, "role-in-use", "Role in use", "2 members hold auditor.", { holders: 2, extended_by: [] }),
    });
    renderScreen(<RolesPage />);
    const row = await screen.findByTestId("role-auditor");
    await userEvent.click(within(row).getByRole("button", { name: "Delete" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete role" }));
    expect(await screen.findByText("2 members hold auditor.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "DELETE")?.path).toBe("/api/v1/roles/auditor");
  });
});
