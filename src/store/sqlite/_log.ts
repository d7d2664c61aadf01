import type { EventRecord, MessageRecord } from "../../domain/types.ts";
import type { Change, CommitResult, EventPage, LogStore } from "../log.ts";
import type { CommitQueue } from "./_commit_queue.ts";
import { type Db, num, placeholders, read, str } from "./_db.ts";
import { toEvent, toMessage } from "./_rows.ts";

export function listEvents(
  db: Db,
  conversationId: string,
  options: { after: number; limit: number },
): EventPage {
  const rows = db.all(
    "SELECT * FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    conversationId,
    options.after,
    options.limit + 1,
  );
  const hasMore = rows.length > options.limit;
  const events: EventRecord[] = rows.slice(0, options.limit).map(toEvent);
  const ids = [...new Set(events.map((e) => e.messageId).filter((x): x is string => !!x))];
  const messages = new Map<string, MessageRecord>();
  if (ids.length > 0) {
    for (
      const r of db.all(`SELECT * FROM messages WHERE id IN (${placeholders(ids.length)})`, ...ids)
    ) {
      messages.set(str(r.id), toMessage(r));
    }
  }
  return { events, messages, hasMore };
}

/** The conversations a user is a member of, with their last seq (every event up to it is committed). */
export function conversationHeads(db: Db, userId: string): Array<{ id: string; lastSeq: number }> {
  return db.all(
    `SELECT c.id, c.last_seq FROM members m JOIN conversations c ON c.id = m.conversation_id
     WHERE m.user_id = ? AND c.deleted_at IS NULL`,
    userId,
  ).map((r) => ({ id: str(r.id), lastSeq: num(r.last_seq) }));
}

/**
 * The SQLite {@link LogStore}: commits go through the group-commit queue to the writer thread, in
 * transactions, so there are never holes (`holeSettleMs` is 0); reads on the main connection.
 */
export class SqliteLog implements LogStore {
  readonly holeSettleMs = 0;

  constructor(private readonly db: Db, private readonly queue: CommitQueue) {}

  commit(change: Change): Promise<CommitResult> {
    return this.queue.enqueue(change);
  }
  listEvents(conversationId: string, options: { after: number; limit: number }) {
    return read(() => listEvents(this.db, conversationId, options));
  }
  conversationHeads(userId: string) {
    return read(() => conversationHeads(this.db, userId));
  }
}
