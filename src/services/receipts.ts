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
      store: Pick<Store, "messages">;
      conversations: ConversationsService;
      notices: Notices;
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
    const notice: ReceiptNotice = { userId: actor.userId, kind, seq: target, at };
    if (conversation.memberCount > this.deps.config.ws.receiptAggregateOver) {
      this.#queue(conversationId, notice);
    } else await this.#announce(conversationId, notice);
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
    const rows = await this.deps.store.messages.receipts(conversationId, m.seq);
    return rows.filter((r) => r.userId !== m.senderId).map((r) => {
      const out: { userId: string; deliveredAt?: string; readAt?: string } = { userId: r.userId };
      if (r.deliveredAt) out.deliveredAt = r.deliveredAt;
      if (r.readAt) out.readAt = r.readAt;
      return out;
    });
  }

  async #announce(conversationId: string, notice: ReceiptNotice): Promise<void> {
    await this.deps.notices.notifyConversation(conversationId, {
      event: "receipt",
      conversationId,
      data: { ...notice },
    });
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
      await this.deps.notices.notifyConversation(conversationId, {
        event: "receipt",
        conversationId,
        data: { receipts, aggregated: true },
      });
    }
  }
}
