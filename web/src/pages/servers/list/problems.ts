// What the registration form reads from an API problem beyond its field errors.
import { ProblemError } from "../../../api/problem";

/** A 409: the name is taken in that environment. */
export function nameTaken(error: unknown): string | undefined {
  if (!(error instanceof ProblemError) || error.status !== 409) return undefined;
  return error.problem.detail ?? error.problem.title;
}
