import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import type { MediaRecord } from "../domain/media.ts";
import type { MessageRecord, User } from "../domain/types.ts";
import type { EncryptedBlobs } from "../media/encrypted_blobs.ts";
import type { ListCursor, Store } from "../store/store.ts";
import { displayName } from "./media.ts";
import type { UserData } from "./user_data.ts";

/** What building an archive reads from. */
export interface ArchiveSources {
  store: Pick<Store, "privacy" | "conversations" | "media">;
  dataKeys: DataKeys;
  /** Where media bytes are (to copy the user's files into the archive). */
  mediaBlobs: EncryptedBlobs;
  /** Features with data of their own about the user: one JSON-lines file each. */
  userData?: readonly UserData[];
}

const encoder = new TextEncoder();
const PAGE = 200;

/**
 * A zip written as it is made: one entry at a time, each chunk handed to `write` and awaited before
 * the next is produced, so memory holds one chunk, not the archive (fflate's streaming `Zip`; an entry
 * added while another is open would be buffered, so entries never overlap).
 */
export class ZipStream {
  #zip: Zip;
  #written: Promise<void> = Promise.resolve();
  #failed: unknown;

  constructor(write: (chunk: Uint8Array) => Promise<void>) {
    this.#zip = new Zip((err, chunk) => {
      if (err) this.#failed = err;
      else this.#written = this.#written.then(() => write(chunk));
    });
  }

  async #drain(): Promise<void> {
    if (this.#failed) throw this.#failed;
    await this.#written;
  }

  /** Adds one entry from `chunks` (deflated when `compress`), streaming it through. */
  async entry(
    name: string,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    compress = true,
  ): Promise<void> {
    const file = compress ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    this.#zip.add(file);
    for await (const chunk of chunks) {
      file.push(chunk);
      await this.#drain();
    }
    file.push(new Uint8Array(0), true);
    await this.#drain();
  }

  async end(): Promise<void> {
    this.#zip.end();
    await this.#drain();
  }
}

function line(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}

/** The archive path of a media item's file: its id as a folder keeps names apart. */
export function mediaPath(m: MediaRecord): string {
  return `media/${m.id}/${displayName(m).replace(/[/\\]/g, "_")}`;
}

/**
 * Writes the user's data export (layout in {@link README}) to `write`, paging through the store so a
 * large account never sits in memory. Message texts are decrypted with the user's data key; media
 * files are decrypted chunk by chunk into the archive.
 */
export async function writeArchive(
  src: ArchiveSources,
  user: User,
  write: (chunk: Uint8Array) => Promise<void>,
  at: Date,
): Promise<void> {
  const zip = new ZipStream(write);
  await zip.entry("README.txt", [encoder.encode(readme(src.userData))]);
  await zip.entry("profile.json", [encoder.encode(JSON.stringify(profile(user), null, 2))]);
  const sessions = await src.store.privacy.allSessions(user.id);
  await zip.entry("sessions.jsonl", sessions.map((s) => line(s)));
  await zip.entry("conversations.jsonl", conversations(src, user.id));
  await messages(src, user.id, zip);
  await zip.entry("reactions.jsonl", reactions(src, user.id));
  await zip.entry("media.jsonl", mediaIndex(src, user.id));
  for (const data of src.userData ?? []) {
    await zip.entry(data.exportPath, (await data.exportUser(user.id)).map((r) => line(r)));
  }
  for await (const m of ownMedia(src, user.id)) {
    if (m.status !== "ready") continue;
    const key = await src.dataKeys.forReading(m.keyId);
    const reader = key ? await src.mediaBlobs.open(key, m.id, "main") : null;
    if (!reader) continue;
    try {
      await zip.entry(mediaPath(m), reader.stream(0, reader.size - 1), m.kind === "document");
    } finally {
      reader.close();
    }
  }
  await zip.entry(
    "export.json",
    [line({ userId: user.id, createdAt: at.toISOString(), format: "parley-export/1" })],
  );
  await zip.end();
}

function profile(u: User) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    statusText: u.statusText,
    presence: u.presence,
    privacy: u.privacy,
    lastSeenAt: u.lastSeenAt,
    createdAt: u.createdAt,
    avatarMediaId: u.avatarMediaId,
  };
}

async function* conversations(src: ArchiveSources, userId: string): AsyncIterable<Uint8Array> {
  for (const archived of [false, true]) {
    let cursor: ListCursor | undefined;
    for (;;) {
      const page = await src.store.conversations.listConversations(userId, {
        archived,
        limit: PAGE,
        cursor,
      });
      const lines = page.map(({ conversation: c, member: m, peerId }) =>
        line({
          id: c.id,
          type: c.type,
          name: c.name,
          description: c.description,
          createdAt: c.createdAt,
          memberCount: c.memberCount,
          retentionDays: c.retentionDays,
          peerId,
          membership: {
            role: m.role,
            joinedAt: m.joinedAt,
            readSeq: m.readSeq,
            muted: m.muted,
            mutedUntil: m.mutedUntil,
            archived: m.archived,
          },
        })
      );
      if (lines.length) yield concat(lines);
      if (page.length < PAGE) break;
      const last = page.at(-1)!.conversation;
      cursor = { updatedAt: last.updatedAt, id: last.id };
    }
  }
}

async function* sentMessages(src: ArchiveSources, userId: string): AsyncIterable<MessageRecord> {
  let after: { conversationId: string; seq: number } | undefined;
  for (;;) {
    const page = await src.store.privacy.listSentMessages(userId, { limit: PAGE, after });
    yield* page;
    if (page.length < PAGE) return;
    after = { conversationId: page.at(-1)!.conversationId, seq: page.at(-1)!.seq };
  }
}

/** An iterator with its next item already read, so a run of items can be cut where it changes. */
interface Lookahead<T> {
  it: AsyncIterator<T>;
  next: IteratorResult<T>;
}

/** One `messages/<conversationId>.jsonl` per conversation, in seq order. */
async function messages(src: ArchiveSources, userId: string, zip: ZipStream): Promise<void> {
  const it = sentMessages(src, userId)[Symbol.asyncIterator]();
  const sent: Lookahead<MessageRecord> = { it, next: await it.next() };
  while (!sent.next.done) {
    const conversationId = sent.next.value.conversationId;
    await zip.entry(`messages/${conversationId}.jsonl`, linesOf(src, sent, conversationId));
  }
}

/** The lines of the messages `sent` yields while they belong to `conversationId`, batched. */
async function* linesOf(
  src: ArchiveSources,
  sent: Lookahead<MessageRecord>,
  conversationId: string,
): AsyncIterable<Uint8Array> {
  let batch: Uint8Array[] = [];
  while (!sent.next.done && sent.next.value.conversationId === conversationId) {
    batch.push(await messageLine(src, sent.next.value));
    if (batch.length === 100) {
      yield concat(batch);
      batch = [];
    }
    sent.next = await sent.it.next();
  }
  if (batch.length) yield concat(batch);
}

async function messageLine(src: ArchiveSources, m: MessageRecord): Promise<Uint8Array> {
  const text = m.body
    ? await src.dataKeys.openText(m.body, messageAad(m.conversationId, m.id))
    : null;
  const media = await src.store.media.getMediaMany(m.mediaIds);
  return line({
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    clientMsgId: m.clientMsgId,
    kind: m.kind,
    text,
    media: m.mediaIds.map((id) => {
      const item = media.find((x) => x.id === id);
      return { id, file: item?.status === "ready" ? mediaPath(item) : null };
    }),
    replyTo: m.replyTo,
    mentions: m.mentions,
    editedAt: m.editedAt,
    createdAt: m.createdAt,
  });
}

async function* reactions(src: ArchiveSources, userId: string): AsyncIterable<Uint8Array> {
  let after: { messageId: string; emoji: string } | undefined;
  for (;;) {
    const page = await src.store.privacy.listUserReactions(userId, { limit: PAGE, after });
    if (page.length) yield concat(page.map((r) => line(r)));
    if (page.length < PAGE) return;
    after = { messageId: page.at(-1)!.messageId, emoji: page.at(-1)!.emoji };
  }
}

async function* ownMedia(src: ArchiveSources, userId: string): AsyncIterable<MediaRecord> {
  let afterId: string | undefined;
  for (;;) {
    const page = await src.store.privacy.listMediaByOwner(userId, { limit: PAGE, afterId });
    yield* page;
    if (page.length < PAGE) return;
    afterId = page.at(-1)!.id;
  }
}

async function* mediaIndex(src: ArchiveSources, userId: string): AsyncIterable<Uint8Array> {
  for await (const m of ownMedia(src, userId)) {
    yield line({
      id: m.id,
      kind: m.kind,
      status: m.status,
      mime: m.mime,
      size: m.size,
      filename: displayName(m),
      width: m.width,
      height: m.height,
      durationMs: m.durationMs,
      createdAt: m.createdAt,
      file: m.status === "ready" ? mediaPath(m) : null,
    });
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The README at the root of every export, listing also the files of `userData` features. */
export function readme(userData: readonly UserData[] = []): string {
  const extra = userData.map((d) => `${d.exportPath.padEnd(20)} ${d.exportDescription}\n`).join("");
  return README.replace("media/<media id>/<name>\n", `${extra}media/<media id>/<name>\n`);
}

/** The README at the root of every export (before the files of `userData` features are listed). */
export const README = `Parley data export
==================

This archive holds the personal data Parley keeps about your account, as of the time in
export.json. Text files are UTF-8; *.jsonl files hold one JSON object per line. Times are
ISO-8601 UTC. Ids are opaque strings that other files refer to.

README.txt           this file
export.json          who the export is for, when it was made, and the format version
profile.json         your account: id, username, display name, role, status text, presence,
                     privacy settings, last seen time, when it was created, avatar media id
sessions.jsonl       every sign-in session we still keep: device name, address (ip), when it
                     started, was last used, expires or was revoked
conversations.jsonl  the conversations you are a member of, with your membership (role, when
                     you joined, read position, muted, archived)
messages/<conversation id>.jsonl
                     every message you sent that was not deleted, in order (seq), with its
                     text (decrypted), attachments (file path in this archive), reply, mentions
                     and times; also messages in conversations you have since left
reactions.jsonl      every reaction you made: message id, conversation id, emoji, time
media.jsonl          every file you uploaded: kind, type, size, name, status, and its path here
media/<media id>/<name>
                     your uploaded files as we serve them (images re-encoded without metadata,
                     video and audio converted; documents as uploaded)

Not included: other people's messages and files (they are their data), messages you deleted
(they are erased), thumbnails (derived from your files), and the audit log of security events,
which Parley keeps to protect accounts.

To erase your account and data instead, use DELETE /v1/users/me.
`;
