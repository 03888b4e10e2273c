// What differs between two JSON values, as paths with their value before and after
// (`undefined`: absent on that side). Objects are compared key by key; arrays and scalars whole.

export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}

const MAX_CHANGES = 50;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function jsonChanges(before: unknown, after: unknown, path = ""): Change[] {
  const changes: Change[] = [];
  const walk = (a: unknown, b: unknown, at: string) => {
    if (changes.length >= MAX_CHANGES || same(a, b)) return;
    if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const key of keys) walk(a[key], b[key], at ? `${at}.${key}` : key);
      return;
    }
    changes.push({ path: at, before: a, after: b });
  };
  walk(before, after, path);
  return changes;
}

/** A value as one short line of JSON (or "absent"). */
export function brief(value: unknown, max = 160): string {
  if (value === undefined) return "(absent)";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
