import { validationFailed } from "../domain/errors.ts";
import { checkText } from "../domain/text.ts";

/**
 * The owner id of the data key that seals what moderation keeps about others (report evidence,
 * ban and suspension reasons): not a user's key, so erasing the reported user or the moderator does
 * not destroy what admins must still see.
 */
export const MODERATION_KEY_OWNER = "site:moderation";

export function banAad(conversationId: string, userId: string): string {
  return `parley:ban:v1:${conversationId}:${userId}`;
}

export function suspensionAad(userId: string): string {
  return `parley:suspension:v1:${userId}`;
}

export function reportAad(reportId: string, part: "note" | "evidence"): string {
  return `parley:report:v1:${reportId}:${part}`;
}

/** A moderator's or reporter's reason or note: 1–1000 characters, several lines allowed. */
export function checkReason(raw: string, field = "reason"): string {
  const r = checkText(raw.trim(), { field, minGraphemes: 1, maxGraphemes: 1000, multiline: true });
  if (!r.ok) throw validationFailed(r.problems);
  return r.text;
}
