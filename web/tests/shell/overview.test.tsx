import { screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import Overview from "../../src/pages/profile/Overview";
import { fakeMe, renderScreen } from "../render";

describe("Overview", () => {
  it("shows the profile: name, email, organization and roles", () => {
    renderScreen(<Overview />, { me: fakeMe({ roles: ["engineer", "viewer"] }) });
    expect(screen.getByTestId("profile-email")).toHaveTextContent("ada@acme.example");
    expect(screen.getByTestId("profile-org")).toHaveTextContent("Acme (acme)");
    expect(screen.getByTestId("profile-roles")).toHaveTextContent("engineer");
    expect(screen.getByTestId("profile-roles")).toHaveTextContent("viewer");
  });
});
