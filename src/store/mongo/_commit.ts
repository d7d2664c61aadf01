import type { EventRecord, MessageRecord } from "../../domain/types.ts";
import type { Change, CommitResult, Expectation } from "../log.ts";
import {
  eachOf,
  inTransaction,
  isDuplicateKey,
  MAJORITY,
  type Mongo,
  type Session,
} from "./_db.ts";
import { insertJob } from "./_jobs.ts";
import { getMessageByClientId } from "./_messages.ts";
import { applyMutation, GROUP_OPS, wouldChange } from "./_mutations.ts";
import { eventDoc, messageDoc, systemMessageDoc, toMessage } from "./codec.ts";
import { banKey, memberKey } from "./schema.ts";

const UNCHANGED: CommitResult = { status: "unchanged" };
const MISSING: CommitResult = { status: "missing" };

/**
 * Commits one {@link Change}. Messages, edits, erasures, reactions and markers (the send path) run
 * without a transaction:
 * 1. idempotency: a message with the same (sender, clientMsgId) is the answer, as `duplicate` (it
 *    may live in another conversation: the caller decides);
 * 2. the conversation must be live (else `missing`), then each expectation must hold (else its
 *    error is thrown); steps 1 and 2 read in parallel and are judged in this order;
 * 3. whether anything would change is read, so a no-op (a reaction already there) takes no seq;
 *    check-then-act: a racing commit can still turn it into a no-op after this read; then the claims
 *    (`slowMode`, `inviteUse`) are made, each one atomic conditional update (the member's last send,
 *    the link's use count), so of concurrent commits only as many pass as the condition allows; a
 *    claim that does not hold throws its error before a seq is taken;
 * 4. the seq is taken with one atomic `findOneAndUpdate` on the conversation (`$inc lastSeq`,
 *    `$max updatedAt`, only while not deleted: `missing` if it was deleted meanwhile);
 * 5. the mutations are applied with conditional writes; a message insert that loses a race on the
 *    unique (sender, clientMsgId) index answers with the winner as a duplicate;
 * 6. the jobs the change causes (upserts by id, so a retried commit finds its own; a key already
 *    pending keeps its job and the commit goes on, as in SQLite), the system message, then the event
 *    (write concern majority) are written.
 * A commit that fails, or changes nothing, after step 4 leaves a gap in the seqs, which the port
 * allows; never a duplicate (and may leave some of its writes, jobs included, without their event).
 * A claim made by a commit that then fails or finds its conversation gone stays made (a send under
 * slow mode waits out the interval anyway).
 * Group changes (members, roles, mutes, info, delete) and changes with a limit expectation
 * (`memberLimit`, `pinLimit`) run the same steps in one transaction: all-or-nothing (claims
 * included), no gap, and the limits checked after the mutations.
 */
export async function commit(m: Mongo, c: Change): Promise<CommitResult> {
  const grouped = c.mutations.some((x) => GROUP_OPS.has(x.op)) || (c.expect ?? []).some(_isLimit);
  if (!grouped) {
    // Steps 1 and 2 read in parallel; their answers are still taken in order.
    const [first, checks] = await Promise.all([_firstSend(m, c), _readChecks(m, c, undefined)]);
    if (first) return { status: "duplicate", message: first };
    if (!_proceeds(c, checks)) return MISSING;
    return await _commit(m, c, undefined);
  }
  const first = await _firstSend(m, c);
  if (first) return { status: "duplicate", message: first };
  return await inTransaction(m, async (session) => {
    const result = _proceeds(c, await _readChecks(m, c, session))
      ? await _commit(m, c, session)
      : MISSING;
    // Nothing was written: the transaction is abandoned.
    if (result.status === "unchanged" || result.status === "missing") {
      await session.abortTransaction();
    }
    return result;
  });
}

async function _firstSend(m: Mongo, c: Change): Promise<MessageRecord | null> {
  if (!c.idempotency) return null;
  return await getMessageByClientId(m, c.idempotency.senderId, c.idempotency.clientMsgId);
}

/** Steps 3 to 6, after the expectations held. */
async function _commit(m: Mongo, c: Change, session: Session): Promise<CommitResult> {
  let needed = false;
  for (const x of c.mutations) {
    if (await wouldChange(m, c, x, session)) {
      needed = true;
      break;
    }
  }
  if (!needed) return UNCHANGED;
  for (const e of c.expect ?? []) if (_isClaim(e)) await _claim(m, c.conversationId, e, session);
  const head = await m.conversations.findOneAndUpdate(
    { _id: c.conversationId, deletedAt: null },
    // Activity time never moves backwards, even when commits carry slightly older timestamps.
    { $inc: { lastSeq: 1 }, $max: { updatedAt: c.at } },
    { returnDocument: "after", projection: { lastSeq: 1 }, session },
  );
  if (!head) return MISSING;
  const seq = head.lastSeq;
  const seqAt = Date.now();
  let changed = false;
  try {
    for (const x of c.mutations) changed = (await applyMutation(m, c, seq, x, session)) || changed;
  } catch (err) {
    // A retry racing its first attempt: both passed step 1, the unique index let one message in.
    const first = !session && isDuplicateKey(err) ? await _firstSend(m, c) : null;
    if (!first) throw err;
    return { status: "duplicate", message: first };
  }
  for (const e of c.expect ?? []) if (_isLimit(e)) await _checkLimit(m, c, e, session);
  if (!changed) return UNCHANGED;
  return await _record(m, c, seq, seqAt, session);
}

/** Whether the conversation is live, and whether each non-limit expectation holds. */
async function _readChecks(
  m: Mongo,
  c: Change,
  session: Session,
): Promise<{ live: boolean; holds: boolean[] }> {
  const [live, ...holds] = await eachOf<boolean>(session, [
    async () =>
      !!(await m.conversations.findOne(
        { _id: c.conversationId, deletedAt: null },
        { projection: { _id: 1 }, session },
      )),
    ..._checked(c).map((e) => () => _holds(m, c.conversationId, e, session)),
  ]);
  return { live, holds };
}

/**
 * Whether the commit goes on after the checks: false for a missing conversation, which answers first
 * (as in SQLite); otherwise the error of the first expectation that does not hold is thrown.
 */
function _proceeds(c: Change, checks: { live: boolean; holds: boolean[] }): boolean {
  if (!checks.live) return false;
  _checked(c).forEach((e, i) => {
    if (!checks.holds[i]) throw e.error;
  });
  return true;
}

/** A limit expectation, checked after the mutations (in a transaction). */
type Limit = Extract<Expectation, { kind: "memberLimit" | "pinLimit" }>;

function _isLimit(e: Expectation): e is Limit {
  return e.kind === "memberLimit" || e.kind === "pinLimit";
}

/** An expectation that holds by writing: it is claimed, after the reads, before the seq. */
type Claim = Extract<Expectation, { kind: "slowMode" | "inviteUse" }>;

function _isClaim(e: Expectation): e is Claim {
  return e.kind === "slowMode" || e.kind === "inviteUse";
}

/** The expectations read before the mutations: all but the limits and the claims. */
function _checked(c: Change): Expectation[] {
  return (c.expect ?? []).filter((e) => !_isLimit(e) && !_isClaim(e));
}

/**
 * Makes one claim with a single conditional update, or throws its error when nothing matched:
 * - `slowMode`: the member's `lastSentAt` becomes `at` if they sent nothing after `since` (absent or
 *   null: never under slow mode), so of concurrent sends exactly one passes per interval;
 * - `inviteUse`: the link of this conversation, not revoked, not expired at `at`, with uses left
 *   (`maxUses` null: unlimited), counts one more use, so concurrent joins never exceed `maxUses`.
 */
async function _claim(
  m: Mongo,
  conversationId: string,
  e: Claim,
  session: Session,
): Promise<void> {
  const r = e.kind === "slowMode"
    ? await m.members.updateOne(
      {
        _id: memberKey(conversationId, e.userId),
        $or: [{ lastSentAt: null }, { lastSentAt: { $lte: e.since } }],
      },
      { $set: { lastSentAt: e.at } },
      { session },
    )
    : await m.inviteLinks.updateOne(
      {
        _id: e.code,
        conversationId,
        revokedAt: null,
        $and: [
          { $or: [{ expiresAt: null }, { expiresAt: { $gt: e.at } }] },
          { $or: [{ maxUses: null }, { $expr: { $lt: ["$uses", "$maxUses"] } }] },
        ],
      },
      { $inc: { uses: 1 } },
      { session },
    );
  if (r.matchedCount === 0) throw e.error;
}

async function _holds(
  m: Mongo,
  conversationId: string,
  e: Expectation,
  session: Session,
): Promise<boolean> {
  if (e.kind === "member") {
    const d = await m.members.findOne(
      { _id: memberKey(conversationId, e.userId) },
      { projection: { role: 1 }, session },
    );
    return !!d && (!e.roles || e.roles.includes(d.role));
  }
  if (e.kind === "message") {
    const d = await m.messages.findOne(
      { _id: e.messageId, conversationId },
      { projection: { senderId: 1, deletedAt: 1 }, session },
    );
    if (!d) return false;
    if (e.senderId !== undefined && d.senderId !== e.senderId) return false;
    return !(e.live && (d.deletedAt ?? null) !== null);
  }
  if (e.kind === "notBanned") {
    // A ban without `until`, or until after `at`, refuses the user.
    const ban = await m.bans.findOne(
      {
        _id: banKey(conversationId, e.userId),
        $or: [{ until: null }, { until: { $gt: e.at } }],
      },
      { projection: { _id: 1 }, session },
    );
    return !ban;
  }
  return true;
}

async function _checkLimit(m: Mongo, c: Change, e: Limit, session: Session): Promise<void> {
  if (e.kind === "pinLimit") {
    const pins = await m.pins.countDocuments({ conversationId: c.conversationId }, { session });
    if (pins > e.max) throw e.error;
    return;
  }
  const d = await m.conversations.findOne(
    { _id: c.conversationId },
    { projection: { memberCount: 1 }, session },
  );
  if (!d || d.memberCount > e.max) throw e.error;
}

/**
 * Writes the jobs, the system message, then the event. The event is the last write of a commit and
 * is acknowledged by a majority: once it is readable, everything it points at is too.
 */
async function _record(
  m: Mongo,
  c: Change,
  seq: number,
  seqAt: number,
  session: Session,
): Promise<CommitResult> {
  // One at a time: a transaction's session must not carry two operations at once.
  for (const job of c.jobs ?? []) await insertJob(m, job, session);
  const system = c.system && c.messageId
    ? systemMessageDoc({
      id: c.messageId,
      conversationId: c.conversationId,
      seq,
      actorId: c.actorId,
      system: c.system,
      at: c.at,
    })
    : null;
  if (system) await m.messages.insertOne(system, { session });
  const event: EventRecord = {
    conversationId: c.conversationId,
    seq,
    event: c.event,
    actorId: c.actorId,
    messageId: c.messageId ?? null,
    data: c.data ?? {},
    createdAt: c.at,
  };
  await m.events.insertOne(eventDoc(event, seqAt), session ? { session } : MAJORITY);
  return { status: "committed", event, message: await _message(m, c, seq, system, session) };
}

/** The message the event points at, as stored; a new one is built from its own write. */
async function _message(
  m: Mongo,
  c: Change,
  seq: number,
  system: ReturnType<typeof systemMessageDoc> | null,
  session: Session,
): Promise<MessageRecord | null> {
  if (!c.messageId) return null;
  if (system) return toMessage(system);
  const inserted = c.mutations.find((x) =>
    x.op === "insertMessage" && x.message.id === c.messageId
  );
  if (inserted?.op === "insertMessage") {
    return toMessage(messageDoc({ ...inserted.message, conversationId: c.conversationId, seq }));
  }
  const d = await m.messages.findOne({ _id: c.messageId }, { session });
  return d ? toMessage(d) : null;
}
