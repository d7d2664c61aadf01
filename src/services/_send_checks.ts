import { conflict, invalidField } from "../domain/errors.ts";
import type { MessageRecord } from "../domain/types.ts";
import type { Store } from "../store/store.ts";

/** Throws 400 on `field` unless `messageId` (when given) names a message of this conversation. */
export async function checkMessageRef(
  store: Pick<Store, "messages">,
  conversationId: string,
  messageId: string | undefined,
  field: string,
): Promise<void> {
  if (messageId === undefined) return;
  const target = await store.messages.getMessage(conversationId, messageId);
  if (!target) throw invalidField(field, "no such message in this conversation");
}

/** Throws 400 on `mentions` unless every mentioned user is a member (one read for all). */
export async function checkMentions(
  store: Pick<Store, "conversations">,
  conversationId: string,
  mentions: string[],
): Promise<void> {
  if (mentions.length === 0) return;
  const members = new Set(
    (await store.conversations.getMembers(conversationId, mentions)).map((m) => m.userId),
  );
  const outsiders = mentions.filter((u) => !members.has(u));
  if (outsiders.length) throw invalidField("mentions", `not members: ${outsiders.join(", ")}`);
}

/**
 * The message `threadId` names as a thread's root, checked for a reply: a message of this
 * conversation (400 on `threadId` otherwise), not itself a reply or a system message (400), and, for
 * what adds to the thread (`live`), not deleted (409).
 */
export async function checkThreadRoot(
  store: Pick<Store, "messages">,
  conversationId: string,
  threadId: string,
  options: { live: boolean },
): Promise<MessageRecord> {
  const field = "threadId";
  const root = await store.messages.getMessage(conversationId, threadId);
  if (!root) throw invalidField(field, "no such message in this conversation");
  if (root.threadId) throw invalidField(field, "is a reply; use its thread's root");
  if (root.kind === "system") throw invalidField(field, "a system message has no thread");
  if (options.live && root.deletedAt) throw conflict("The thread's root message was deleted");
  return root;
}
