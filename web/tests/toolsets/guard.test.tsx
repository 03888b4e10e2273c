import { screen, waitFor } from "@testing-library/react";
import { Suspense } from "react";
import { Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";

import { useSession } from "../../src/auth/session";
import NotFound from "../../src/pages/NotFound";
import { SCREENS } from "../../src/routes";
import { ALL_PERMISSIONS, fakeMe, mockApi, renderScreen } from "../render";

const READER = ["servers:read", "toolsets:read"];

/** The console's routes as App.tsx draws them: the screens the caller may see, then "nothing here". */
function Screens() {
  const session = useSession();
  return (
    <Suspense fallback={null}>
      <Routes>
        {SCREENS.filter((s) => s.visible?.(session) ?? true).map((s) => (
          <Route key={s.path} path={s.path} element={<s.component />} />
        ))}
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Suspense>
  );
}

function at(path: string, permissions: string[]) {
  renderScreen(<Screens />, { path, me: fakeMe({ permissions }) });
}

afterEach(() => vi.unstubAllGlobals());

describe("The toolset editor's addresses", () => {
  it.each(["/toolsets/new", "/toolsets/ts1/edit"])(
    "answer nothing here at %s without toolsets:write, and ask the API nothing",
    async (path) => {
      const calls = mockApi({});
      at(path, READER);
      expect(await screen.findByRole("heading", { name: "Nothing here" })).toBeInTheDocument();
      expect(calls.filter((c) => c.path.startsWith("/api/v1/toolsets"))).toEqual([]);
    },
  );

  it("still open a toolset's page for a reader", async () => {
    const calls = mockApi({});
    at("/toolsets/ts1", READER);
    await waitFor(() => expect(calls.some((c) => c.path === "/api/v1/toolsets/ts1")).toBe(true));
    expect(screen.queryByRole("heading", { name: "Nothing here" })).not.toBeInTheDocument();
  });

  it("open the editor with toolsets:write", async () => {
    mockApi({});
    at("/toolsets/new", ALL_PERMISSIONS);
    expect(await screen.findByRole("textbox", { name: /^Name/ })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Nothing here" })).not.toBeInTheDocument();
  });

  it("never offer two screens for one address to the same caller", () => {
    for (const permissions of [READER, ALL_PERMISSIONS]) {
      const session = { can: (p: string) => permissions.includes(p), me: fakeMe({ permissions }) };
      const paths = SCREENS.filter((s) => s.visible?.(session as never) ?? true).map((s) => s.path);
      expect(new Set(paths).size).toBe(paths.length);
    }
  });
});
