import { MantineProvider } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { ProblemError } from "../../src/api/problem";
import { ProblemAlert } from "../../src/components/ProblemAlert";
import { QueryState } from "../../src/components/QueryState";
import { SecretOnce } from "../../src/components/SecretOnce";
import { fromNow } from "../../src/components/time";
import { SignIn } from "../../src/pages/SignIn";
import { renderScreen } from "../render";

function Listing({ load }: { load: () => Promise<string[]> }) {
  const query = useQuery({ queryKey: ["things", load], queryFn: load });
  return (
    <QueryState query={query} isEmpty={(d) => d.length === 0} empty="No things yet.">
      {(things) => <ul>{things.map((t) => <li key={t}>{t}</li>)}</ul>}
    </QueryState>
  );
}

describe("shared components", () => {
  it("shows a problem's title, detail, fields and request id", () => {
    const error = new ProblemError({
      type: "/problems/validation-failed",
      title: "Invalid request",
      status: 422,
      detail: "Two fields are wrong.",
      request_id: "req-9",
      errors: [{ loc: ["body", "url"], msg: "must be https", type: "value_error" }],
    });
    render(
      <MantineProvider>
        <ProblemAlert error={error} />
      </MantineProvider>,
    );
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Invalid request");
    expect(alert).toHaveTextContent("Two fields are wrong.");
    expect(alert).toHaveTextContent("url: must be https");
    expect(alert).toHaveTextContent("req-9");
  });

  it("has loading, empty, error and loaded states", async () => {
    renderScreen(<Listing load={() => new Promise(() => {})} />);
    expect(screen.getByRole("status")).toBeInTheDocument();
    renderScreen(<Listing load={async () => []} />);
    expect(await screen.findByText("No things yet.")).toBeInTheDocument();
    const failing = async (): Promise<string[]> => {
      throw new ProblemError({ type: "/problems/forbidden", title: "Forbidden", status: 403, detail: "Not yours." });
    };
    renderScreen(<Listing load={failing} />);
    expect(await screen.findByText("Not yours.")).toBeInTheDocument();
    renderScreen(<Listing load={async () => ["one"]} />);
    expect(await screen.findByText("one")).toBeInTheDocument();
  });

  it("shows a secret once with a copy button and the warning", () => {
    render(
      <MantineProvider>
        <SecretOnce label="API key" value="sc_live_123" />
      </MantineProvider>,
    );
    expect(screen.getByTestId("secret-value")).toHaveTextContent("sc_live_123");
    expect(screen.getByText(/won't see it again/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy API key" })).toBeInTheDocument();
  });

  it("says how long ago or how soon", () => {
    const now = Date.parse("2026-01-10T00:00:00Z");
    expect(fromNow("2026-01-13T00:00:00Z", now)).toBe("in 3 days");
    expect(fromNow("2026-01-09T23:00:00Z", now)).toBe("1 hour ago");
    expect(fromNow(null, now)).toBe("never");
  });

  it("asks for the organization to sign in, or says the session ended", () => {
    render(
      <MantineProvider>
        <SignIn expired={false} />
      </MantineProvider>,
    );
    expect(screen.getByLabelText(/Organization/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Continue to sign-in" })).toBeDisabled();
    render(
      <MantineProvider>
        <SignIn expired loginUrl="/auth/login?org=acme" />
      </MantineProvider>,
    );
    expect(screen.getByRole("alert")).toHaveTextContent("Your session ended");
    expect(screen.getByRole("link", { name: "Sign in again" })).toHaveAttribute("href", "/auth/login?org=acme");
  });
});
