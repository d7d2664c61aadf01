import type { MessageRecord } from "../../domain/types.ts";
import type { ArchiveStore, HeldMessage, HoldRelease, LegalHold } from "../archive.ts";
import { isDuplicateKey, type Mongo, type Session } from "./_db.ts";
import { sealedDoc, sealedOrNull, toMessage } from "./codec.ts";
import type { HeldMessageDoc, LegalHoldDoc } from "./schema.ts";

function toHold(d: LegalHoldDoc): LegalHold {
  return { conversationId: d._id, placedBy: d.placedBy, placedAt: d.placedAt, reason: d.reason };
}

export function toHeld(d: HeldMessageDoc): HeldMessage {
  return {
    messageId: d._id,
    conversationId: d.conversationId,
    senderId: d.senderId,
    body: sealedOrNull(d.body),
    mediaIds: d.mediaIds,
    replyTo: d.replyTo,
    createdAt: d.createdAt,
    deletedAt: d.deletedAt,
  };
}

export function heldDoc(h: HeldMessage): HeldMessageDoc {
  return {
    _id: h.messageId,
    conversationId: h.conversationId,
    senderId: h.senderId,
    body: h.body ? sealedDoc(h.body) : null,
    mediaIds: [...new Set(h.mediaIds)],
    replyTo: h.replyTo,
    createdAt: h.createdAt,
    deletedAt: h.deletedAt,
  };
}

/** Inserts a held copy unless one is there already (the earlier copy stays). */
async function insertHeld(m: Mongo, h: HeldMessage, session: Session): Promise<void> {
  await m.heldMessages.updateOne(
    { _id: h.messageId },
    { $setOnInsert: heldDoc(h) },
    { upsert: true, session },
  ).catch((err) => {
    // Two racing upserts of one id: the other one inserted it.
    if (!isDuplicateKey(err)) throw err;
  });
}

/**
 * Before a message's content is erased (with the erasing write's session, if any): when its
 * conversation is on hold, its content goes into the hold.
 */
export async function holdBeforeErasure(
  m: Mongo,
  conversationId: string,
  messageId: string,
  deletedAt: string,
  session: Session,
): Promise<void> {
  if (!(await m.legalHolds.findOne({ _id: conversationId }, { session }))) return;
  const d = await m.messages.findOne(
    { _id: messageId, conversationId, deletedAt: null },
    { session },
  );
  if (!d) return;
  const msg = toMessage(d);
  await insertHeld(m, {
    messageId,
    conversationId,
    senderId: msg.senderId,
    body: msg.body,
    mediaIds: msg.mediaIds,
    replyTo: msg.replyTo,
    createdAt: msg.createdAt,
    deletedAt,
  }, session);
  await m.heldMessages.updateOne(
    { _id: messageId, deletedAt: null },
    { $set: { deletedAt } },
    { session },
  );
}

/** The MongoDB {@link ArchiveStore}. */
export class MongoArchive implements ArchiveStore {
  constructor(private readonly m: Mongo) {}

  async archivePage(
    conversationId: string,
    afterSeq: number,
    limit: number,
  ): Promise<MessageRecord[]> {
    const docs = await this.m.messages.find({ conversationId, seq: { $gt: afterSeq } })
      .sort({ conversationId: 1, seq: 1 }).limit(limit).toArray();
    return docs.map(toMessage);
  }

  async placeHold(hold: LegalHold): Promise<LegalHold | null> {
    const live = await this.m.conversations.findOne(
      { _id: hold.conversationId, deletedAt: null },
      { projection: { _id: 1 } },
    );
    if (!live) return null;
    await this.m.legalHolds.updateOne(
      { _id: hold.conversationId },
      {
        $setOnInsert: { placedBy: hold.placedBy, placedAt: hold.placedAt, reason: hold.reason },
      },
      { upsert: true },
    ).catch((err) => {
      if (!isDuplicateKey(err)) throw err;
    });
    return await this.getHold(hold.conversationId);
  }

  async getHold(conversationId: string): Promise<LegalHold | null> {
    const d = await this.m.legalHolds.findOne({ _id: conversationId });
    return d ? toHold(d) : null;
  }

  async listHolds(): Promise<LegalHold[]> {
    return (await this.m.legalHolds.find({}).sort({ _id: 1 }).toArray()).map(toHold);
  }

  /** The hold goes first: no erasure copies content into it afterwards. */
  async liftHold(conversationId: string): Promise<HoldRelease | null> {
    const removed = await this.m.legalHolds.deleteOne({ _id: conversationId });
    if (removed.deletedCount === 0) return null;
    const held = await this.m.heldMessages.find(
      { conversationId },
      { projection: { mediaIds: 1 } },
    ).toArray();
    const mediaIds = [...new Set(held.flatMap((d) => d.mediaIds))];
    const messages = (await this.m.heldMessages.deleteMany({ conversationId })).deletedCount;
    return { messages, mediaIds };
  }

  async preserveHeld(messages: HeldMessage[]): Promise<void> {
    for (const h of messages) {
      if (await this.m.legalHolds.findOne({ _id: h.conversationId })) {
        await insertHeld(this.m, h, undefined);
      }
    }
  }

  async heldMessages(
    conversationId: string,
    messageIds: string[],
  ): Promise<Map<string, HeldMessage>> {
    const docs = await this.m.heldMessages.find({ conversationId, _id: { $in: messageIds } })
      .toArray();
    return new Map(docs.map((d) => [d._id, toHeld(d)]));
  }
}
