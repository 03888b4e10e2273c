// A tool's input schema (JSON Schema) read as form fields: what each field is, which are
// required, local `$ref`s followed; and the field errors of a 422 placed on those fields.
import { ProblemError, fieldPath, type FieldError } from "../../api/problem";

export type Json = Record<string, unknown>;
export type Path = (string | number)[];

/** How a field is edited. */
export type FieldKind =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "enum"
  | "object"
  | "array"
  | "json"; // anything the form cannot draw: raw JSON for this field

export interface FieldShape {
  kind: FieldKind;
  schema: Json; // resolved: `$ref` followed, a nullable union unwrapped
  nullable: boolean;
  options?: unknown[]; // enum values
}

const MAX_REF_DEPTH = 8;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Follow a local `$ref` (`#/$defs/Address`, `#/definitions/…`), keeping the referring
 * schema's own keywords (description, default). Cycles and unknown targets stop the walk. */
export function resolve(schema: unknown, root: Json, depth = 0): Json {
  if (!isObject(schema)) return {}; // `true` (anything) and malformed schemas alike
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#") || depth >= MAX_REF_DEPTH) return schema;
  let target: unknown = root;
  for (const part of ref.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    const key = decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~");
    target = isObject(target) ? target[key] : undefined;
  }
  if (!isObject(target)) return schema;
  const { $ref: _ref, ...own } = schema;
  void _ref;
  return { ...resolve(target, root, depth + 1), ...own };
}

function isNullSchema(s: unknown): boolean {
  return isObject(s) && (s.type === "null" || (Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === null));
}

/** What kind of input a schema needs. `anyOf: [X, {type: null}]` is X that may be null. */
export function shapeOf(raw: unknown, root: Json): FieldShape {
  let schema = resolve(raw, root);
  let nullable = false;
  const union = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(union)) {
    const rest = union.filter((v) => !isNullSchema(v));
    nullable = rest.length < union.length;
    if (rest.length !== 1) return { kind: "json", schema, nullable };
    const { anyOf: _a, oneOf: _o, ...own } = schema;
    void _a;
    void _o;
    schema = { ...resolve(rest[0], root), ...own };
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
    const { allOf, ...own } = schema;
    schema = { ...resolve(allOf[0], root), ...own };
  }
  if (Array.isArray(schema.enum)) {
    const options = schema.enum.filter((v) => v !== null);
    return { kind: "enum", schema, nullable: nullable || options.length < schema.enum.length, options };
  }
  if ("const" in schema) return { kind: "enum", schema, nullable, options: [schema.const] };
  let type = schema.type;
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    nullable = nullable || types.length < type.length;
    if (types.length !== 1) return { kind: "json", schema, nullable };
    type = types[0];
  }
  if (type === undefined && isObject(schema.properties)) type = "object";
  switch (type) {
    case "string":
    case "number":
    case "integer":
    case "boolean":
      return { kind: type, schema, nullable };
    case "object":
      // A free-form object (no listed properties) is edited as JSON.
      return { kind: isObject(schema.properties) && Object.keys(schema.properties).length ? "object" : "json", schema, nullable };
    case "array":
      return { kind: isObject(schema.items) ? "array" : "json", schema, nullable };
    default:
      return { kind: "json", schema, nullable };
  }
}

export interface Property {
  name: string;
  schema: unknown; // as written (may be a `$ref`)
  required: boolean;
}

/** An object schema's properties in their declared order, required ones marked. */
export function propertiesOf(schema: Json): Property[] {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(properties).map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
}

/** A field's label: its title when it has one, else its name. */
export function labelOf(name: string, schema: Json): string {
  return typeof schema.title === "string" && schema.title.trim() && schema.title.toLowerCase() !== name.toLowerCase().replace(/_/g, " ")
    ? `${schema.title} (${name})`
    : name;
}

/** The arguments with `value` at `path` (undefined removes the key; arrays keep their length). */
export function setAt(target: unknown, path: Path, value: unknown): unknown {
  if (!path.length) return value;
  const [head, ...rest] = path;
  if (typeof head === "number") {
    const list = Array.isArray(target) ? [...(target as unknown[])] : [];
    list[head] = setAt(list[head], rest, value);
    return list;
  }
  const object: Json = isObject(target) ? { ...target } : {};
  const next = setAt(object[head as string], rest, value);
  if (next === undefined) delete object[head as string];
  else object[head as string] = next;
  return object;
}

export function getAt(target: unknown, path: Path): unknown {
  let here: unknown = target;
  for (const part of path) {
    if (typeof part === "number") here = Array.isArray(here) ? here[part] : undefined;
    else here = isObject(here) ? here[part] : undefined;
  }
  return here;
}

/** A path as the error map's key: ["address", "lines", 0] gives "address.lines.0". */
export function pathKey(path: Path): string {
  return path.map(String).join(".");
}

const REQUIRED = /^'(.+)' is a required property$/;

/**
 * The field errors of a `tool-arguments-invalid` problem by argument path ("" for the
 * arguments as a whole). Its `loc` is ["body", "arguments", ...path]; a missing required
 * property is reported on its parent object, so it is moved onto the property itself.
 */
export function argumentErrors(error: unknown): Map<string, string[]> {
  const found = new Map<string, string[]>();
  if (!(error instanceof ProblemError) || error.kind !== "tool-arguments-invalid") return found;
  for (const e of (error.problem.errors ?? []) as FieldError[]) {
    const parts = fieldPath(e).split(".");
    if (parts[0] !== "arguments") continue;
    let key = parts.slice(1).join(".");
    const missing = e.type === "schema.required" ? REQUIRED.exec(e.msg) : null;
    let message = e.msg;
    if (missing?.[1]) {
      key = key ? `${key}.${missing[1]}` : missing[1];
      message = "Required";
    }
    found.set(key, [...(found.get(key) ?? []), message]);
  }
  return found;
}

/** A prompt's argument list as an object schema of strings, so the same form draws it. */
export function promptSchema(args: unknown): Json {
  const list = Array.isArray(args) ? (args as { name?: unknown; description?: unknown; required?: unknown }[]) : [];
  const properties: Json = {};
  const required: string[] = [];
  for (const a of list) {
    if (typeof a.name !== "string") continue;
    properties[a.name] = { type: "string", ...(typeof a.description === "string" ? { description: a.description } : {}) };
    if (a.required === true) required.push(a.name);
  }
  return { type: "object", properties, required };
}
