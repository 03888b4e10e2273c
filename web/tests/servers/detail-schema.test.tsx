import { describe, expect, it } from "vitest";

import { brief, jsonChanges } from "../../src/pages/servers/detail/jsonDiff";
import { schemaRows, typeOf } from "../../src/pages/servers/detail/schema";

describe("schemaRows", () => {
  it("lists fields with type, required, description, allowed values and default", () => {
    const rows = schemaRows({
      type: "object",
      required: ["city"],
      properties: {
        city: { type: "string", description: "City" },
        units: { type: "string", enum: ["metric", "imperial"], default: "metric" },
        when: { type: "string", format: "date-time" },
      },
    });
    expect(rows.map((r) => [r.name, r.type, r.required, r.depth])).toEqual([
      ["city", "string", true, 0],
      ["units", "string", false, 0],
      ["when", "string (date-time)", false, 0],
    ]);
    expect(rows[0]!.description).toBe("City");
    expect(rows[1]!.allowed).toBe("metric, imperial");
    expect(rows[1]!.defaultValue).toBe("metric");
  });

  it("indents nested objects, follows $refs and reads optional values as unions with null", () => {
    const rows = schemaRows({
      type: "object",
      properties: {
        place: { $ref: "#/$defs/Place" },
        tags: { type: "array", items: { type: "string" } },
        stops: { type: "array", items: { $ref: "#/$defs/Place" } },
        note: { anyOf: [{ type: "string" }, { type: "null" }], default: null },
      },
      $defs: {
        Place: {
          type: "object",
          required: ["lat"],
          properties: { lat: { type: "number" }, kind: { enum: ["city", "village"] } },
        },
      },
    });
    expect(rows.map((r) => [r.key, r.type, r.depth])).toEqual([
      ["place", "Place", 0],
      ["place.lat", "number", 1],
      ["place.kind", "enum", 1],
      ["tags", "array of string", 0],
      ["stops", "array of Place", 0],
      ["stops[].lat", "number", 1],
      ["stops[].kind", "enum", 1],
      ["note", "string | null", 0],
    ]);
    expect(rows.find((r) => r.key === "place.lat")!.required).toBe(true);
    expect(rows.find((r) => r.key === "place.kind")!.allowed).toBe("city, village");
  });

  it("stops at a schema that refers to itself", () => {
    const rows = schemaRows({
      type: "object",
      properties: { root: { $ref: "#/$defs/Node" } },
      $defs: { Node: { type: "object", properties: { child: { $ref: "#/$defs/Node" } } } },
    });
    expect(rows.map((r) => r.key)).toEqual(["root", "root.child"]);
  });

  it("has no rows for what is not an object schema", () => {
    expect(schemaRows(undefined)).toEqual([]);
    expect(schemaRows({ type: "object" })).toEqual([]);
    expect(typeOf(true, {})).toBe("any");
  });
});

describe("jsonChanges", () => {
  it("names the paths that differ, with before and after", () => {
    const changes = jsonChanges(
      { type: "object", properties: { city: { type: "string" } } },
      { type: "object", properties: { city: { type: "string", description: "City" }, days: { type: "integer" } } },
      "inputSchema",
    );
    expect(changes).toEqual([
      { path: "inputSchema.properties.city.description", before: undefined, after: "City" },
      { path: "inputSchema.properties.days", before: undefined, after: { type: "integer" } },
    ]);
    expect(jsonChanges("a", "b", "description")).toEqual([{ path: "description", before: "a", after: "b" }]);
    expect(brief(undefined)).toBe("(absent)");
    expect(brief("x".repeat(500)).length).toBeLessThanOrEqual(160);
  });
});
