import type { z } from "zod";
import type { FieldProblem } from "./errors.ts";

/**
 * Field problems from a failed zod parse, as a 400 lists them. An unknown field becomes one problem
 * per field, named by its path (`privacy.colour`), so a client learns at once which field the server
 * does not know instead of it being silently dropped.
 */
export function fieldProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
        path: [...issue.path, key].join("."),
        message: "unknown field",
      }))
      : [{ path: issue.path.join("."), message: issue.message }]
  );
}
