import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { notFound } from "../domain/errors.ts";
import type { Store } from "../store/store.ts";
import type { ConversationsService } from "./conversations.ts";

/** One edit of a message: the text it set and when. */
export interface MessageEdit {
  text: string;
  editedAt: string;
}

/**
 * Edit history for members: every edit keeps its text (and the text as first sent) in the commit of
 * the edit (`messages.messageVersions`); deleting the message, its author's erasure or its expiry
 * removes it.
 */
export class EditHistory {
  constructor(
    private readonly deps: {
      store: Pick<Store, "messages">;
      dataKeys: DataKeys;
      conversations: ConversationsService;
    },
  ) {}

  /**
   * The edit history of a message for a member: `edits` are the texts its edits set, oldest first,
   * with when (the last is the current text); `original` is the text as first sent. Empty for a
   * message never edited; gone once the message is deleted (404) or its author erased.
   */
  async edits(
    actor: Actor,
    conversationId: string,
    messageId: string,
  ): Promise<{ original?: { text: string; createdAt: string }; edits: MessageEdit[] }> {
    await this.deps.conversations.membership(actor, conversationId);
    const m = await this.deps.store.messages.getMessage(conversationId, messageId);
    if (!m) throw notFound("Message not found");
    const hidden = await this.deps.store.messages.hiddenMessageIds(actor.userId, [messageId]);
    if (m.deletedAt || hidden.has(messageId)) throw notFound("Message not found");
    const aad = messageAad(conversationId, messageId);
    const versions = await this.deps.store.messages.messageVersions(messageId);
    const texts = await Promise.all(
      versions.map(async (v) => ({ v, text: await this.deps.dataKeys.openText(v.body, aad) })),
    );
    const readable = texts.filter((t): t is { v: typeof t.v; text: string } => t.text !== null);
    const first = readable.find((t) => t.v.version === 0);
    return {
      ...(first ? { original: { text: first.text, createdAt: first.v.editedAt } } : {}),
      edits: readable.filter((t) => t.v.version > 0).map((t) => ({
        text: t.text,
        editedAt: t.v.editedAt,
      })),
    };
  }
}
