import type { Actor, RequestMeta } from "../domain/actor.ts";
import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import { notFound } from "../domain/errors.ts";
import { nowIso } from "../ids.ts";
import type { Logger } from "../observability/logger.ts";
import type { HeldMessage, LegalHold, Store } from "../store/store.ts";
import type { AdminService } from "./admin.ts";
import type { AuditLog } from "./audit.ts";

const PAGE = 200;

/** The data-key subject that seals what a hold keeps of an erased account's messages. */
export function holdKeySubject(conversationId: string): string {
  return `hold:${conversationId}`;
}

/**
 * Legal holds (site administrators): while a conversation is on hold, retention skips it, and every
 * erasure of a message's content (delete for everyone, a disappearing message's expiry, a moderator's
 * or an account erasure's deletion) still hides the message from everyone, with its usual event, but
 * the store first copies the content into the hold (same transaction). Lifting the hold erases what
 * it kept, releases media no longer used, scrubs the store, and lets retention catch up. An account
 * erasure destroys the user's data keys; before that, their messages in held conversations are
 * re-sealed under the hold's own key so the hold can still read them (see docs/PRIVACY.md).
 */
export class LegalHolds {
  constructor(
    private readonly deps: {
      store: Pick<Store, "archive" | "privacy">;
      dataKeys: DataKeys;
      admin: AdminService;
      media: { release(mediaIds: string[]): Promise<void> };
      audit: AuditLog;
      logger: Logger;
    },
  ) {}

  /** Places a hold (or returns the one in place); 404 for an unknown or deleted conversation. */
  async place(
    actor: Actor,
    conversationId: string,
    reason: string | null,
    meta: RequestMeta,
  ): Promise<{ hold: LegalHold; created: boolean }> {
    await this.deps.admin.requireAdmin(actor);
    const before = await this.deps.store.archive.getHold(conversationId);
    if (before) return { hold: before, created: false };
    const hold = await this.deps.store.archive.placeHold({
      conversationId,
      placedBy: actor.userId,
      placedAt: nowIso(),
      reason,
    });
    if (!hold) throw notFound("Conversation not found");
    await this.deps.audit.record({
      action: "conversation.hold_placed",
      actorId: actor.userId,
      targetId: conversationId,
      meta,
      details: reason ? { reason } : {},
    });
    return { hold, created: true };
  }

  /** The hold on a conversation; 404 when there is none. */
  async get(actor: Actor, conversationId: string): Promise<LegalHold> {
    await this.deps.admin.requireAdmin(actor);
    const hold = await this.deps.store.archive.getHold(conversationId);
    if (!hold) throw notFound("This conversation is not on hold");
    return hold;
  }

  /** Every hold (site administrators). */
  async list(actor: Actor): Promise<LegalHold[]> {
    await this.deps.admin.requireAdmin(actor);
    return await this.deps.store.archive.listHolds();
  }

  /** Lifts the hold and erases what it kept; 404 when there was none. */
  async lift(actor: Actor, conversationId: string, meta: RequestMeta): Promise<void> {
    await this.deps.admin.requireAdmin(actor);
    const released = await this.deps.store.archive.liftHold(conversationId);
    if (!released) throw notFound("This conversation is not on hold");
    if (released.mediaIds.length) await this.deps.media.release(released.mediaIds);
    await this.deps.store.privacy.scrub();
    await this.deps.audit.record({
      action: "conversation.hold_lifted",
      actorId: actor.userId,
      targetId: conversationId,
      meta,
      details: { messagesErased: released.messages },
    });
  }

  /**
   * Before an account erasure destroys the user's keys: keeps their live messages in held
   * conversations, re-sealed under the hold's own key. Returns how many were kept.
   */
  async preserveForErasure(userId: string): Promise<number> {
    let kept = 0;
    for (const hold of await this.deps.store.archive.listHolds()) {
      const conversationId = hold.conversationId;
      let after = { conversationId, seq: 0 };
      for (;;) {
        const page =
          (await this.deps.store.privacy.listSentMessages(userId, { limit: PAGE, after }))
            .filter((m) => m.conversationId === conversationId);
        const held: HeldMessage[] = [];
        for (const m of page) {
          const aad = messageAad(conversationId, m.id);
          const text = m.body ? await this.deps.dataKeys.openText(m.body, aad) : null;
          held.push({
            messageId: m.id,
            conversationId,
            senderId: m.senderId,
            body: text === null
              ? null
              : await this.deps.dataKeys.sealText(holdKeySubject(conversationId), text, aad),
            mediaIds: m.mediaIds,
            replyTo: m.replyTo,
            createdAt: m.createdAt,
            deletedAt: null,
          });
        }
        await this.deps.store.archive.preserveHeld(held);
        kept += held.length;
        if (page.length < PAGE) break;
        after = { conversationId, seq: page.at(-1)!.seq };
      }
    }
    if (kept) {
      this.deps.logger.info("erasure: held messages re-sealed under their holds", {
        "user.id": userId,
        "parley.hold.messages": kept,
      });
    }
    return kept;
  }
}
