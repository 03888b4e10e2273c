import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { components } from "../../src/api/schema";
import PoliciesPage from "../../src/pages/policies/PoliciesPage";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen, type Handler } from "../render";

type Effective = components["schemas"]["EffectivePolicy"];
type Version = components["schemas"]["PolicyVersionOut"];
type DryRunResult = components["schemas"]["DryRunResult"];

const ME = fakeMe();
const DANA = "00000000-0000-0000-0000-0000000000d2";

const V1 = `@id("office-hours")
forbid (principal, action == Action::"servers:write", resource)
unless { context.minute_of_day >= 480 };`;
const V2 = `${V1}

@id("no-shell")
forbid (principal in Role::"analyst", action, resource is Capability)
when { resource.name like "*shell*" };`;

function version(n: number, text: string, extra: Partial<Version> = {}): Version {
  return {
    version: n,
    text,
    comment: `change ${n}`,
    created_at: `2026-11-2${n}T10:00:00Z`,
    created_by_user_id: n === 1 ? DANA : ME.user_id,
    rolled_back_from: null,
    ...extra,
  };
}

const VERSIONS = [version(2, V2), version(1, V1)];

function effective(current: Version | null = VERSIONS[0]!): Effective {
  return {
    version: current?.version ?? 0,
    org_policies: current?.text ?? "",
    base_policies: '@id("base:allow")\npermit (principal, action, resource);',
    schema_text: 'action "servers:read", "servers:write", "discovery:read"\n  appliesTo { principal: [User] };',
    current,
  };
}

function handlers(extra: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    "GET /api/v1/policies": () => ({ body: effective() }),
    "GET /api/v1/policies/versions": () => ({ body: { items: VERSIONS, next_cursor: null } }),
    "GET /api/v1/policies/versions/{v}": (c) => ({
      body: VERSIONS.find((v) => `/api/v1/policies/versions/${v.version}` === c.path),
    }),
    "GET /api/v1/users": () => ({
      body: {
        items: [
          { user_id: DANA, email: "dana@acme.example", display_name: "Dana", roles: ["engineer"], joined_at: "2026-01-01T00:00:00Z" },
        ],
        next_cursor: null,
      },
    }),
    ...extra,
  };
}

const READ_ONLY = fakeMe({ permissions: ALL_PERMISSIONS.filter((p) => p !== "policies:write") });

describe("Policies", () => {
  it("shows the current policy highlighted, with its version", async () => {
    mockApi(handlers());
    renderScreen(<PoliciesPage />, { path: "/policies" });
    const code = await screen.findByTestId("policy-text");
    expect(code).toHaveTextContent('@id("no-shell")');
    expect(within(code).getByText('Role::"analyst"')).toHaveClass("cedar-entity");
    expect(within(code).getAllByText("forbid")[0]).toHaveClass("cedar-keyword");
    expect(screen.getByTestId("current-version")).toHaveTextContent("Ada (you)");
    expect(screen.getByRole("heading", { name: "Version 2" })).toBeInTheDocument();
  });

  it("says when nothing is published", async () => {
    mockApi(handlers({ "GET /api/v1/policies": () => ({ body: effective(null) }) }));
    renderScreen(<PoliciesPage />, { path: "/policies" });
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("no policies of its own");
  });

  it("shows why the policies could not load", async () => {
    mockApi({
      "GET /api/v1/policies": () => ({
        status: 403,
        body: { type: "/problems/insufficient-scope", title: "The credentials lack a required scope", status: 403, detail: "This operation requires the scope 'policies:read'." },
      }),
    });
    renderScreen(<PoliciesPage />, { path: "/policies" });
    expect(await screen.findByRole("alert")).toHaveTextContent("requires the scope 'policies:read'");
  });

  it("offers no editing or rollback without policies:write", async () => {
    mockApi(handlers());
    renderScreen(<PoliciesPage />, { path: "/policies?tab=history", me: READ_ONLY });
    await screen.findByTestId("version-1");
    expect(screen.queryByRole("button", { name: /Roll back/ })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole("tab", { name: "Current policy" }));
    await screen.findByTestId("policy-text");
    expect(screen.queryByRole("button", { name: "Edit policy" })).not.toBeInTheDocument();
  });

  it("shows a rejected text's problems in place, on the policy they name", async () => {
    const calls = mockApi(
      handlers({
        "POST /api/v1/policies": () => ({
          status: 422,
          body: {
            type: "/problems/policy-invalid",
            title: "The policy text is not valid",
            status: 422,
            detail: "1 problem(s): schema: for policy `policy1`, attribute `nope` on entity type `User` not found",
            errors: [{ loc: ["body", "text"], msg: "schema: for policy `policy1`, attribute `nope` on entity type `User` not found", type: "policy-invalid" }],
            problems: ["schema: for policy `policy1`, attribute `nope` on entity type `User` not found"],
          },
        }),
      }),
    );
    renderScreen(<PoliciesPage />, { path: "/policies" });
    await userEvent.click(await screen.findByRole("button", { name: "Edit policy" }));
    const editor = screen.getByLabelText("Policy text");
    expect(editor).toHaveValue(V2);
    await userEvent.type(screen.getByLabelText("Note"), "Shell tools");
    await userEvent.click(screen.getByRole("button", { name: "Publish" }));

    await waitFor(() => expect(editor).toHaveAttribute("aria-invalid", "true"));
    expect(screen.getByTestId("policy-problems")).toHaveTextContent("attribute `nope`");
    // Under the last line of the second policy (line 7), in the preview.
    const note = within(screen.getByTestId("policy-preview")).getByTestId("line-problem");
    expect(note).toHaveTextContent("Problem on line 7");
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({ text: V2, comment: "Shell tools" });
  });

  it("publishes a valid text and leaves the editor", async () => {
    const calls = mockApi(
      handlers({ "POST /api/v1/policies": () => ({ status: 201, body: version(3, "") }) }),
    );
    renderScreen(<PoliciesPage />, { path: "/policies" });
    await userEvent.click(await screen.findByRole("button", { name: "Edit policy" }));
    await userEvent.clear(screen.getByLabelText("Policy text"));
    await userEvent.click(screen.getByRole("button", { name: "Publish" }));
    expect(await screen.findByText("Version 3 is now in force.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ text: "", comment: null });
    await waitFor(() => expect(screen.queryByLabelText("Policy text")).not.toBeInTheDocument());
  });

  it("lists the versions with author, time and note, and rolls back after confirmation", async () => {
    const calls = mockApi(
      handlers({
        "POST /api/v1/policies/rollback": () => ({
          status: 201,
          body: version(3, V1, { rolled_back_from: 1, comment: "Rollback to version 1" }),
        }),
      }),
    );
    renderScreen(<PoliciesPage />, { path: "/policies?tab=history" });
    const row = await screen.findByTestId("version-1");
    expect(row).toHaveTextContent("Dana");
    expect(row).toHaveTextContent("change 1");
    expect(screen.getByTestId("version-2")).toHaveTextContent("in force");
    // The version in force cannot be rolled back to.
    expect(within(screen.getByTestId("version-2")).queryByRole("button", { name: /Roll back/ })).toBeNull();

    await userEvent.click(within(row).getByRole("button", { name: "Roll back to version 1" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(within(dialog).getByRole("button", { name: "Roll back to v1" }));
    expect(await screen.findByText(/version 3 has the text of version 1/)).toBeInTheDocument();
    expect(calls.find((c) => c.path === "/api/v1/policies/rollback")!.body).toEqual({ version: 1 });
  });

  it("compares two versions line by line", async () => {
    mockApi(handlers());
    renderScreen(<PoliciesPage />, { path: "/policies?tab=compare" });
    const diff = await screen.findByTestId("policy-diff");
    expect(screen.getByLabelText("From version")).toHaveValue("1");
    expect(screen.getByLabelText("To version")).toHaveValue("2");
    const added = within(diff).getAllByTestId("diff-added");
    expect(added).toHaveLength(4); // a blank line and the three lines of the new policy
    expect(added[1]).toHaveTextContent('added: @id("no-shell")');
    expect(within(diff).queryAllByTestId("diff-removed")).toHaveLength(0);
    expect(screen.getByTestId("diff-stats")).toHaveTextContent("+4 added");

    await userEvent.selectOptions(screen.getByLabelText("From version"), "2");
    expect(await screen.findByText("Versions 2 and 2 have the same text.")).toBeInTheDocument();
  });

  it("runs a dry-run and shows the decision and the policies that decided it", async () => {
    const result: DryRunResult = {
      allowed: false,
      decision_id: "d-1",
      reasons: ["office-hours"],
      obligations: [],
      errors: [],
      policy_version: 2,
      subject_permissions: ["servers:write"],
      context: { minute_of_day: 1350, day_of_week: 7, time_zone: "UTC" },
    };
    const calls = mockApi(handlers({ "POST /api/v1/policies/dry-run": () => ({ body: result }) }));
    renderScreen(<PoliciesPage />, { path: "/policies?tab=dry-run" });

    const decide = await screen.findByRole("button", { name: "Decide" });
    await userEvent.click(decide);
    expect(screen.getByLabelText(/Resource id/)).toHaveAttribute("aria-invalid", "true");
    expect(calls.some((c) => c.path === "/api/v1/policies/dry-run")).toBe(false);

    await waitFor(() => expect(screen.getByRole("option", { name: /Dana/ })).toBeInTheDocument());
    await userEvent.selectOptions(screen.getByLabelText("Member"), DANA);
    expect(screen.getByLabelText("Action")).toHaveValue("servers:write");
    await userEvent.type(screen.getByLabelText(/Resource id/), "payments");
    await userEvent.type(screen.getByLabelText("Tags"), "pci, eu");
    await userEvent.click(decide);

    const decision = await screen.findByTestId("dry-run-decision");
    expect(decision).toHaveTextContent("Denied");
    expect(decision).toHaveTextContent("office-hours");
    expect(decision).toHaveTextContent("At 22:30, day 7");
    expect(calls.find((c) => c.path === "/api/v1/policies/dry-run")!.body).toEqual({
      action: "servers:write",
      user_id: DANA,
      resource: {
        type: "Server",
        id: "payments",
        attrs: { name: "payments", environment: "production", tags: ["pci", "eu"] },
      },
    });
  });
});
