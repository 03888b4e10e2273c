import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { notifications } from "@mantine/notifications";
import { beforeEach, describe, expect, it, vi } from "vitest";

import ToolsetEditor from "../../src/pages/toolsets/ToolsetEditor";
import { nameProblem } from "../../src/pages/toolsets/values";
import { mockApi, renderScreen, type Call, type Handler } from "../render";
import { capabilities, fakeToolset, problem, SERVERS, TICKETS, TOOLSET_ID } from "./fixtures";

// Typing into Mantine inputs under jsdom is slow; these tests type a lot.
vi.setConfig({ testTimeout: 20_000 });

// Notifications outlive a test (one store for the whole file): start each test without them.
beforeEach(() => notifications.clean());

const BASE: Record<string, Handler> = {
  "GET /api/v1/servers": () => ({ body: SERVERS }),
  "GET /api/v1/servers/{id}/capabilities": (call) => ({ body: capabilities(call.path.split("/")[4]!) }),
};

const sent = (calls: Call[], method: string) => calls.find((c) => c.method === method && c.path.startsWith("/api/v1/toolsets"));

function renderNew() {
  return renderScreen(<ToolsetEditor />, { path: "/toolsets/new", route: "/toolsets/new" });
}

function renderEdit() {
  return renderScreen(<ToolsetEditor />, {
    path: `/toolsets/${TOOLSET_ID}/edit`,
    route: "/toolsets/:toolsetId/edit",
  });
}

describe("the toolset name", () => {
  it.each([
    ["", "Enter a name."],
    ["Support", "Start with a lowercase letter or a digit."],
    ["-agent", "Start with a lowercase letter or a digit."],
    ["support_agent", "Use only lowercase letters, digits and dashes (-)."],
    ["support agent", "Use only lowercase letters, digits and dashes (-)."],
    ["a".repeat(64), "At most 63 characters."],
  ])("refuses %j", (name, message) => {
    expect(nameProblem(name)).toBe(message);
  });

  it.each(["a", "9lives", "support-agent", "a".repeat(63)])("accepts %j", (name) => {
    expect(nameProblem(name)).toBeNull();
  });
});

describe("New toolset", () => {
  it("checks the name as it is typed", async () => {
    mockApi(BASE);
    const user = userEvent.setup();
    renderNew();
    const name = await screen.findByRole("textbox", { name: /^Name/ });
    await user.type(name, "Sup");
    expect(await screen.findByText("Start with a lowercase letter or a digit.")).toBeInTheDocument();
    expect(name).toHaveAttribute("aria-invalid", "true");
    await user.clear(name);
    await user.type(name, "sup_");
    expect(await screen.findByText("Use only lowercase letters, digits and dashes (-).")).toBeInTheDocument();
    await user.type(name, "{backspace}-agent");
    expect(screen.queryByText(/lowercase letters, digits and dashes \(-\)/)).not.toBeInTheDocument();
    expect(name).not.toHaveAttribute("aria-invalid", "true");
  });

  it("sends nothing while a field is invalid", async () => {
    const calls = mockApi(BASE);
    const user = userEvent.setup();
    renderNew();
    await user.click(await screen.findByRole("button", { name: "Add a server" }));
    await user.click(screen.getByRole("button", { name: "Create toolset" }));
    expect(await screen.findByText("Enter a name.")).toBeInTheDocument();
    expect(screen.getByText("Choose a server.")).toBeInTheDocument();
    expect(sent(calls, "POST")).toBeUndefined();
  });

  it("creates a toolset from chosen tools, renamed and classed, the default class from the annotations", async () => {
    const calls = mockApi({
      ...BASE,
      "POST /api/v1/toolsets": (call) => ({ status: 201, body: { ...fakeToolset(), ...(call.body as object) } }),
    });
    const user = userEvent.setup();
    renderNew();
    await user.type(await screen.findByRole("textbox", { name: /^Name/ }), "support-agent");
    await user.type(screen.getByRole("textbox", { name: "Description" }), "For support");
    await user.type(screen.getByRole("textbox", { name: /Timeout/ }), "20");
    await user.click(screen.getByRole("button", { name: "Add a server" }));
    await user.click(screen.getByRole("combobox", { name: /^Server/ }));
    await user.click(await screen.findByRole("option", { name: /^tickets/, hidden: true }));

    const tools = await screen.findByRole("table", { name: "Tools of tickets" });
    // Defaults: what the annotations imply (readOnlyHint: read; otherwise write).
    expect(within(tools).getByRole("combobox", { name: "Class of search" })).toHaveDisplayValue("Default: read");
    expect(within(tools).getByRole("combobox", { name: "Class of create_issue" })).toHaveDisplayValue("Default: write");
    // Only tools are offered, not the prompt.
    expect(within(tools).queryByText("greeting")).not.toBeInTheDocument();

    await user.click(screen.getByRole("radio", { name: "Only the tools I choose" }));
    await user.click(within(tools).getByRole("checkbox", { name: "Use search" }));
    await user.type(within(tools).getByRole("textbox", { name: "Name clients see for search" }), "find_tickets");
    await user.selectOptions(within(tools).getByRole("combobox", { name: "Class of search" }), "expensive");
    await user.type(screen.getByRole("textbox", { name: /^Prefix/ }), "t_");
    await user.click(screen.getByRole("checkbox", { name: "Its resources too" }));
    await user.click(screen.getByRole("button", { name: "Create toolset" }));

    await waitFor(() => expect(sent(calls, "POST")).toBeDefined());
    expect(sent(calls, "POST")!.body).toEqual({
      name: "support-agent",
      description: "For support",
      timeout_seconds: 20,
      servers: [
        {
          server_id: TICKETS.id,
          tools: ["search"],
          prefix: "t_",
          prompts: true,
          resources: false,
          rename: { search: "find_tickets" },
          classes: { search: "expensive" },
        },
      ],
    });
  });

  it("asks for a tool when only chosen tools are wanted", async () => {
    const calls = mockApi(BASE);
    const user = userEvent.setup();
    renderNew();
    await user.type(await screen.findByRole("textbox", { name: /^Name/ }), "x");
    await user.click(screen.getByRole("button", { name: "Add a server" }));
    await user.click(screen.getByRole("combobox", { name: /^Server/ }));
    await user.click(await screen.findByRole("option", { name: /^github/, hidden: true }));
    await screen.findByRole("table", { name: "Tools of github" });
    await user.click(screen.getByRole("radio", { name: "Only the tools I choose" }));
    await user.click(screen.getByRole("button", { name: "Create toolset" }));
    expect(await screen.findByText("Choose at least one tool, or All tools.")).toBeInTheDocument();
    expect(sent(calls, "POST")).toBeUndefined();
  });

  it("shows a taken name (409) beside the name", async () => {
    mockApi({
      ...BASE,
      "POST /api/v1/toolsets": () =>
        problem(409, {
          type: "/problems/toolset-name-taken",
          title: "A toolset with this name exists",
          detail: "Your organization has a toolset named 'support-agent'.",
        }),
    });
    const user = userEvent.setup();
    renderNew();
    const name = await screen.findByRole("textbox", { name: /^Name/ });
    await user.type(name, "support-agent");
    await user.click(screen.getByRole("button", { name: "Create toolset" }));
    expect(await screen.findAllByText("Your organization has a toolset named 'support-agent'.")).not.toHaveLength(0);
    await waitFor(() => expect(name).toHaveAttribute("aria-invalid", "true"));
    // Typing another name clears the API's answer.
    await user.type(name, "-2");
    expect(name).not.toHaveAttribute("aria-invalid", "true");
  });
});

describe("Edit toolset", () => {
  const editHandlers = (extra: Record<string, Handler> = {}): Record<string, Handler> => ({
    ...BASE,
    "GET /api/v1/toolsets/{id}": () => ({ body: fakeToolset() }),
    ...extra,
  });

  it("starts from the toolset, keeps its name, and sends the servers whole", async () => {
    const calls = mockApi(
      editHandlers({ "PATCH /api/v1/toolsets/{id}": (call) => ({ body: { ...fakeToolset(), ...(call.body as object) } }) }),
    );
    const user = userEvent.setup();
    renderEdit();
    const name = await screen.findByRole("textbox", { name: /^Name/ });
    expect(name).toHaveValue("support-agent");
    expect(name).toBeDisabled();
    const members = screen.getAllByTestId("toolset-member");
    expect(members).toHaveLength(2);
    const tickets = await within(members[1]!).findByRole("table", { name: "Tools of tickets" });
    expect(within(tickets).getByRole("textbox", { name: "Name clients see for search" })).toHaveValue("find_tickets");
    expect(within(tickets).getByRole("combobox", { name: "Class of search" })).toHaveDisplayValue("expensive");
    // An unchosen tool's settings are disabled.
    expect(within(tickets).getByRole("textbox", { name: "Name clients see for create_issue" })).toBeDisabled();

    await user.click(within(members[0]!).getByRole("button", { name: "Remove github from the toolset" }));
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(sent(calls, "PATCH")).toBeDefined());
    expect(sent(calls, "PATCH")!.body).toEqual({
      description: "What the support agent may use",
      timeout_seconds: 30,
      servers: [
        {
          server_id: TICKETS.id,
          tools: ["search"],
          prefix: null,
          prompts: false,
          resources: false,
          rename: { search: "find_tickets" },
          classes: { search: "expensive" },
        },
      ],
    });
  });

  it("shows a name collision (422) beside the prefix of the server it names", async () => {
    mockApi(
      editHandlers({
        "PATCH /api/v1/toolsets/{id}": () =>
          problem(422, {
            detail: "Two servers of the toolset expose 'search': give one of them a `prefix` or a `rename`.",
            errors: [
              {
                loc: ["body", "servers", 1, "prefix"],
                msg: "'search' is already exposed by another server of the toolset",
                type: "name_collision",
              },
            ],
          }),
      }),
    );
    const user = userEvent.setup();
    renderEdit();
    await screen.findAllByTestId("toolset-member");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    const members = screen.getAllByTestId("toolset-member");
    const prefixes = members.map((m) => within(m).getByRole("textbox", { name: /^Prefix/ }));
    await waitFor(() => expect(prefixes[1]).toHaveAttribute("aria-invalid", "true"));
    expect(within(members[1]!).getByText("'search' is already exposed by another server of the toolset")).toBeInTheDocument();
    expect(prefixes[0]).not.toHaveAttribute("aria-invalid", "true");
    // The alert says what happened, without repeating the field it placed.
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Two servers of the toolset expose 'search'");
    expect(alert).not.toHaveTextContent("already exposed by another server");
  });

  it("places other field errors of a server and lists the rest in the alert", async () => {
    mockApi(
      editHandlers({
        "PATCH /api/v1/toolsets/{id}": () =>
          problem(422, {
            detail: "The request is not valid.",
            errors: [
              { loc: ["body", "servers", 0, "server_id"], msg: "no such server in your organization", type: "not_found" },
              { loc: ["body", "servers", 1], msg: "Value error, tools: 'x y' is not a tool name", type: "value_error" },
              { loc: ["body", "timeout_seconds"], msg: "Input should be less than or equal to 3600", type: "less_than_equal" },
            ],
          }),
      }),
    );
    const user = userEvent.setup();
    renderEdit();
    await screen.findAllByTestId("toolset-member");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("no such server in your organization")).toBeInTheDocument();
    const members = screen.getAllByTestId("toolset-member");
    expect(within(members[1]!).getByText("tools: 'x y' is not a tool name")).toBeInTheDocument();
    expect(screen.getByText("Input should be less than or equal to 3600")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: /Timeout/ })).toHaveAttribute("aria-invalid", "true");
  });
});
