import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import SettingsPage from "../../src/pages/settings/SettingsPage";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";
import { org, problem } from "./fixtures";

const VIEWER = ["servers:read", "health:read", "org:read"];
const DEFAULTS = { read: "600/minute", write: "120/minute", expensive: "20/minute" };

function open(permissions = ALL_PERMISSIONS) {
  renderScreen(<SettingsPage />, { path: "/settings", me: fakeMe({ permissions }) });
}

async function card() {
  return within(await screen.findByTestId("gateway-limits"));
}

const patches = (calls: { method: string; body: unknown }[]) =>
  calls.filter((c) => c.method === "PATCH").map((c) => c.body);

afterEach(() => vi.unstubAllGlobals());

describe("Settings: gateway rate limits", () => {
  it("shows each class's limit with what it covers, and No limit when it is empty", async () => {
    mockApi({
      "GET /api/v1/organization": () => ({ body: org({ gateway_limits: { ...DEFAULTS, expensive: "" } }) }),
    });
    open();
    const limits = await card();
    expect(limits.getByRole("textbox", { name: "Read" })).toHaveValue("600/minute");
    expect(limits.getByRole("textbox", { name: "Write" })).toHaveValue("120/minute");
    const expensive = limits.getByRole("textbox", { name: "Expensive" });
    expect(expensive).toHaveValue("");
    expect(expensive).toHaveAttribute("placeholder", "No limit");
    expect(limits.getByText(/annotates as read-only, and every resource read and prompt/)).toBeInTheDocument();
    expect(limits.getByText("Every other tool.")).toBeInTheDocument();
    expect(limits.getByText("Tools a toolset marks as expensive.")).toBeInTheDocument();
  });

  it("saves only the classes that changed, an emptied one as no limit", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization": () => ({ body: org() }),
      "PATCH /api/v1/organization": (call) => {
        const sent = (call.body as { gateway_limits: Record<string, string> }).gateway_limits;
        return { body: org({ gateway_limits: { ...DEFAULTS, ...sent } }) };
      },
    });
    open();
    const limits = await card();
    const save = limits.getByRole("button", { name: "Save rate limits" });
    expect(save).toBeDisabled();
    const write = limits.getByRole("textbox", { name: "Write" });
    await user.clear(write);
    await user.type(write, " 60/minute ");
    await user.clear(limits.getByRole("textbox", { name: "Expensive" }));
    await user.click(save);
    expect(await screen.findByText("Gateway rate limits saved")).toBeInTheDocument();
    expect(patches(calls)).toEqual([{ gateway_limits: { write: "60/minute", expensive: "" } }]);
    expect(write).toHaveValue("60/minute");
    await waitFor(() => expect(save).toBeDisabled());
  });

  it("sends null for Use the default and shows the value then in effect", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/organization": () => ({ body: org({ gateway_limits: { ...DEFAULTS, write: "5/second" } }) }),
      "PATCH /api/v1/organization": () => ({ body: org({ gateway_limits: DEFAULTS }) }),
    });
    open();
    const limits = await card();
    expect(limits.getByRole("textbox", { name: "Write" })).toHaveValue("5/second");
    await user.click(limits.getByRole("button", { name: "Use the default write limit" }));
    await waitFor(() => expect(limits.getByRole("textbox", { name: "Write" })).toHaveValue("120/minute"));
    expect(patches(calls)).toEqual([{ gateway_limits: { write: null } }]);
  });

  it("shows the API's refusal beside the class it concerns", async () => {
    const user = userEvent.setup();
    mockApi({
      "GET /api/v1/organization": () => ({ body: org() }),
      "PATCH /api/v1/organization": () =>
        problem(422, "validation-failed", "body.gateway_limits.write: not a rate limit", [
          {
            loc: ["body", "gateway_limits", "write"],
            msg: "Value error, not a rate limit; write it like '100/minute' or '10 per second'",
            type: "value_error",
          },
        ]),
    });
    open();
    const limits = await card();
    const write = limits.getByRole("textbox", { name: "Write" });
    await user.clear(write);
    await user.type(write, "lots");
    await user.click(limits.getByRole("button", { name: "Save rate limits" }));
    const message = "not a rate limit; write it like '100/minute' or '10 per second'";
    expect(await limits.findByText(message)).toBeInTheDocument();
    expect(write).toHaveAttribute("aria-invalid", "true");
    expect(limits.getByRole("textbox", { name: "Read" })).not.toHaveAttribute("aria-invalid", "true");
    // Beside the field, not again in an alert.
    expect(limits.queryByText("The rate limits were not saved")).not.toBeInTheDocument();
    expect(write).toHaveValue("lots");
  });

  it("shows any other refusal as an alert", async () => {
    const user = userEvent.setup();
    mockApi({
      "GET /api/v1/organization": () => ({ body: org() }),
      "PATCH /api/v1/organization": () => problem(403, "forbidden", "You may not change this organization."),
    });
    open();
    const limits = await card();
    await user.type(limits.getByRole("textbox", { name: "Read" }), "0");
    await user.click(limits.getByRole("button", { name: "Save rate limits" }));
    expect(await limits.findByText("You may not change this organization.")).toBeInTheDocument();
    expect(limits.getByText("The rate limits were not saved")).toBeInTheDocument();
  });

  it("is read-only without org:write", async () => {
    mockApi({ "GET /api/v1/organization": () => ({ body: org() }) });
    open(VIEWER);
    const limits = await card();
    expect(limits.getByRole("textbox", { name: "Write" })).toHaveAttribute("readonly");
    expect(limits.queryByRole("button", { name: /Use the default/ })).not.toBeInTheDocument();
    expect(limits.queryByRole("button", { name: "Save rate limits" })).not.toBeInTheDocument();
  });
});
