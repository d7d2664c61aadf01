import { type FieldProblem, validationFailed } from "./errors.ts";
import { checkText } from "./text.ts";

/** Folds a username to its stored form (lower case). */
export function foldUsername(raw: string): string {
  return raw.toLowerCase();
}

/** Problems with a username after folding: 3–32 of `[a-z0-9_.]`. */
export function usernameProblems(folded: string): FieldProblem[] {
  if (!/^[a-z0-9_.]{3,32}$/.test(folded)) {
    return [{ path: "username", message: "must be 3-32 characters of a-z, 0-9, _ and ." }];
  }
  return [];
}

/** Problems with a password: 8–256 characters; no composition rules. */
export function passwordProblems(password: string, field = "password"): FieldProblem[] {
  const n = [...password].length;
  if (n < 8) return [{ path: field, message: "must be at least 8 characters" }];
  if (n > 256) return [{ path: field, message: "must be at most 256 characters" }];
  return [];
}

/** Passwords are compared after NFKC normalisation (NIST SP 800-63B), so devices agree. */
export function normalizePassword(password: string): string {
  return password.normalize("NFKC");
}

/** A display name: 1–64 graphemes on one line, NFC; throws 400 otherwise. */
export function checkDisplayName(raw: string): string {
  const r = checkText(raw.trim(), { field: "displayName", minGraphemes: 1, maxGraphemes: 64 });
  if (!r.ok) throw validationFailed(r.problems);
  return r.text;
}

/** A status text: up to 140 graphemes on one line; empty clears it (null). Throws 400 otherwise. */
export function checkStatusText(raw: string | null): string | null {
  if (raw === null || raw.trim() === "") return null;
  const r = checkText(raw.trim(), { field: "statusText", minGraphemes: 1, maxGraphemes: 140 });
  if (!r.ok) throw validationFailed(r.problems);
  return r.text;
}

/** Validates a username (folding it) and throws 400 with the field error when it is not allowed. */
export function checkUsername(raw: string): string {
  const folded = foldUsername(raw);
  const problems = usernameProblems(folded);
  if (problems.length) throw validationFailed(problems);
  return folded;
}
