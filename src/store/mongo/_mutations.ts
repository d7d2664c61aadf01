import type { Member, MessageKind, MessageRecord } from "../../domain/types.ts";
import { foldText } from "../../domain/words.ts";
import type { Change, ConversationPatch, Mutation } from "../log.ts";
import type { Mongo, Session } from "./_db.ts";
import { readUpTo } from "./_messages.ts";
import { holdBeforeErasure } from "./_archive.ts";
import { memberDoc, messageDoc, sealedDoc } from "./codec.ts";
import {
  type ConversationDoc,
  memberKey,
  pinKey,
  pollVoteKey,
  reactionKey,
  threadMemberKey,
} from "./schema.ts";

/**
 * Mutations that change a group's membership or info: they commit in a transaction. Pins need none
 * of their own (one conditional write each); a pin under a `pinLimit` commits in one through its
 * expectation. A moderator's mute (`setSilenced`) commits in one as a role change does.
 */
export const GROUP_OPS: ReadonlySet<Mutation["op"]> = new Set([
  "addMembers",
  "removeMember",
  "setRole",
  "setSilenced",
  "updateConversation",
  "deleteConversation",
]);

/** The fields a patch sets, with discovery's copies of the name (folded) and `settings.public`. */
function _conversationSet(p: ConversationPatch): Partial<ConversationDoc> {
  const set: Partial<ConversationDoc> = {};
  if (p.name !== undefined) {
    set.name = p.name;
    set.nameFold = foldText(p.name);
  }
  if (p.description !== undefined) set.description = p.description;
  if (p.avatarMediaId !== undefined) set.avatarMediaId = p.avatarMediaId;
  if (p.settings !== undefined) {
    set.settings = p.settings;
    set.public = p.settings.public === true;
  }
  if (p.retentionDays !== undefined) set.retentionDays = p.retentionDays;
  return set;
}

/** The members of `members` that are not in the conversation yet (the first of any repeats). */
async function _newMembers(m: Mongo, members: Member[], session: Session): Promise<Member[]> {
  const byKey = new Map<string, Member>();
  for (const x of members) {
    const key = memberKey(x.conversationId, x.userId);
    if (!byKey.has(key)) byKey.set(key, x);
  }
  // find, not distinct: distinct is not allowed in a transaction on a sharded collection.
  const present = await m.members.find(
    { _id: { $in: [...byKey.keys()] } },
    { projection: { _id: 1 }, session },
  ).toArray();
  for (const d of present) byKey.delete(d._id);
  return [...byKey.values()];
}

async function _liveMessage(
  m: Mongo,
  conversationId: string,
  messageId: string,
  session: Session,
  kind?: MessageKind,
): Promise<boolean> {
  return !!(await m.messages.findOne(
    { _id: messageId, conversationId, deletedAt: null, ...(kind ? { kind } : {}) },
    { projection: { _id: 1 }, session },
  ));
}

/**
 * The option ids a `setVotes` leaves (sorted, without repeats), or null when it changes nothing: the
 * message is not a live poll of this conversation, or the user's votes are that set already.
 */
async function _voteChange(
  m: Mongo,
  conversationId: string,
  x: Extract<Mutation, { op: "setVotes" }>,
  session: Session,
): Promise<string[] | null> {
  if (!(await _liveMessage(m, conversationId, x.messageId, session, "poll"))) return null;
  const before = (await m.pollVotes.find(
    { userId: x.userId, messageId: x.messageId },
    { projection: { optionId: 1 }, session },
  ).toArray()).map((d) => d.optionId).sort();
  const after = [...new Set(x.optionIds)].sort();
  const same = before.length === after.length && before.every((id, i) => id === after[i]);
  return same ? null : after;
}

async function _pinned(
  m: Mongo,
  conversationId: string,
  messageId: string,
  session: Session,
): Promise<boolean> {
  return !!(await m.pins.findOne(
    { _id: pinKey(conversationId, messageId) },
    { projection: { _id: 1 }, session },
  ));
}

/**
 * Whether `x` would change anything, read before a seq is taken so that a change that alters nothing
 * consumes none. Check-then-act: a racing commit may still make it a no-op after the check (see
 * {@link applyMutation}).
 */
export async function wouldChange(
  m: Mongo,
  c: Change,
  x: Mutation,
  session: Session,
): Promise<boolean> {
  switch (x.op) {
    case "insertMessage":
    case "deleteConversation":
      return true;
    case "readUpTo":
      return false;
    case "editMessage":
    case "eraseMessage":
      return await _liveMessage(m, c.conversationId, x.messageId, session);
    case "addReaction":
    case "removeReaction": {
      const found = await m.reactions.findOne(
        { _id: reactionKey(x) },
        { projection: { _id: 1 }, session },
      );
      return x.op === "addReaction" ? !found : !!found;
    }
    case "pinMessage":
      return !(await _pinned(m, c.conversationId, x.messageId, session)) &&
        await _liveMessage(m, c.conversationId, x.messageId, session);
    case "unpinMessage":
      return await _pinned(m, c.conversationId, x.messageId, session);
    case "setVotes":
      return !!(await _voteChange(m, c.conversationId, x, session));
    case "closePoll":
      return !!(await m.messages.findOne(
        _openPoll(c.conversationId, x.messageId),
        { projection: { _id: 1 }, session },
      ));
    case "addMembers":
      return (await _newMembers(m, x.members, session)).length > 0;
    case "removeMember":
    case "setRole":
    case "setSilenced":
      return !!(await m.members.findOne(_memberFilter(c.conversationId, x), {
        projection: { _id: 1 },
        session,
      }));
    case "updateConversation":
      return Object.keys(_conversationSet(x.patch)).length > 0;
  }
}

/**
 * Applies one mutation at `seq`; returns whether it changed anything (conditional writes, so a
 * mutation another commit already made reports false). Server errors propagate untouched: inside a
 * transaction the driver must see them.
 */
export async function applyMutation(
  m: Mongo,
  c: Change,
  seq: number,
  x: Mutation,
  session: Session,
): Promise<boolean> {
  const conversationId = c.conversationId;
  switch (x.op) {
    case "insertMessage":
      await m.messages.insertOne(messageDoc({ ...x.message, conversationId, seq }), { session });
      // After the insert: a retry that lost the race on the idempotency index counts no reply.
      if (x.message.threadId) await _recordReply(m, conversationId, seq, x.message, session);
      return true;
    case "editMessage": {
      const before = await m.messages.findOneAndUpdate(
        { _id: x.messageId, conversationId, deletedAt: null },
        { $set: { body: sealedDoc(x.body), editedAt: x.editedAt } },
        { session, returnDocument: "before" },
      );
      if (!before) return false;
      // The history keeps the text as first sent (inserted once) and every edit after it.
      const versions = [
        ...(before.body
          ? [{ _id: `${x.messageId}:0`, original: true, body: before.body, at: before.createdAt }]
          : []),
        {
          _id: `${x.messageId}:${x.editedAt}`,
          original: false,
          body: sealedDoc(x.body),
          at: x.editedAt,
        },
      ];
      for (const v of versions) {
        await m.messageEdits.updateOne(
          { _id: v._id },
          {
            $setOnInsert: {
              messageId: x.messageId,
              original: v.original,
              body: v.body,
              editedAt: v.at,
            },
          },
          { upsert: true, session },
        );
      }
      return true;
    }
    case "eraseMessage": {
      await holdBeforeErasure(m, conversationId, x.messageId, x.deletedAt, session);
      const r = await m.messages.updateOne(
        { _id: x.messageId, conversationId, deletedAt: null },
        {
          $set: { body: null, mediaIds: [], mentions: [], replyTo: null, deletedAt: x.deletedAt },
          $unset: { mentionsAll: "" },
        },
        { session },
      );
      await m.reactions.deleteMany({ messageId: x.messageId }, { session });
      await m.messageEdits.deleteMany({ messageId: x.messageId }, { session });
      await m.pins.deleteMany({ messageId: x.messageId }, { session });
      await m.pollVotes.deleteMany({ messageId: x.messageId }, { session });
      return r.matchedCount > 0;
    }
    case "closePoll": {
      const r = await m.messages.updateOne(
        _openPoll(conversationId, x.messageId),
        { $set: { "poll.closed": true } },
        { session },
      );
      return r.modifiedCount > 0;
    }
    case "setVotes": {
      const after = await _voteChange(m, conversationId, x, session);
      if (!after) return false;
      // Replaced together: every vote of the new set is cast at `x.at`.
      await m.pollVotes.deleteMany({ messageId: x.messageId, userId: x.userId }, { session });
      if (after.length === 0) return true;
      // Upserts by id, so a racing vote of the same user that wrote one of them first is no error.
      await m.pollVotes.bulkWrite(
        after.map((optionId) => ({
          updateOne: {
            filter: { _id: pollVoteKey({ messageId: x.messageId, userId: x.userId, optionId }) },
            update: {
              $set: { messageId: x.messageId, userId: x.userId, optionId, votedAt: x.at },
            },
            upsert: true,
          },
        })),
        { ordered: false, session },
      );
      return true;
    }
    case "pinMessage": {
      // Only a live message of this conversation; pinned already changes nothing.
      if (!(await _liveMessage(m, conversationId, x.messageId, session))) return false;
      const r = await m.pins.updateOne(
        { _id: pinKey(conversationId, x.messageId) },
        {
          $setOnInsert: {
            conversationId,
            messageId: x.messageId,
            pinnedBy: x.userId,
            pinnedAt: x.at,
          },
        },
        { upsert: true, session },
      );
      return r.upsertedCount > 0;
    }
    case "unpinMessage": {
      const r = await m.pins.deleteOne({ _id: pinKey(conversationId, x.messageId) }, { session });
      return r.deletedCount > 0;
    }
    case "addReaction": {
      const r = await m.reactions.updateOne(
        { _id: reactionKey(x) },
        {
          $setOnInsert: {
            messageId: x.messageId,
            userId: x.userId,
            emoji: x.emoji,
            createdAt: x.at,
          },
        },
        { upsert: true, session },
      );
      return r.upsertedCount > 0;
    }
    case "removeReaction": {
      const r = await m.reactions.deleteOne(
        { _id: reactionKey(x) },
        { session },
      );
      return r.deletedCount > 0;
    }
    case "addMembers": {
      const fresh = await _newMembers(m, x.members, session);
      if (fresh.length === 0) return false;
      // New members start read up to their join.
      await m.members.insertMany(fresh.map((y) => memberDoc({ ...y, readSeq: seq })), { session });
      await m.conversations.updateOne(
        { _id: conversationId },
        { $inc: { memberCount: fresh.length } },
        { session },
      );
      return true;
    }
    case "removeMember": {
      const r = await m.members.deleteOne({ _id: memberKey(conversationId, x.userId) }, {
        session,
      });
      if (r.deletedCount === 0) return false;
      await m.conversations.updateOne(
        { _id: conversationId },
        { $inc: { memberCount: -r.deletedCount } },
        { session },
      );
      // Their read and delivered times are shown only to members: nothing keeps them after leaving.
      await m.receiptMarks.deleteMany({ conversationId, userId: x.userId }, { session });
      return true;
    }
    case "setRole": {
      const r = await m.members.updateOne(
        _memberFilter(conversationId, x),
        { $set: { role: x.role } },
        { session },
      );
      return r.matchedCount > 0;
    }
    case "setSilenced": {
      const r = await m.members.updateOne(
        _memberFilter(conversationId, x),
        { $set: { silencedUntil: x.until } },
        { session },
      );
      return r.matchedCount > 0;
    }
    case "updateConversation": {
      const set = _conversationSet(x.patch);
      if (Object.keys(set).length === 0) return false;
      if (set.public && set.nameFold === undefined) {
        // A group from before discovery has no folded name yet: made public, it gets one.
        const doc = await m.conversations.findOne(
          { _id: conversationId },
          { projection: { name: 1 }, session },
        );
        if (doc?.name) set.nameFold = foldText(doc.name);
      }
      await m.conversations.updateOne({ _id: conversationId }, { $set: set }, { session });
      return true;
    }
    case "readUpTo":
      // Recorded with its time, so receipts of earlier messages show when they were read.
      await readUpTo(m, conversationId, x.userId, seq, c.at, session);
      return false;
    case "deleteConversation":
      await m.conversations.updateOne(
        { _id: conversationId },
        { $set: { deletedAt: x.at, memberCount: 0 } },
        { session },
      );
      await m.members.deleteMany({ conversationId }, { session });
      return true;
  }
}

/**
 * A reply's effect on its thread, in the reply's commit: the root's summary (count, last reply,
 * participants in order of their first reply: `$addToSet` appends), and who follows it from now on
 * (the replier, whose read marker moves to the reply, the users it mentions, and the root's author).
 * Upserts by id, so racing replies each count once; `$max` keeps the last reply when replies of
 * concurrent commits land out of seq order.
 */
async function _recordReply(
  m: Mongo,
  conversationId: string,
  seq: number,
  x: Omit<MessageRecord, "seq">,
  session: Session,
): Promise<void> {
  const rootId = x.threadId!;
  const sender = x.senderId!;
  await m.threads.updateOne(
    { _id: rootId },
    {
      $setOnInsert: { conversationId },
      $inc: { replyCount: 1 },
      $max: { lastReplyAt: x.createdAt, lastReplySeq: seq },
      $addToSet: { participantIds: sender },
    },
    { upsert: true, session },
  );
  const root = await m.messages.findOne(
    { _id: rootId },
    { projection: { senderId: 1 }, session },
  );
  const followers = new Set([sender, ...x.mentions]);
  if (root?.senderId) followers.add(root.senderId);
  await m.threadMembers.bulkWrite(
    [...followers].map((userId) => ({
      updateOne: {
        filter: { _id: threadMemberKey(userId, rootId) },
        update: {
          $setOnInsert: { userId, rootId, conversationId },
          $set: { following: true },
          $max: { readSeq: userId === sender ? seq : 0 },
        },
        upsert: true,
      },
    })),
    { ordered: false, session },
  );
}

/**
 * The membership a member mutation changes: it exists and (for a role or a mute) holds another value.
 * `$ne` on `silencedUntil` treats an absent field as null, as `memberDoc` would have written it.
 */
function _memberFilter(
  conversationId: string,
  x: Extract<Mutation, { op: "removeMember" | "setRole" | "setSilenced" }>,
) {
  const _id = memberKey(conversationId, x.userId);
  if (x.op === "setRole") return { _id, role: { $ne: x.role } };
  if (x.op === "setSilenced") return { _id, silencedUntil: { $ne: x.until } };
  return { _id };
}

/** A live poll of the conversation that is not closed yet. */
function _openPoll(conversationId: string, messageId: string) {
  return {
    _id: messageId,
    conversationId,
    kind: "poll" as const,
    deletedAt: null,
    "poll.closed": { $ne: true },
  };
}
