import {
  type CandidateQuery,
  type IndexBatch,
  type IndexedMessage,
  SEARCH_TOKEN_BYTES as TOKEN_BYTES,
  type SearchStore,
} from "../search.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { bytes, Db, num, placeholders, read, type Row, str } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** The search index's own file beside the database (`parley.db` → `parley-search.db`). */
export function searchFileOf(path: string): string {
  return path.endsWith(".db") ? `${path.slice(0, -3)}-search.db` : `${path}-search.db`;
}

/**
 * The index's schema, in its own file. It is derived data (rebuilt from the log: what the file lacks
 * is indexed again), so it has no migrations: a new layout is a new file name.
 */
const SCHEMA = `
  -- Keyed tokens only (HMACs of words and of their first letters): never a word.
  CREATE TABLE IF NOT EXISTS search_messages (
    message_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sender_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    has_media INTEGER NOT NULL,
    has_link INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    tokens BLOB NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS search_messages_conversation
    ON search_messages(conversation_id, message_id);
  CREATE INDEX IF NOT EXISTS search_messages_key ON search_messages(key_version);
  CREATE TABLE IF NOT EXISTS search_postings (
    token BLOB NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (token, message_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS search_progress (
    conversation_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** Opens the index file (creating it and its tables if missing): the main thread's reads. */
export function openSearchFile(path: string): Db {
  const db = new Db(path, { synchronous: "NORMAL" });
  db.raw.exec(SCHEMA);
  return db;
}

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

/** Takes messages out of the index. */
function removeFromIndex(db: Db, messageIds: string[]): number {
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

/**
 * Conversations (in the database) whose head is past their progress (in the index file): the two
 * files are read apart (`node:sqlite` under Deno cannot attach one to the other), each in one pass.
 */
function behind(
  db: Db,
  index: Db,
  limit: number,
): Array<{ conversationId: string; indexedSeq: number; lastSeq: number }> {
  if (limit <= 0) return [];
  const progress = new Map<string, number>();
  for (const r of index.all("SELECT conversation_id, seq FROM search_progress")) {
    progress.set(str(r.conversation_id), num(r.seq));
  }
  const out: Array<{ conversationId: string; indexedSeq: number; lastSeq: number }> = [];
  for (
    const r of db.all(
      "SELECT id, last_seq FROM conversations WHERE deleted_at IS NULL AND last_seq > 0",
    )
  ) {
    const indexedSeq = progress.get(str(r.id)) ?? 0;
    if (num(r.last_seq) > indexedSeq) {
      out.push({ conversationId: str(r.id), indexedSeq, lastSeq: num(r.last_seq) });
      if (out.length === limit) break;
    }
  }
  return out;
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
  // Runs on the index file's own writer (synchronous NORMAL: derived data, and progress commits in
  // the same transaction, so whatever a crash loses is indexed again).
  applyIndex(db: Db, b: IndexBatch): void {
    db.transaction(() => {
      for (const { message, tokens } of b.index) indexMessage(db, message, tokens, b.keyVersion);
      removeFromIndex(db, b.remove);
      if (b.progress) setProgress(db, b.progress.conversationId, b.progress.seq);
    });
  },
  removeMessages: removeFromIndex,
  setProgress,
};

/**
 * The SQLite {@link SearchStore}: `index` reads the index file (written by `writer`, that file's own
 * writer thread); `db` is the database's read connection, for the conversations' heads.
 */
export function sqliteSearch(db: Db, index: Db, writer: Writer): SearchStore {
  return {
    ...bindReads(index, { candidates, progress, staleMessages }),
    behind: (limit: number) => read(() => behind(db, index, limit)),
    ...bindWrites(writer, searchWrites),
  };
}
