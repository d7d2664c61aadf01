import type { CandidateQuery, IndexBatch, IndexedMessage, SearchStore } from "../search.ts";
import { bindReads, bindWrites } from "./_bind.ts";
import { Db, num, type Row, str } from "./_db.ts";
import type { Writer } from "./_writer.ts";

/** The search index's own file beside the database (`parley.db` → `parley-search.db`). */
export function searchFileOf(path: string): string {
  return path.endsWith(".db") ? `${path.slice(0, -3)}-search.db` : `${path}-search.db`;
}

/**
 * The index's schema, in its own file. It is derived data (rebuilt from the log: what the file lacks
 * is indexed again), so it has no migrations: a new layout is a new table or file name.
 *
 * `search_terms` is a contentless FTS5 table (it keeps the index of terms, never a document): each
 * message is one row whose terms are its keyed tokens (`t` + hex), its conversation (`c…`), its
 * sender (`s…`) and `hmedia`/`hlink`. A query is one MATCH of every token and the filters, walked
 * newest first by rowid, which {@link rowidOf} derives from the message id's time, so the walk
 * stops as soon as enough are found. `search_messages` holds what a candidate needs (filters, order)
 * and the key version the tokens were made under.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS search_messages (
    rid INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sender_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    has_media INTEGER NOT NULL,
    has_link INTEGER NOT NULL,
    key_version INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS search_messages_key ON search_messages(key_version);
  CREATE VIRTUAL TABLE IF NOT EXISTS search_terms USING fts5(
    terms, content = '', contentless_delete = 1, detail = none
  );
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

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const EPOCH_MS = Date.UTC(2020, 0, 1);
/** Random bits of the id kept below the time in a rowid (time in ms × 4096 stays below 2^53). */
const RANDOM_BITS = 12;

/**
 * A rowid that sorts as the message id does: the id's millisecond time (since 2020) then its first
 * random bits. Two ids sharing both get the next free rowid (see `freeRowid`).
 */
export function rowidOf(messageId: string): number {
  let ms = 0;
  for (let i = 0; i < 10; i++) ms = ms * 32 + Math.max(0, ALPHABET.indexOf(messageId[i] ?? "0"));
  let random = 0;
  for (let i = 10; i < 13; i++) {
    random = random * 32 + Math.max(0, ALPHABET.indexOf(messageId[i] ?? "0"));
  }
  return Math.max(0, ms - EPOCH_MS) * 2 ** RANDOM_BITS + (random >> (15 - RANDOM_BITS));
}

/** The smallest rowid of a time (for date bounds), with a minute of slack for clock skew. */
function rowidAt(iso: string, slackMs: number): number {
  return Math.max(0, Date.parse(iso) + slackMs - EPOCH_MS) * 2 ** RANDOM_BITS;
}

/** An FTS5 term for an id: kept as is when it is lower-case alphanumeric, hex of UTF-8 otherwise. */
function idTerm(kind: "c" | "s", id: string): string {
  if (/^[0-9a-z]+$/.test(id)) return `${kind}${id}`;
  return `${kind}x${hex(new TextEncoder().encode(id))}`;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** A keyed token's term: its first 12 bytes (96 bits) in hex. */
function tokenTerm(t: Uint8Array): string {
  return `t${hex(t.subarray(0, 12))}`;
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

function removeOne(db: Db, messageId: string): boolean {
  const row = db.get("SELECT rid FROM search_messages WHERE message_id = ?", messageId);
  if (!row) return false;
  db.run("DELETE FROM search_terms WHERE rowid = ?", row.rid);
  db.run("DELETE FROM search_messages WHERE rid = ?", row.rid);
  return true;
}

/** Takes messages out of the index. */
function removeFromIndex(db: Db, messageIds: string[]): number {
  let n = 0;
  for (const id of messageIds) if (removeOne(db, id)) n++;
  return n;
}

/** The message's rowid, or the next free one when another message took it. */
function freeRowid(db: Db, messageId: string): number {
  let rid = rowidOf(messageId);
  while (db.get("SELECT 1 AS x FROM search_messages WHERE rid = ?", rid)) rid++;
  return rid;
}

function indexMessage(db: Db, m: IndexedMessage, tokens: Uint8Array[], keyVersion: number): void {
  const before = db.get("SELECT rid FROM search_messages WHERE message_id = ?", m.messageId);
  if (before) {
    db.run("DELETE FROM search_terms WHERE rowid = ?", before.rid);
    db.run("DELETE FROM search_messages WHERE rid = ?", before.rid);
  }
  const rid = before ? num(before.rid) : freeRowid(db, m.messageId);
  db.run(
    `INSERT INTO search_messages (rid, message_id, conversation_id, seq, sender_id, created_at,
       has_media, has_link, key_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    rid,
    m.messageId,
    m.conversationId,
    m.seq,
    m.senderId,
    m.createdAt,
    m.hasMedia ? 1 : 0,
    m.hasLink ? 1 : 0,
    keyVersion,
  );
  const terms = new Set(tokens.map(tokenTerm));
  terms.add(idTerm("c", m.conversationId));
  terms.add(idTerm("s", m.senderId));
  if (m.hasMedia) terms.add("hmedia");
  if (m.hasLink) terms.add("hlink");
  db.run("INSERT INTO search_terms (rowid, terms) VALUES (?, ?)", rid, [...terms].join(" "));
}

/** Up to this many conversations are matched as terms; a wider search filters rows instead. */
const CONVERSATION_TERMS = 256;

function candidates(db: Db, q: CandidateQuery): IndexedMessage[] {
  if (q.tokens.length === 0 || q.conversationIds.length === 0 || q.limit <= 0) return [];
  const terms = q.tokens.map((t) => `"${tokenTerm(t)}"`);
  const wide = q.conversationIds.length > CONVERSATION_TERMS;
  if (!wide) {
    const scope = q.conversationIds.map((c) => `"${idTerm("c", c)}"`);
    terms.push(scope.length === 1 ? scope[0] : `(${scope.join(" OR ")})`);
  }
  if (q.senderId !== undefined) terms.push(`"${idTerm("s", q.senderId)}"`);
  if (q.hasMedia) terms.push(`"hmedia"`);
  if (q.hasLink) terms.push(`"hlink"`);
  const where = ["search_terms MATCH ?"];
  const args: Array<string | number> = [terms.join(" AND ")];
  if (q.belowMessageId !== undefined) {
    const at = db.get("SELECT rid FROM search_messages WHERE message_id = ?", q.belowMessageId);
    where.push("search_terms.rowid < ?");
    args.push(at ? num(at.rid) : rowidOf(q.belowMessageId));
  }
  // Time bounds narrow the walk by rowid (with a minute of slack: an id's time is not exactly its
  // creation time), then hold exactly on created_at.
  if (q.before !== undefined) {
    where.push("search_terms.rowid < ?", "m.created_at < ?");
    args.push(rowidAt(q.before, 60_000), q.before);
  }
  if (q.after !== undefined) {
    where.push("search_terms.rowid >= ?", "m.created_at > ?");
    args.push(rowidAt(q.after, -60_000), q.after);
  }
  const sql = `SELECT m.* FROM search_terms JOIN search_messages m ON m.rid = search_terms.rowid
     WHERE ${where.join(" AND ")} ORDER BY search_terms.rowid DESC`;
  if (!wide) return db.all(`${sql} LIMIT ?`, ...args, q.limit).map(toIndexed);
  // A caller in very many conversations: walk the matches newest first, keeping theirs.
  const mine = new Set(q.conversationIds);
  const out: IndexedMessage[] = [];
  for (const r of db.statement(sql).iterate(...args) as Iterable<Row>) {
    if (!mine.has(str(r.conversation_id))) continue;
    out.push(toIndexed(r));
    if (out.length >= q.limit) break;
  }
  return out;
}

function progress(db: Db, conversationIds: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < conversationIds.length; i += 500) {
    const ids = conversationIds.slice(i, i + 500);
    for (
      const r of db.all(
        `SELECT conversation_id, seq FROM search_progress
         WHERE conversation_id IN (${ids.map(() => "?").join(",")})`,
        ...ids,
      )
    ) out.set(str(r.conversation_id), num(r.seq));
  }
  return out;
}

/**
 * Conversations (in the database) whose head is past their progress (in the index file): the two
 * files are read apart (`node:sqlite` under Deno cannot attach one to the other), each in one pass,
 * on the index's writer thread (every conversation is read: too long for the event loop).
 */
function behind(
  index: Db,
  db: Db,
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

/** Two ranges of the key-version index, not `!=` (which would scan every row each sweep). */
function staleMessages(db: Db, keyVersion: number, limit: number): IndexedMessage[] {
  return db.all(
    `SELECT * FROM (SELECT * FROM search_messages WHERE key_version < ? LIMIT ?)
     UNION ALL SELECT * FROM (SELECT * FROM search_messages WHERE key_version > ? LIMIT ?)
     LIMIT ?`,
    keyVersion,
    limit,
    keyVersion,
    limit,
    limit,
  ).map(toIndexed);
}

function setProgress(db: Db, conversationId: string, seq: number): void {
  db.run(
    `INSERT INTO search_progress (conversation_id, seq) VALUES (?, ?)
     ON CONFLICT (conversation_id) DO UPDATE SET seq = max(seq, excluded.seq)`,
    conversationId,
    seq,
  );
}

/** The search writes, run on the index file's own writer thread (see `_writes.ts`). */
export const searchWrites = {
  indexMessage,
  // Synchronous NORMAL on this file: derived data, and progress commits in the same transaction, so
  // whatever a crash loses is indexed again.
  applyIndex(db: Db, b: IndexBatch): void {
    db.transaction(() => {
      for (const { message, tokens } of b.index) indexMessage(db, message, tokens, b.keyVersion);
      removeFromIndex(db, b.remove);
      for (const p of b.progress) setProgress(db, p.conversationId, p.seq);
    });
  },
  removeMessages: removeFromIndex,
  setProgress,
};

/**
 * The SQLite {@link SearchStore}: `index` reads the index file, written by `writer` (that file's own
 * writer thread, which also reads the main database for `behind`).
 */
export function sqliteSearch(index: Db, writer: Writer): SearchStore {
  return {
    ...bindReads(index, { candidates, progress, staleMessages }),
    behind: (limit: number) => writer.readOff("searchBehind", limit),
    ...bindWrites(writer, searchWrites),
  };
}

/** The index's reads that run on its writer thread with the main database (see `_writes.ts`). */
export const searchWorkerReads = { searchBehind: behind };
