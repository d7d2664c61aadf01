import {
  type CandidateQuery,
  type IndexBatch,
  type IndexedMessage,
  SEARCH_TOKEN_BYTES as TOKEN_BYTES,
  type SearchStore,
} from "../search.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, type Db, num, placeholders, type Row, str } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** Maps a `search_messages` row. */
export function toIndexed(r: Row): IndexedMessage {
  return {
    conversationId: str(r.conversation_id),
    messageId: str(r.message_id),
    seq: num(r.seq),
    senderId: str(r.sender_id),
    createdAt: str(r.created_at),
    hasMedia: num(r.has_media) === 1,
    hasLink: num(r.has_link) === 1,
  };
}

function concat(tokens: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(tokens.length * TOKEN_BYTES);
  tokens.forEach((t, i) => out.set(t.subarray(0, TOKEN_BYTES), i * TOKEN_BYTES));
  return out;
}

function split(blob: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + TOKEN_BYTES <= blob.length; i += TOKEN_BYTES) {
    out.push(blob.slice(i, i + TOKEN_BYTES));
  }
  return out;
}

/** Takes messages out of the index inside the caller's transaction (retention, erasure). */
export function removeFromIndex(db: Db, messageIds: string[]): number {
  let n = 0;
  for (const id of messageIds) if (removeOne(db, id)) n++;
  return n;
}

function removeOne(db: Db, messageId: string): boolean {
  const row = db.get("SELECT tokens FROM search_messages WHERE message_id = ?", messageId);
  if (!row) return false;
  for (const t of split(bytes(row.tokens))) {
    db.run("DELETE FROM search_postings WHERE token = ? AND message_id = ?", t, messageId);
  }
  db.run("DELETE FROM search_messages WHERE message_id = ?", messageId);
  return true;
}

function candidates(db: Db, q: CandidateQuery): IndexedMessage[] {
  if (q.tokens.length === 0 || q.conversationIds.length === 0 || q.limit <= 0) return [];
  const [first, ...rest] = q.tokens;
  const where: string[] = [`m.conversation_id IN (${placeholders(q.conversationIds.length)})`];
  const args: Array<string | number | Uint8Array> = [...q.conversationIds];
  for (const t of rest) {
    where.push(
      "EXISTS (SELECT 1 FROM search_postings o WHERE o.token = ? AND o.message_id = p.message_id)",
    );
    args.push(t);
  }
  if (q.senderId !== undefined) where.push("m.sender_id = ?"), args.push(q.senderId);
  if (q.hasMedia) where.push("m.has_media = 1");
  if (q.hasLink) where.push("m.has_link = 1");
  if (q.before !== undefined) where.push("m.created_at < ?"), args.push(q.before);
  if (q.after !== undefined) where.push("m.created_at > ?"), args.push(q.after);
  if (q.belowMessageId !== undefined) where.push("p.message_id < ?"), args.push(q.belowMessageId);
  // Walk the first token's postings newest first; every other condition is checked per posting.
  return db.all(
    `SELECT m.* FROM search_postings p JOIN search_messages m ON m.message_id = p.message_id
     WHERE p.token = ? AND ${where.join(" AND ")}
     ORDER BY p.message_id DESC LIMIT ?`,
    first,
    ...args,
    q.limit,
  ).map(toIndexed);
}

function progress(db: Db, conversationIds: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const ids = conversationIds.slice(i, i + 500);
    for (
      const r of db.all(
        `SELECT conversation_id, seq FROM search_progress
         WHERE conversation_id IN (${placeholders(ids.length)})`,
        ...ids,
      )
    ) out.set(str(r.conversation_id), num(r.seq));
  }
  return out;
}

function behind(
  db: Db,
  limit: number,
): Array<{ conversationId: string; indexedSeq: number; lastSeq: number }> {
  return db.all(
    `SELECT c.id, c.last_seq, coalesce(p.seq, 0) AS indexed FROM conversations c
     LEFT JOIN search_progress p ON p.conversation_id = c.id
     WHERE c.deleted_at IS NULL AND c.last_seq > coalesce(p.seq, 0)
     LIMIT ?`,
    limit,
  ).map((r) => ({
    conversationId: str(r.id),
    indexedSeq: num(r.indexed),
    lastSeq: num(r.last_seq),
  }));
}

function staleMessages(db: Db, keyVersion: number, limit: number): IndexedMessage[] {
  return db.all(
    "SELECT * FROM search_messages WHERE key_version != ? LIMIT ?",
    keyVersion,
    limit,
  ).map(toIndexed);
}

function indexMessage(db: Db, m: IndexedMessage, tokens: Uint8Array[], keyVersion: number): void {
  removeOne(db, m.messageId);
  const unique = new Map(tokens.map((t) => [t.subarray(0, TOKEN_BYTES).join(","), t]));
  const list = [...unique.values()];
  db.run(
    `INSERT INTO search_messages (message_id, conversation_id, seq, sender_id, created_at,
       has_media, has_link, key_version, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    m.messageId,
    m.conversationId,
    m.seq,
    m.senderId,
    m.createdAt,
    m.hasMedia ? 1 : 0,
    m.hasLink ? 1 : 0,
    keyVersion,
    concat(list),
  );
  for (const t of list) {
    db.run(
      "INSERT OR IGNORE INTO search_postings (token, message_id) VALUES (?, ?)",
      t.subarray(0, TOKEN_BYTES),
      m.messageId,
    );
  }
}

function setProgress(db: Db, conversationId: string, seq: number): void {
  db.run(
    `INSERT INTO search_progress (conversation_id, seq) VALUES (?, ?)
     ON CONFLICT (conversation_id) DO UPDATE SET seq = max(seq, excluded.seq)`,
    conversationId,
    seq,
  );
}

/** The search writes, run on the writer thread (see `_writes.ts`). */
export const searchWrites = {
  indexMessage,
  applyIndex(db: Db, b: IndexBatch): void {
    // The index is derived data (rebuilt from the log): its commits need not wait for an fsync.
    // The next message commit's fsync (synchronous FULL) makes them durable along with it.
    const full = db.get("PRAGMA synchronous")?.synchronous === 2;
    if (full) db.raw.exec("PRAGMA synchronous = NORMAL");
    try {
      db.transaction(() => {
        for (const { message, tokens } of b.index) indexMessage(db, message, tokens, b.keyVersion);
        removeFromIndex(db, b.remove);
        if (b.progress) setProgress(db, b.progress.conversationId, b.progress.seq);
      });
    } finally {
      if (full) db.raw.exec("PRAGMA synchronous = FULL");
    }
  },
  removeMessages: removeFromIndex,
  setProgress,
};

/** The SQLite {@link SearchStore}. */
export function sqliteSearch(db: Db, writer: Writer): SearchStore {
  return {
    ...bindReads(db, { candidates, progress, behind, staleMessages }),
    ...bindWrites(writer, searchWrites),
  };
}
