// Field errors of a 422 problem as the API sends them (`loc` and `msg`), read defensively so
// that the older `field`/`message` shape works too.
import { ProblemError, type Problem } from "../../api/problem";

export interface FieldIssue {
  /** The path without its leading "body"/"query": `text`, `resource.id`, `environment`. */
  field: string;
  message: string;
}

export function fieldIssues(error: unknown): FieldIssue[] {
  if (!(error instanceof ProblemError)) return [];
  const raw: unknown = error.problem.errors;
  if (!Array.isArray(raw)) return [];
  const issues: FieldIssue[] = [];
  for (const entry of raw as Record<string, unknown>[]) {
    if (typeof entry !== "object" || entry === null) continue;
    let path: string | undefined;
    if (Array.isArray(entry.loc)) {
      const parts = entry.loc.map(String);
      if (parts[0] === "body" || parts[0] === "query" || parts[0] === "path") parts.shift();
      path = parts.join(".");
    } else if (typeof entry.field === "string") {
      path = entry.field;
    }
    const message = typeof entry.msg === "string" ? entry.msg : entry.message;
    if (path !== undefined && typeof message === "string") issues.push({ field: path, message });
  }
  return issues;
}

/** The messages for one field (`text`, or a nested `resource.id`). */
export function messagesFor(error: unknown, field: string): string[] {
  return fieldIssues(error)
    .filter((i) => i.field === field)
    .map((i) => i.message);
}

/** The same problem without its field list, for an alert when the fields show in place. */
export function withoutFields(error: unknown): unknown {
  if (!(error instanceof ProblemError)) return error;
  const { errors: _errors, ...rest } = error.problem;
  return new ProblemError(rest as Problem);
}
