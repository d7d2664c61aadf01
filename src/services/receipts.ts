import type { Config } from "../config.ts";
import { notFound } from "../domain/errors.ts";
import { nowIso } from "../ids.ts";
import type { Store } from "../store/store.ts";
import type { Actor } from "../domain/actor.ts";
import type { ConversationsService } from "./conversations.ts";
import type { Notices } from "./notices.ts";

/** One marker move, as `receipt` events carry it. */
export interface ReceiptNotice {
  userId: string;
  kind: "read" | "delivered";
  seq: number;
  at: string;
}

const AGGREGATE_EVERY_MS = 1000;

/**
 * Read and delivered markers (state, not events: they never take a seq) and per-message receipts.
 * Markers only move forward. Each move is announced to the conversation as an ephemeral `receipt`
 * event; in groups over `RECEIPT_AGGREGATE_OVER` members the moves of one second are sent together.
 */
export class ReceiptsService {
  #pending = new Map<string, ReceiptNotice[]>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly deps: {
      config: Config;
      store: Pick<Store, "messages" | "accounts" | "conversations">;
      conversations: ConversationsService;
      notices: Notices;
      /** Told of every read that moved (push clears the notification on the other devices). */
      onRead?: (actor: Actor, conversationId: string, seq: number) => Promise<void>;
    },
  ) {}

  /**
   * Moves the caller's `kind` marker to `seq` (clamped to the conversation's head). Reading implies
   * delivery. Lower or equal positions are ignored. Returns whether anything moved.
   */
  async mark(
    actor: Actor,
    conversationId: string,
    seq: number,
    kind: "read" | "delivered",
  ): Promise<boolean> {
    const { conversation } = await this.deps.conversations.membership(actor, conversationId);
    const target = Math.min(Math.max(0, Math.floor(seq)), conversation.lastSeq);
    if (target === 0) return false;
    const at = nowIso();
    const moved = await this.deps.store.messages.advanceMarker(
      conversationId,
      actor.userId,
      kind,
      target,
      at,
    );
    if (kind === "read") {
      await this.deps.store.messages.advanceMarker(
        conversationId,
        actor.userId,
        "delivered",
        target,
        at,
      );
    }
    if (moved === null) return false;
    if (kind === "read") await this.deps.onRead?.(actor, conversationId, target);
    const aggregated = conversation.memberCount > this.deps.config.ws.receiptAggregateOver;
    // Whose reads stay private, read once: the whole conversation's when a read is announced now
    // (they are left out of it), only the reader's when it waits for the aggregated batch.
    const hidesReads = kind !== "read"
      ? new Set<string>()
      : aggregated
      ? await this.#withoutReads([actor.userId])
      : await this.#membersWithoutReads(conversationId);
    // Someone who turned read receipts off tells others only that it arrived.
    const shown = hidesReads.has(actor.userId) ? "delivered" : kind;
    const notice: ReceiptNotice = { userId: actor.userId, kind: shown, seq: target, at };
    if (aggregated) this.#queue(conversationId, notice);
    else await this.#announce(conversationId, notice, shown === "read" ? [...hidesReads] : []);
    return true;
  }

  /** When each member (but the sender) received and read a message. */
  async forMessage(
    actor: Actor,
    conversationId: string,
    messageId: string,
  ): Promise<Array<{ userId: string; deliveredAt?: string; readAt?: string }>> {
    await this.deps.conversations.membership(actor, conversationId);
    const m = await this.deps.store.messages.getMessage(conversationId, messageId);
    if (!m) throw notFound("Message not found");
    const rows = (await this.deps.store.messages.receipts(conversationId, m.seq))
      .filter((r) => r.userId !== m.senderId);
    // Read receipts are mutual: whoever turned them off neither shows nor sees `readAt`.
    const hidden = await this.#withoutReads([actor.userId, ...rows.map((r) => r.userId)]);
    const viewerSees = !hidden.has(actor.userId);
    return rows.map((r) => {
      const out: { userId: string; deliveredAt?: string; readAt?: string } = { userId: r.userId };
      if (r.deliveredAt) out.deliveredAt = r.deliveredAt;
      if (r.readAt && viewerSees && !hidden.has(r.userId)) out.readAt = r.readAt;
      return out;
    });
  }

  /** Announces one marker move to the conversation, except to `exclude`. */
  async #announce(
    conversationId: string,
    notice: ReceiptNotice,
    exclude: string[],
  ): Promise<void> {
    await this.deps.notices.notifyConversation(conversationId, {
      event: "receipt",
      conversationId,
      data: { ...notice },
    }, { exclude });
  }

  /** Which of `userIds` turned read receipts off. */
  async #withoutReads(userIds: string[]): Promise<Set<string>> {
    const users = await this.deps.store.accounts.getUsers([...new Set(userIds)]);
    return new Set(users.filter((u) => !u.privacy.readReceipts).map((u) => u.id));
  }

  async #membersWithoutReads(conversationId: string): Promise<Set<string>> {
    return await this.#withoutReads(await this.deps.store.conversations.memberIds(conversationId));
  }

  #queue(conversationId: string, notice: ReceiptNotice): void {
    const list = this.#pending.get(conversationId) ?? [];
    // Only the furthest position per user and kind matters.
    const i = list.findIndex((n) => n.userId === notice.userId && n.kind === notice.kind);
    if (i >= 0) list[i] = notice;
    else list.push(notice);
    this.#pending.set(conversationId, list);
    this.#timer ??= setTimeout(() => void this.flush(), AGGREGATE_EVERY_MS);
  }

  /** Sends the aggregated receipts queued so far (also called on shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batches = [...this.#pending];
    this.#pending.clear();
    for (const [conversationId, receipts] of batches) {
      const exclude = receipts.some((r) => r.kind === "read")
        ? [...await this.#membersWithoutReads(conversationId)]
        : [];
      await this.deps.notices.notifyConversation(conversationId, {
        event: "receipt",
        conversationId,
        data: { receipts, aggregated: true },
      }, { exclude });
      // Members who turned read receipts off get the same batch without anyone's reads.
      const delivered = receipts.filter((r) => r.kind === "delivered");
      for (const userId of delivered.length ? exclude : []) {
        await this.deps.notices.notifyUser(userId, {
          event: "receipt",
          conversationId,
          data: { receipts: delivered, aggregated: true },
        });
      }
    }
  }
}
