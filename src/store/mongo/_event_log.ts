import type { MessageRecord } from "../../domain/types.ts";
import type { Change, EventPage, LogStore } from "../log.ts";
import { commit } from "./_commit.ts";
import type { Mongo } from "./_db.ts";
import { toEvent, toMessage } from "./codec.ts";
import { type EventDoc, eventKey } from "./schema.ts";

// Without transactions a commit takes its seq, then writes its event, so seq n+1 can be readable
// before seq n. A reader that moved past the hole at n would skip n for good (the hub drops what is
// at or below the position it delivered), so reads of the log stop before a hole that may still
// fill, and the heads a socket starts from stay below it.

/**
 * How long a missing seq may be a commit still in flight; older holes are commits that failed after
 * taking their seq (the port allows such gaps). Kept below the hub's 3 s hole timeout, so the hub
 * finds a settled hole's successors in the store before it gives up waiting for them.
 */
export const HOLE_SETTLES_MS = 2_000;

/**
 * The leading run of `docs` (ascending seqs after `after`) with no unsettled hole, and whether it was
 * cut short by one. A hole is settled once an event after it took its seq more than
 * {@link HOLE_SETTLES_MS} ago: the hole's seq was taken even earlier.
 */
export function settledRun(
  docs: EventDoc[],
  after: number,
  now: number,
): { docs: EventDoc[]; cut: boolean } {
  let expected = after + 1;
  for (let i = 0; i < docs.length; i++) {
    if (docs[i].seq !== expected && docs[i].seqAt > now - HOLE_SETTLES_MS) {
      return { docs: docs.slice(0, i), cut: true };
    }
    expected = docs[i].seq + 1;
  }
  return { docs, cut: false };
}

/**
 * Events after a seq with the messages they point at. The page ends before a hole that may still
 * fill and then reports no more, so a reader asks again shortly.
 */
async function listEvents(
  m: Mongo,
  conversationId: string,
  options: { after: number; limit: number },
): Promise<EventPage> {
  const found = await m.events.find({ conversationId, seq: { $gt: options.after } })
    .sort({ seq: 1 }).limit(options.limit + 1).toArray();
  const run = settledRun(found, options.after, Date.now());
  const events = run.docs.slice(0, options.limit).map(toEvent);
  const ids = [...new Set(events.map((e) => e.messageId).filter((x): x is string => !!x))];
  const messages = new Map<string, MessageRecord>();
  if (ids.length > 0) {
    for (const d of await m.messages.find({ _id: { $in: ids } }).toArray()) {
      messages.set(d._id, toMessage(d));
    }
  }
  return { events, messages, hasMore: !run.cut && run.docs.length > options.limit };
}

/**
 * The highest seq of one conversation at or below which every event is written or never will be:
 * walks down from `lastSeq` over the recent events to the newest settled one, then back up while the
 * seqs are consecutive. Reads only the events of the last {@link HOLE_SETTLES_MS} plus one.
 */
async function _settledHead(
  m: Mongo,
  conversationId: string,
  lastSeq: number,
  now: number,
): Promise<number> {
  const recent: number[] = [];
  let head = 0;
  const cursor = m.events.find(
    { conversationId, seq: { $lte: lastSeq } },
    { projection: { seq: 1, seqAt: 1 } },
  ).sort({ seq: -1 }).batchSize(32);
  try {
    for await (const d of cursor) {
      if (d.seqAt <= now - HOLE_SETTLES_MS) {
        head = d.seq;
        break;
      }
      recent.push(d.seq);
    }
  } finally {
    await cursor.close();
  }
  for (const seq of recent.reverse()) {
    if (seq !== head + 1) break;
    head = seq;
  }
  return head;
}

/**
 * The heads a socket may start from (see {@link _settledHead}): `lastSeq` itself whenever its event
 * is written and settled, which one query answers for every quiet conversation at once.
 */
async function settledHeads(
  m: Mongo,
  heads: Array<{ id: string; lastSeq: number }>,
): Promise<Array<{ id: string; lastSeq: number }>> {
  if (heads.length === 0) return [];
  const now = Date.now();
  const tops = await m.events.find(
    { _id: { $in: heads.map((h) => eventKey(h.id, h.lastSeq)) } },
    { projection: { seqAt: 1 } },
  ).toArray();
  const settled = new Set(tops.filter((d) => d.seqAt <= now - HOLE_SETTLES_MS).map((d) => d._id));
  return await Promise.all(
    heads.map(async (h) =>
      settled.has(eventKey(h.id, h.lastSeq))
        ? h
        : { id: h.id, lastSeq: await _settledHead(m, h.id, h.lastSeq, now) }
    ),
  );
}

/**
 * The user's live conversations with their heads. A head is `lastSeq` unless a commit that took a
 * seq has not written its event yet; then it is the last seq below that.
 */
async function conversationHeads(
  m: Mongo,
  userId: string,
): Promise<Array<{ id: string; lastSeq: number }>> {
  const ids = await m.members.distinct("conversationId", { userId });
  if (ids.length === 0) return [];
  const docs = await m.conversations.find(
    { _id: { $in: ids }, deletedAt: null },
    { projection: { lastSeq: 1 } },
  ).toArray();
  // Below a commit still in flight, so a socket told this head still gets that event live.
  return await settledHeads(m, docs.map((d) => ({ id: d._id, lastSeq: d.lastSeq })));
}

/**
 * The MongoDB {@link LogStore}. Commits run without transactions on the send path (see `commit` in
 * `_commit.ts`), so a seq can be missing for a moment below a committed one: reads of the log and
 * the heads hold back behind such a hole for up to {@link HOLE_SETTLES_MS}.
 */
export class MongoLog implements LogStore {
  readonly holeSettleMs: number = HOLE_SETTLES_MS;

  constructor(private readonly m: Mongo) {}

  commit(change: Change) {
    return commit(this.m, change);
  }
  listEvents(conversationId: string, options: { after: number; limit: number }) {
    return listEvents(this.m, conversationId, options);
  }
  conversationHeads(userId: string) {
    return conversationHeads(this.m, userId);
  }
}
