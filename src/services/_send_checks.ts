import { invalidField } from "../domain/errors.ts";
import type { Store } from "../store/store.ts";

/** Throws 400 on `replyTo` unless it names a message of this conversation. */
export async function checkReply(
  store: Pick<Store, "messages">,
  conversationId: string,
  replyTo: string | undefined,
): Promise<void> {
  if (replyTo === undefined) return;
  const target = await store.messages.getMessage(conversationId, replyTo);
  if (!target) throw invalidField("replyTo", "no such message in this conversation");
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
