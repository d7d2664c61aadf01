import type { DataKeys } from "../crypto/envelope.ts";
import { messageAad } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { invalidField, notFound } from "../domain/errors.ts";
import type { SendInput } from "../domain/send.ts";
import type { MessageRecord } from "../domain/types.ts";
import type { Store } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";

/** What looking up a forward's source needs. */
export interface ForwardDeps {
  store: Pick<Store, "messages">;
  dataKeys: DataKeys;
  conversations: ConversationsService;
}

/**
 * What a forward copies: the text and attachments of a live message the sender can see (404
 * otherwise), and where it first came from (kept across forwards of forwards).
 */
export async function forwardSource(
  deps: ForwardDeps,
  actor: Actor,
  input: SendInput,
): Promise<
  { text?: string; mediaIds: string[]; forwarded: NonNullable<MessageRecord["forwarded"]> }
> {
  if (input.text !== undefined || input.mediaIds?.length) {
    throw invalidField("forwardOf", "a forward carries no text or mediaIds of its own");
  }
  const { conversationId, messageId } = input.forwardOf!;
  await deps.conversations.membership(actor, conversationId);
  const m = await deps.store.messages.getMessage(conversationId, messageId);
  const hidden = m
    ? await deps.store.messages.hiddenMessageIds(actor.userId, [m.id])
    : new Set<string>();
  if (!m || m.deletedAt || m.kind === "system" || hidden.has(m.id)) {
    throw notFound("Message not found");
  }
  if (m.kind === "poll") throw invalidField("forwardOf", "a poll cannot be forwarded");
  const text = m.body
    ? await deps.dataKeys.openText(m.body, messageAad(conversationId, m.id))
    : null;
  return {
    ...(text === null ? {} : { text }),
    mediaIds: m.mediaIds,
    forwarded: m.forwarded ?? {
      ...(m.senderId ? { originalSenderId: m.senderId } : {}),
      originalCreatedAt: m.createdAt,
    },
  };
}
