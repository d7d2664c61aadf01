import { type DataKeys, messageAad } from "../crypto/envelope.ts";
import type { MediaRecord } from "../domain/media.ts";
import type { Conversation, MessageRecord, SealedText } from "../domain/types.ts";
import type { EncryptedBlobs } from "../media/encrypted_blobs.ts";
import type { HeldMessage, LegalHold, Store } from "../store/store.ts";
import { concat, mediaPath, ZipStream } from "./_export_archive.ts";
import { displayName } from "./media.ts";

/** What archiving a conversation reads from. */
export interface ConversationArchiveSources {
  store: Pick<Store, "archive" | "accounts" | "media" | "messages">;
  dataKeys: DataKeys;
  mediaBlobs: EncryptedBlobs;
}

/** One message of `messages.json`. */
export interface ArchivedMessage {
  id: string;
  seq: number;
  senderId: string | null;
  kind: string;
  text: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  replyTo: string | null;
  threadId: string | null;
  forwarded: boolean;
  system: unknown;
  media: Array<{ id: string; kind: string; mime: string; name: string; file: string | null }>;
  reactions: Array<{ emoji: string; userIds: string[] }>;
  /** A message deleted while the conversation was on hold: its content, kept by the hold. */
  held?: { text: string | null; replyTo: string | null; mediaIds: string[] };
}

interface Person {
  username: string;
  displayName: string;
}

const PAGE = 200;
const encoder = new TextEncoder();

/**
 * Writes a conversation's archive to `write`: `messages.json` (every message in seq order, texts
 * decrypted, with reactions and attachments; under a legal hold, deleted messages carry their held
 * content), `transcript.html` (the same, readable, self-contained: no script, no request leaves the
 * file but to the `media/` folder beside it) and `media/<id>/<name>` (each file once). Every pass
 * pages through the store, so memory holds a page, not the conversation.
 */
export async function writeConversationArchive(
  src: ConversationArchiveSources,
  conversation: Conversation,
  exportedBy: string,
  write: (chunk: Uint8Array) => Promise<void>,
  at: Date,
): Promise<{ messages: number; media: number }> {
  const zip = new ZipStream(write);
  const people = new People(src);
  const hold = await src.store.archive.getHold(conversation.id);
  let count = 0;
  await zip.entry(
    "messages.json",
    messagesJson(src, conversation, hold, exportedBy, at, people, () => count++),
  );
  await zip.entry("transcript.html", transcript(src, conversation, hold, at, people));
  let media = 0;
  const seen = new Set<string>();
  // The last pass only needs each page's attachments (already looked up): no text, no reactions.
  for await (const page of pages(src, conversation.id, { texts: false })) {
    for (const item of page.flatMap((e) => e.media)) {
      if (seen.has(item.id)) continue;
      seen.add(item.id);
      if (item.status !== "ready") continue;
      const key = await src.dataKeys.forReading(item.keyId);
      const reader = key ? await src.mediaBlobs.open(key, item.id, "main") : null;
      if (!reader) continue;
      try {
        await zip.entry(mediaPath(item), reader.stream(0, reader.size - 1), false);
        media++;
      } finally {
        reader.close();
      }
    }
  }
  await zip.end();
  return { messages: count, media };
}

/** A message with what the archive shows of it, one page at a time. */
interface Entry {
  record: MessageRecord;
  text: string | null;
  held?: HeldMessage & { text: string | null };
  media: MediaRecord[];
  reactions: Array<{ emoji: string; userIds: string[] }>;
}

/** The conversation page by page; without `texts`, bodies are not decrypted nor reactions read. */
async function* pages(
  src: ConversationArchiveSources,
  conversationId: string,
  options: { texts: boolean } = { texts: true },
): AsyncIterable<Entry[]> {
  const withTexts = options.texts;
  let after = 0;
  for (;;) {
    const records = await src.store.archive.archivePage(conversationId, after, PAGE);
    if (records.length === 0) return;
    const ids = records.map((m) => m.id);
    const deleted = records.filter((m) => m.deletedAt).map((m) => m.id);
    const [held, reactions] = await Promise.all([
      deleted.length ? src.store.archive.heldMessages(conversationId, deleted) : new Map(),
      withTexts ? src.store.messages.reactions(ids) : new Map(),
    ]);
    const mediaIds = [
      ...new Set(records.flatMap((m) => [...m.mediaIds, ...(held.get(m.id)?.mediaIds ?? [])])),
    ];
    const media = mediaIds.length ? await src.store.media.getMediaMany(mediaIds) : [];
    const byId = new Map(media.map((m) => [m.id, m]));
    const entries: Entry[] = [];
    for (const record of records) {
      const h: HeldMessage | undefined = held.get(record.id);
      entries.push({
        record,
        text: withTexts ? await openText(src, record.conversationId, record.id, record.body) : null,
        held: h && {
          ...h,
          text: withTexts ? await openText(src, record.conversationId, h.messageId, h.body) : null,
        },
        media: [...record.mediaIds, ...(h?.mediaIds ?? [])].map((id) => byId.get(id))
          .filter((m): m is MediaRecord => !!m),
        reactions: reactions.get(record.id) ?? [],
      });
    }
    yield entries;
    if (records.length < PAGE) return;
    after = records.at(-1)!.seq;
  }
}

async function openText(
  src: ConversationArchiveSources,
  conversationId: string,
  messageId: string,
  body: SealedText | null,
): Promise<string | null> {
  return body ? await src.dataKeys.openText(body, messageAad(conversationId, messageId)) : null;
}

/** Who the senders are, looked up once each (a conversation's members are bounded). */
class People {
  #known = new Map<string, Person>();
  constructor(private readonly src: ConversationArchiveSources) {}

  async load(ids: Array<string | null>): Promise<void> {
    const missing = [...new Set(ids)].filter((id): id is string => !!id && !this.#known.has(id));
    if (missing.length === 0) return;
    for (const u of await this.src.store.accounts.getUsers(missing)) {
      this.#known.set(u.id, { username: u.username, displayName: u.displayName });
    }
    for (const id of missing) {
      if (!this.#known.has(id)) this.#known.set(id, { username: "", displayName: "Unknown" });
    }
  }

  get(id: string | null): Person | null {
    return id ? this.#known.get(id) ?? null : null;
  }

  all(): Array<Person & { id: string }> {
    return [...this.#known].map(([id, p]) => ({ id, ...p }));
  }
}

function archived(e: Entry): ArchivedMessage {
  const m = e.record;
  const media = (ids: string[]) =>
    ids.map((id) => {
      const item = e.media.find((x) => x.id === id);
      return {
        id,
        kind: item?.kind ?? "unknown",
        mime: item?.mime ?? "application/octet-stream",
        name: item ? displayName(item) : "",
        file: item?.status === "ready" ? mediaPath(item) : null,
      };
    });
  const out: ArchivedMessage = {
    id: m.id,
    seq: m.seq,
    senderId: m.senderId,
    kind: m.kind,
    text: e.text,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
    deletedAt: m.deletedAt,
    replyTo: m.replyTo,
    threadId: m.threadId ?? null,
    forwarded: !!m.forwarded,
    system: m.system,
    media: media(m.mediaIds),
    reactions: e.reactions,
  };
  if (e.held) {
    out.held = { text: e.held.text, replyTo: e.held.replyTo, mediaIds: e.held.mediaIds };
  }
  return out;
}

async function* messagesJson(
  src: ConversationArchiveSources,
  c: Conversation,
  hold: LegalHold | null,
  exportedBy: string,
  at: Date,
  people: People,
  counted: () => void,
): AsyncIterable<Uint8Array> {
  const head = {
    format: "parley-conversation-export/1",
    exportedAt: at.toISOString(),
    exportedBy,
    conversation: {
      id: c.id,
      type: c.type,
      name: c.name,
      description: c.description,
      createdAt: c.createdAt,
      retentionDays: c.retentionDays,
    },
    legalHold: hold,
  };
  const open = JSON.stringify(head);
  yield encoder.encode(`${open.slice(0, -1)},"messages":[\n`);
  let first = true;
  for await (const page of pages(src, c.id)) {
    await people.load(page.map((e) => e.record.senderId));
    const lines = page.map((e) => {
      counted();
      const text = (first ? "" : ",\n") + JSON.stringify(archived(e));
      first = false;
      return encoder.encode(text);
    });
    yield concat(lines);
  }
  yield encoder.encode(`\n],"people":${JSON.stringify(people.all())}}\n`);
}

const STYLE =
  `body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f}
header{border-bottom:1px solid #ddd;margin-bottom:1rem}h1{font-size:1.4rem;margin:0 0 .25rem}
.meta{color:#666;font-size:.85rem}.m{padding:.35rem 0;border-bottom:1px solid #f0f0f0}
.who{font-weight:600}.t{color:#888;font-size:.8rem;margin-left:.5rem}.body{white-space:pre-wrap;word-wrap:break-word}
.sys,.del{color:#777;font-style:italic}.held{background:#fff6e0;border-left:3px solid #e0a000;padding:.25rem .5rem}
.reply,.thread{color:#666;font-size:.8rem}.rx{font-size:.85rem;color:#444}img{max-width:100%;max-height:24rem;display:block;margin:.25rem 0}
.hold{background:#fff6e0;padding:.5rem;border:1px solid #e0a000}`;

async function* transcript(
  src: ConversationArchiveSources,
  c: Conversation,
  hold: LegalHold | null,
  at: Date,
  people: People,
): AsyncIterable<Uint8Array> {
  const title = c.name ?? (c.type === "direct" ? "Direct conversation" : "Conversation");
  yield encoder.encode(
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
      `<meta http-equiv="Content-Security-Policy" content="script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'">` +
      `<title>${escape(title)}</title><style>${STYLE}</style></head><body><header>` +
      `<h1>${escape(title)}</h1><p class="meta">Exported ${at.toISOString()} · conversation ${
        escape(c.id)
      }</p>` +
      (hold
        ? `<p class="hold">Under legal hold since ${escape(hold.placedAt)}${
          hold.reason ? `: ${escape(hold.reason)}` : ""
        }. Deleted messages show the content the hold kept.</p>`
        : "") +
      `</header><main>\n`,
  );
  for await (const page of pages(src, c.id)) {
    await people.load(page.map((e) => e.record.senderId));
    yield encoder.encode(page.map((e) => messageHtml(e, people)).join(""));
  }
  yield encoder.encode(`</main></body></html>\n`);
}

function messageHtml(e: Entry, people: People): string {
  const m = e.record;
  const who = people.get(m.senderId);
  const name = who
    ? `${escape(who.displayName)} <span class="t">@${escape(who.username)}</span>`
    : "";
  const time = `<time class="t" datetime="${m.createdAt}">${
    m.createdAt.replace("T", " ").slice(0, 19)
  }</time>`;
  let body: string;
  if (m.kind === "system") {
    body = `<div class="sys">${escape(JSON.stringify(m.system))}</div>`;
  } else if (m.deletedAt) {
    body = `<div class="del">Message deleted ${escape(m.deletedAt)}</div>` +
      (e.held
        ? `<div class="held body">${escape(e.held.text ?? "(content unreadable)")}</div>${
          attachments(e.media.filter((x) => e.held!.mediaIds.includes(x.id)))
        }`
        : "");
  } else {
    body = `<div class="body">${escape(e.text ?? "")}</div>${
      attachments(e.media.filter((x) => m.mediaIds.includes(x.id)))
    }` + (m.editedAt ? `<span class="t">(edited)</span>` : "");
  }
  const context = (m.replyTo ? `<div class="reply">↪ reply to ${escape(m.replyTo)}</div>` : "") +
    (m.threadId ? `<div class="thread">in thread ${escape(m.threadId)}</div>` : "");
  const reactions = e.reactions.length
    ? `<div class="rx">${
      e.reactions.map((r) => `${escape(r.emoji)} ${r.userIds.length}`).join(" · ")
    }</div>`
    : "";
  return `<article class="m" id="m-${
    escape(m.id)
  }"><span class="who">${name}</span>${time}${context}${body}${reactions}</article>\n`;
}

function attachments(media: MediaRecord[]): string {
  return media.map((item) => {
    if (item.status !== "ready") return `<div class="del">(attachment unavailable)</div>`;
    const href = encodeURI(mediaPath(item));
    if (item.kind === "image") {
      return `<a href="${href}"><img src="${href}" alt="${escape(displayName(item))}"></a>`;
    }
    if (item.kind === "video") return `<video controls src="${href}"></video>`;
    if (item.kind === "audio") return `<audio controls src="${href}"></audio>`;
    return `<div><a href="${href}">${escape(displayName(item))}</a></div>`;
  }).join("");
}

function escape(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );
}
