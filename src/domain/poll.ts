import { type FieldProblem, validationFailed } from "./errors.ts";
import { checkFutureTime } from "./future_time.ts";
import { checkText } from "./text.ts";
import type { PollSettings } from "./types.ts";

/** How big a poll may be. */
export const POLL_LIMITS = { minOptions: 2, maxOptions: 10, question: 300, option: 100 } as const;

/** A poll as a client sends it. */
export interface PollInput {
  question: string;
  options: string[];
  multiple?: boolean;
  anonymous?: boolean;
  closesAt?: string;
}

/**
 * Checks a new poll: a question (1–300 graphemes), 2–10 distinct options (1–100 graphemes each), a
 * `closesAt` in the future (at most a year ahead). Throws 400 with every problem at once; returns
 * what the sealed body holds (question and options with ids `o1`…) and the settings.
 */
export function checkPoll(
  input: PollInput,
  now = Date.now(),
): {
  content: { question: string; options: Array<{ id: string; text: string }> };
  settings: PollSettings;
} {
  const problems: FieldProblem[] = [];
  const question = checkText(input.question, {
    field: "poll.question",
    minGraphemes: 1,
    maxGraphemes: POLL_LIMITS.question,
    multiline: true,
  });
  if (!question.ok) problems.push(...question.problems);
  const { minOptions, maxOptions } = POLL_LIMITS;
  if (input.options.length < minOptions || input.options.length > maxOptions) {
    problems.push({ path: "poll.options", message: `${minOptions} to ${maxOptions} options` });
  }
  const options: Array<{ id: string; text: string }> = [];
  input.options.forEach((raw, i) => {
    const r = checkText(raw, {
      field: `poll.options.${i}`,
      minGraphemes: 1,
      maxGraphemes: POLL_LIMITS.option,
    });
    if (!r.ok) return void problems.push(...r.problems);
    if (options.some((o) => o.text === r.text)) {
      problems.push({ path: `poll.options.${i}`, message: "options must differ" });
    }
    options.push({ id: `o${i + 1}`, text: r.text });
  });
  const settings: PollSettings = { multiple: !!input.multiple, anonymous: !!input.anonymous };
  if (input.closesAt !== undefined) {
    const closes = checkFutureTime(input.closesAt, "poll.closesAt", now);
    if (closes.ok) settings.closesAt = closes.at;
    else problems.push(closes.problem);
  }
  if (problems.length) throw validationFailed(problems);
  return { content: { question: question.ok ? question.text : "", options }, settings };
}
