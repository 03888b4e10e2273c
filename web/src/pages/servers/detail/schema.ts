// A JSON Schema as rows of a table: one row a field, nested objects' fields beneath their
// parent (depth), local `$ref`s followed, `anyOf`/`oneOf` read as a union of types.

export interface FieldRow {
  key: string; // unique within the table: the field's path
  name: string;
  depth: number;
  type: string;
  required: boolean;
  description?: string;
  allowed?: string; // enum or const values
  defaultValue?: string;
}

type Json = Record<string, unknown>;

const MAX_DEPTH = 6;
const MAX_ROWS = 500;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolve(schema: unknown, root: Json, seen: Set<string>): Json {
  if (!isObject(schema)) return {};
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith("#/") && !seen.has(ref)) {
    let target: unknown = root;
    for (const part of ref.slice(2).split("/")) {
      target = isObject(target) ? target[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
    }
    if (isObject(target)) {
      const { $ref: _ignored, ...rest } = schema;
      void _ignored;
      return { ...resolve(target, root, new Set(seen).add(ref)), ...rest };
    }
  }
  return schema;
}

function refName(schema: Json): string | undefined {
  return typeof schema.$ref === "string" ? schema.$ref.split("/").pop() : undefined;
}

function variants(schema: Json): unknown[] {
  const union = schema.anyOf ?? schema.oneOf;
  return Array.isArray(union) ? union : [];
}

/** The type of a schema as people read it: "string", "array of integer", "string | null". */
export function typeOf(schema: unknown, root: Json, seen: Set<string> = new Set()): string {
  if (!isObject(schema)) return schema === true ? "any" : "—";
  const named = refName(schema);
  const s = resolve(schema, root, seen);
  if (Array.isArray(s.type)) return s.type.map(String).join(" | ");
  if (typeof s.type === "string") {
    if (s.type === "array") {
      const items = s.items;
      return isObject(items) ? `array of ${typeOf(items, root, new Set(seen))}` : "array";
    }
    if (s.type === "string" && typeof s.format === "string") return `string (${s.format})`;
    if (s.type === "object" && named) return named;
    return s.type;
  }
  const union = variants(s);
  if (union.length) return union.map((v) => typeOf(v, root, new Set(seen))).join(" | ");
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return typeOf(s.allOf[0], root, seen);
  if ("const" in s) return typeof s.const;
  if (Array.isArray(s.enum)) return "enum";
  if (named) return named;
  if (isObject(s.properties)) return "object";
  return "any";
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Where a field's own fields are: its properties, its items' properties, or a union's. */
function children(schema: Json, root: Json, seen: Set<string>): { schema: Json; suffix: string } | null {
  if (isObject(schema.properties)) return { schema, suffix: "" };
  if (isObject(schema.items)) {
    const items = resolve(schema.items, root, seen);
    if (isObject(items.properties)) return { schema: items, suffix: "[]" };
  }
  for (const variant of variants(schema)) {
    const v = resolve(variant, root, seen);
    const inner = children(v, root, seen);
    if (inner) return inner;
  }
  return null;
}

/** The rows of an object schema's fields, nested fields indented under their parent. */
export function schemaRows(schema: unknown): FieldRow[] {
  if (!isObject(schema)) return [];
  const root = schema;
  const rows: FieldRow[] = [];
  const walk = (object: Json, depth: number, prefix: string, seen: Set<string>) => {
    const properties = isObject(object.properties) ? object.properties : {};
    const required = new Set(Array.isArray(object.required) ? object.required.map(String) : []);
    for (const [name, raw] of Object.entries(properties)) {
      if (rows.length >= MAX_ROWS) return;
      const refs = new Set(seen);
      if (isObject(raw) && typeof raw.$ref === "string") refs.add(raw.$ref);
      const field = resolve(raw, root, seen);
      const enumValues = Array.isArray(field.enum)
        ? field.enum
        : "const" in field
          ? [field.const]
          : variants(field).flatMap((v) => {
              const r = resolve(v, root, seen);
              return Array.isArray(r.enum) ? r.enum : [];
            });
      const key = `${prefix}${name}`;
      rows.push({
        key,
        name,
        depth,
        type: typeOf(raw, root, seen),
        required: required.has(name),
        description: typeof field.description === "string" ? field.description : undefined,
        allowed: enumValues.length ? enumValues.map(show).join(", ") : undefined,
        defaultValue: "default" in field ? show(field.default) : undefined,
      });
      const nested = depth < MAX_DEPTH && !seen.has(String(raw && (raw as Json).$ref)) ? children(field, root, refs) : null;
      if (nested) walk(nested.schema, depth + 1, `${key}${nested.suffix}.`, refs);
    }
  };
  walk(resolve(root, root, new Set()), 0, "", new Set());
  return rows;
}
