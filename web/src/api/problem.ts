// RFC 9457 problem details as the API answers them, and an Error that carries one.

/** One invalid field, as the API names it: `loc` is where it sits, e.g. ["body", "url"]. */
export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

const PARTS = new Set(["body", "query", "path", "header", "cookie"]);

/** A field's dotted name without the request part: ["body", "auth", "token"] gives "auth.token". */
export function fieldPath(error: FieldError): string {
  const loc = error.loc.map(String);
  return (PARTS.has(loc[0] ?? "") ? loc.slice(1) : loc).join(".");
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
  login_url?: string;
  [member: string]: unknown;
}

export class ProblemError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = "ProblemError";
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }

  /** The short name of the problem type: "/problems/not-found" gives "not-found". */
  get kind(): string {
    return this.problem.type.split("/").pop() ?? this.problem.type;
  }

  /** The message for one field of a 422 answer (or a field inside it), if the API named it. */
  fieldMessage(field: string): string | undefined {
    return fieldMessages(this, field)[0];
  }
}

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Problem).type === "string" &&
    typeof (value as Problem).status === "number"
  );
}

export interface FieldIssue {
  /** The dotted path below the request part: "url", "auth.token", "resource.id". */
  field: string;
  message: string;
}

/** The field errors of a failed request, named and worded for people. */
export function fieldErrors(error: unknown): FieldIssue[] {
  if (!(error instanceof ProblemError)) return [];
  return (error.problem.errors ?? []).map((e) => ({
    field: fieldPath(e),
    // Pydantic's "Value error, " prefix says nothing to a person.
    message: e.msg.replace(/^Value error, /, ""),
  }));
}

/**
 * The messages for `field`: the field itself, fields inside it ("auth" covers "auth.token"),
 * or the same name nested in an object ("interval_seconds" finds "health.interval_seconds").
 */
export function fieldMessages(error: unknown, field: string): string[] {
  return fieldErrors(error)
    .filter(
      (e) => e.field === field || e.field.startsWith(`${field}.`) || e.field.endsWith(`.${field}`),
    )
    .map((e) => e.message);
}

/** The same problem without its field list: for an alert when a form shows the fields in place. */
export function withoutFields(error: unknown): unknown {
  if (!(error instanceof ProblemError)) return error;
  const { errors: _errors, ...rest } = error.problem;
  return new ProblemError(rest as Problem);
}

/** Any thrown value as a problem the screens can show. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemError) return error.problem;
  const detail = error instanceof Error ? error.message : String(error);
  return { type: "about:blank", title: "The request failed", status: 0, detail };
}
