import { waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import type { components } from "../../src/api/schema";

type ApiKey = components["schemas"]["ApiKey"];

const DAY = 24 * 3600 * 1000;

export function fakeKey(overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    id: "a25ba237-5521-4006-bb5e-73980a4284ca",
    name: "ci-pipeline",
    description: "GitHub Actions",
    prefix: "cjx5p978l258",
    scopes: ["servers:read"],
    status: "active",
    created_at: new Date(Date.now() - 3 * DAY).toISOString(),
    expires_at: new Date(Date.now() + 60 * DAY).toISOString(),
    revoked_at: null,
    last_used_at: null,
    kind: "user",
    created_by_user_id: "5d866963-0000-4000-8000-000000000001",
    ...overrides,
  };
}

export const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

export function problem(status: number, type: string, title: string, detail: string, extra = {}) {
  return { status, body: { type: `/problems/${type}`, title, status, detail, ...extra } };
}

/** The option `name` in the dropdown that the combobox input `input` controls (opened first). */
export async function pickOption(input: HTMLElement, name: string | RegExp): Promise<void> {
  await userEvent.click(input);
  const list = await waitFor(() => {
    const id = input.getAttribute("aria-controls");
    const found = id ? document.getElementById(id) : null;
    if (!found) throw new Error("the dropdown did not open");
    return found;
  });
  await userEvent.click(within(list).getByRole("option", { name, hidden: true }));
}

/** The visible input labelled `label` (Mantine's selects also render a hidden input). */
export function field(container: HTMLElement, label: string | RegExp): HTMLElement {
  const found = within(container)
    .getAllByLabelText(label)
    .find((e) => !(e instanceof HTMLInputElement && e.type === "hidden"));
  if (!found) throw new Error(`no visible field labelled ${String(label)}`);
  return found;
}
