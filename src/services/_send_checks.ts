import { invalidField } from "../domain/errors.ts";
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
