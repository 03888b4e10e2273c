import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { Shell } from "../../src/layout/Shell";
import { fakeMe, renderScreen } from "../render";

function navigation() {
  return within(screen.getByRole("navigation", { name: "Main navigation" }));
}

describe("the shell", () => {
  it("lists only the screens the caller may see", () => {
    const me = fakeMe({ roles: ["viewer"], permissions: ["servers:read", "audit:read"] });
    renderScreen(<Shell>content</Shell>, { me });
    const nav = navigation();
    expect(nav.getByRole("link", { name: "Servers" })).toBeInTheDocument();
    expect(nav.getByRole("link", { name: "Audit log" })).toBeInTheDocument();
    expect(nav.queryByRole("link", { name: "API keys" })).toBeNull();
    expect(nav.queryByRole("link", { name: "Settings" })).toBeNull();
    expect(nav.queryByRole("link", { name: "Jobs" })).toBeNull();
  });

  it("shows the jobs view to platform operators only", () => {
    renderScreen(<Shell>content</Shell>, { me: fakeMe({ super_admin: true }) });
    expect(navigation().getByRole("link", { name: "Jobs" })).toBeInTheDocument();
  });

  it("names the organization and the person signed in", () => {
    renderScreen(<Shell>content</Shell>);
    expect(screen.getByTestId("org-name")).toHaveTextContent("Acme");
    expect(screen.getByRole("button", { name: /^Ada: account menu/ })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: /Switch to the (dark|light) theme/ })).toBeInTheDocument();
  });
});
