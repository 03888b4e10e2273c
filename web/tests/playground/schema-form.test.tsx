import { fireEvent, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";

import { ProblemError } from "../../src/api/problem";
import { SchemaForm } from "../../src/pages/playground/SchemaForm";
import { argumentErrors, promptSchema, shapeOf, type Json } from "../../src/pages/playground/schema";
import { renderScreen } from "../render";
import { SHIP_SCHEMA } from "./fixtures";

function Harness({ schema, initial = {}, errors = new Map() }: { schema: Json; initial?: unknown; errors?: Map<string, string[]> }) {
  const [value, setValue] = useState<unknown>(initial);
  return (
    <>
      <SchemaForm schema={schema} value={value} onChange={setValue} errors={errors} />
      <output data-testid="value">{JSON.stringify(value)}</output>
    </>
  );
}

const value = () => JSON.parse(screen.getByTestId("value").textContent ?? "null") as unknown;

describe("The arguments form from an input schema", () => {
  it("draws a field a property, marks the required ones and follows $ref to $defs", () => {
    renderScreen(<Harness schema={SHIP_SCHEMA} />);
    const title = screen.getByRole("textbox", { name: /title/ });
    expect(title).toHaveAttribute("aria-required", "true");
    expect(screen.getByText("What to ship")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "note" })).not.toHaveAttribute("aria-required");
    // The nested object ($ref to #/$defs/Address) is a fieldset with its own required field.
    const address = screen.getByRole("group", { name: /address/ });
    expect(within(address).getByRole("textbox", { name: /city/ })).toHaveAttribute("aria-required", "true");
    expect(within(address).getByRole("textbox", { name: "zip" })).toBeInTheDocument();
    expect(within(address).getByText("Postal code")).toBeInTheDocument();
    // Integer, boolean, default shown.
    expect(screen.getByRole("textbox", { name: "count" })).toBeInTheDocument();
    expect(screen.getByText(/Default: 1/)).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: "fragile" })).toBeInTheDocument();
  });

  it("writes what is typed into the arguments, nested objects included", async () => {
    const user = userEvent.setup();
    renderScreen(<Harness schema={SHIP_SCHEMA} />);
    await user.type(screen.getByRole("textbox", { name: /title/ }), "Books");
    await user.type(screen.getByRole("textbox", { name: /city/ }), "Oslo");
    await user.type(screen.getByRole("textbox", { name: "count" }), "3");
    await user.click(screen.getByRole("checkbox", { name: "fragile" }));
    expect(value()).toEqual({ title: "Books", address: { city: "Oslo" }, count: 3, fragile: true });
    // Emptying an optional field removes it.
    await user.clear(screen.getByRole("textbox", { name: /title/ }));
    expect(value()).toEqual({ address: { city: "Oslo" }, count: 3, fragile: true });
  });

  it("offers an enum's values as choices", async () => {
    const user = userEvent.setup();
    renderScreen(<Harness schema={SHIP_SCHEMA} />);
    const priority = screen.getByRole("combobox", { name: /priority/ });
    await user.click(priority);
    const options = await screen.findAllByRole("option", { hidden: true });
    expect(options.map((o) => o.textContent)).toEqual(["low", "normal", "high"]);
    await user.click(screen.getByRole("option", { name: "high", hidden: true }));
    expect(value()).toEqual({ priority: "high" });
  });

  it("adds and removes the rows of an array", async () => {
    const user = userEvent.setup();
    renderScreen(<Harness schema={SHIP_SCHEMA} />);
    const tags = screen.getByRole("group", { name: "tags" });
    expect(within(tags).getByText("No items.")).toBeInTheDocument();
    await user.click(within(tags).getByRole("button", { name: "Add to tags" }));
    await user.click(within(tags).getByRole("button", { name: "Add to tags" }));
    await user.type(within(tags).getByRole("textbox", { name: "tags 1" }), "a");
    await user.type(within(tags).getByRole("textbox", { name: "tags 2" }), "b");
    expect(value()).toEqual({ tags: ["a", "b"] });
    await user.click(within(tags).getByRole("button", { name: "Remove tags 1" }));
    expect(value()).toEqual({ tags: ["b"] });
    await user.click(within(tags).getByRole("button", { name: "Remove tags 1" }));
    expect(value()).toEqual({});
  });

  it("edits what it cannot draw as JSON, and says when the JSON is wrong", () => {
    const schema = { type: "object", properties: { filter: { anyOf: [{ type: "string" }, { type: "integer" }] } } };
    renderScreen(<Harness schema={schema} />);
    const filter = screen.getByRole("textbox", { name: "filter" });
    fireEvent.change(filter, { target: { value: "[1" } });
    expect(screen.getByText("Not valid JSON")).toBeInTheDocument();
    fireEvent.change(filter, { target: { value: "42" } });
    expect(value()).toEqual({ filter: 42 });
  });

  it("shows field errors beside their fields", () => {
    const errors = new Map([
      ["address.city", ["Required"]],
      ["count", ["'x' is not of type 'integer'"]],
      ["", ["Additional properties are not allowed ('extra' was unexpected)"]],
    ]);
    renderScreen(<Harness schema={SHIP_SCHEMA} errors={errors} />);
    const city = screen.getByRole("textbox", { name: /city/ });
    expect(city).toHaveAttribute("aria-invalid", "true");
    expect(city).toHaveAccessibleDescription(/Required/);
    expect(screen.getByRole("textbox", { name: "count" })).toHaveAccessibleDescription(/not of type 'integer'/);
    expect(screen.getByText(/Additional properties are not allowed/)).toBeInTheDocument();
  });
});

describe("Reading schemas and errors", () => {
  it("reads an Optional field (anyOf with null) as its own type", () => {
    expect(shapeOf({ anyOf: [{ type: "integer" }, { type: "null" }] }, {}).kind).toBe("integer");
    expect(shapeOf({ type: ["string", "null"] }, {}).kind).toBe("string");
    expect(shapeOf({ type: "object" }, {}).kind).toBe("json");
    expect(shapeOf({ $ref: "#/$defs/Missing" }, {}).kind).toBe("json");
  });

  it("places a 422's errors by argument path, a missing property on the property", () => {
    const error = new ProblemError({
      type: "/problems/tool-arguments-invalid",
      title: "The arguments do not match the tool's input schema",
      status: 422,
      errors: [
        { loc: ["body", "arguments", "address"], msg: "'city' is a required property", type: "schema.required" },
        { loc: ["body", "arguments", "tags", 1], msg: "3 is not of type 'string'", type: "schema.type" },
        { loc: ["body", "arguments"], msg: "'title' is a required property", type: "schema.required" },
      ],
    });
    expect(Object.fromEntries(argumentErrors(error))).toEqual({
      "address.city": ["Required"],
      "tags.1": ["3 is not of type 'string'"],
      title: ["Required"],
    });
    expect(argumentErrors(new Error("x")).size).toBe(0);
  });

  it("turns a prompt's argument list into an object schema of strings", () => {
    expect(promptSchema([{ name: "name", description: "Who", required: true }, { name: "tone" }])).toEqual({
      type: "object",
      properties: { name: { type: "string", description: "Who" }, tone: { type: "string" } },
      required: ["name"],
    });
  });
});
