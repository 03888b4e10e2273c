import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import JobsPage from "../../src/pages/settings/JobsPage";
import { fakeMe, mockApi, renderScreen } from "../render";
import { job, problem, stats } from "./fixtures";

function show() {
  return renderScreen(<JobsPage />, { path: "/admin/jobs", me: fakeMe({ super_admin: true }) });
}

afterEach(() => vi.unstubAllGlobals());

describe("Jobs (platform operators)", () => {
  it("shows the counts and the dead letters first", async () => {
    const calls = mockApi({
      "GET /api/v1/admin/jobs/stats": () => ({ body: stats() }),
      "GET /api/v1/admin/jobs": () => ({ body: { items: [job(), job({ id: 43 })], next_cursor: null } }),
    });
    show();
    expect(await screen.findByTestId("stat-dead")).toHaveTextContent("3");
    const rows = await screen.findAllByTestId("job-row");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText("dead letter")).toBeInTheDocument();
    expect(within(rows[0]!).getByText("OperationalError: the database went away")).toBeInTheDocument();
    const list = calls.find((c) => c.path === "/api/v1/admin/jobs")!;
    expect(list.query.get("state")).toBe("dead");
  });

  it("says when the dead-letter queue is empty", async () => {
    mockApi({
      "GET /api/v1/admin/jobs/stats": () => ({ body: stats({ dead: 0, dead_by_task: {} }) }),
      "GET /api/v1/admin/jobs": () => ({ body: { items: [], next_cursor: null } }),
    });
    show();
    expect(await screen.findByTestId("empty-state")).toHaveTextContent("dead-letter queue is empty");
  });

  it("shows the problem when the caller is not a platform operator", async () => {
    const refused = () =>
      problem(403, "super-admin-required", "This operation is reserved for platform operators (super admins).");
    mockApi({ "GET /api/v1/admin/jobs/stats": refused, "GET /api/v1/admin/jobs": refused });
    show();
    expect(
      (await screen.findAllByText("This operation is reserved for platform operators (super admins).")).length,
    ).toBeGreaterThan(0);
  });

  it("lists every state when asked", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/admin/jobs/stats": () => ({ body: stats() }),
      "GET /api/v1/admin/jobs": (call) => ({
        body: { items: call.query.get("state") ? [] : [job({ state: "succeeded", id: 7 })], next_cursor: null },
      }),
    });
    show();
    await screen.findByTestId("empty-state");
    await user.click(screen.getByRole("combobox", { name: "State" }));
    await user.click(await screen.findByRole("option", { name: "All states", hidden: true }));
    expect(await screen.findByText("succeeded")).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "/api/v1/admin/jobs").at(-1)!.query.has("state")).toBe(false);
  }, 15_000);

  it("shows a job's detail and replays it after a confirmation", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/admin/jobs/stats": () => ({ body: stats() }),
      "GET /api/v1/admin/jobs": () => ({ body: { items: [job()], next_cursor: null } }),
      "GET /api/v1/admin/jobs/{job_id}": () => ({ body: job() }),
      "POST /api/v1/admin/jobs/{job_id}/replay": () => ({ body: job({ state: "queued", attempts: 5 }) }),
    });
    show();
    await user.click(await screen.findByRole("button", { name: "Details of job 42" }));
    const dialog = await screen.findByRole("dialog");
    expect(await within(dialog).findByTestId("job-last-error")).toHaveTextContent("the database went away");
    await user.click(within(dialog).getByRole("button", { name: "Replay" }));
    await user.click(within(dialog).getByRole("button", { name: "Replay now" }));
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/admin/jobs/42/replay")).toBe(true));
    expect(await screen.findByText("Job 42 queued again")).toBeInTheDocument();
  }, 15_000);

  it("discards a dead job after a confirmation", async () => {
    const user = userEvent.setup();
    const calls = mockApi({
      "GET /api/v1/admin/jobs/stats": () => ({ body: stats() }),
      "GET /api/v1/admin/jobs": () => ({ body: { items: [job()], next_cursor: null } }),
      "GET /api/v1/admin/jobs/{job_id}": () => ({ body: job() }),
      "POST /api/v1/admin/jobs/{job_id}/discard": () => ({ status: 204 }),
    });
    show();
    await user.click(await screen.findByRole("button", { name: "Details of job 42" }));
    await user.click(await screen.findByRole("button", { name: "Discard" }));
    await user.click(await screen.findByRole("button", { name: "Discard job" }));
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/admin/jobs/42/discard")).toBe(true));
    expect(await screen.findByText("Job 42 discarded")).toBeInTheDocument();
  }, 15_000);

  it("offers no replay for a job that is not dead", async () => {
    const user = userEvent.setup();
    mockApi({
      "GET /api/v1/admin/jobs/stats": () => ({ body: stats() }),
      "GET /api/v1/admin/jobs": () => ({ body: { items: [job({ state: "running" })], next_cursor: null } }),
      "GET /api/v1/admin/jobs/{job_id}": () => ({ body: job({ state: "running", last_error: null }) }),
    });
    show();
    await user.click(await screen.findByRole("button", { name: "Details of job 42" }));
    expect(await screen.findByText("No failed attempt recorded.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Replay" })).not.toBeInTheDocument();
  });
});
