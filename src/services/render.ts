import { type DataKeys, DecryptionError, messageAad } from "../crypto/envelope.ts";
import type {
  MessageKind,
  MessageRecord,
  PollSettings,
  PollVotes,
  ReactionSummary,
  SystemInfo,
  ThreadSummary,
} from "../domain/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { MediaKind, MediaStatus } from "../domain/media.ts";
import type { Store } from "../store/store.ts";

/** A media item as clients see it, attachments included (the media service makes them). */
export type MediaView = {
  id: string;
  kind: MediaKind;
  mime: string;
  size: number;
  filename: string;
  status: MediaStatus;
  url: string;
  thumbnailUrl?: string;
  width?: number;
  height?: number;
  durationMs?: number;
  waveform?: number[];
  pageCount?: number;
  animated?: true;
  failureReason?: string;
  createdAt: string;
};

/** Looks up attachments for rendering and checks them when sending. */
export interface MediaCatalog {
  /** Views (with fresh signed links) of the given media, by id; unknown ids are left out. */
  views(mediaIds: string[]): Promise<Map<string, MediaView>>;
  /** Throws 400 on `field` unless every id is media the sender uploaded and may attach. */
  checkAttachable(userId: string, mediaIds: string[], field: string): Promise<void>;
}

/** Reactions before they are rendered for one viewer: who reacted, per emoji. */
export type SharedReactions = Array<{ emoji: string; count: number; userIds: string[] }>;
/** Reactions as one viewer sees them. */
export type ViewerReactions = Array<{ emoji: string; count: number; me: boolean }>;

/**
 * A message as clients see it. Inside events shared by all recipients, `reactions` still carries
 * `userIds`; {@link personalize} turns that into `me` for each recipient.
 */
export interface MessageView {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string | null;
  clientMsgId: string | null;
  kind: MessageKind;
  text?: string;
  media: MediaView[];
  replyTo?: string;
  mentions: string[];
  reactions: SharedReactions | ViewerReactions;
  system?: SystemInfo;
  editedAt?: string;
  deletedAt?: string;
  createdAt: string;
  expiresAt?: string;
  forwarded?: { originalSenderId?: string; originalCreatedAt: string };
  mentionsAll?: true;
  /** Inside events shared by all recipients, options carry `voterIds`; see {@link personalize}. */
  poll?: SharedPoll;
  /** A thread reply: its root's id. */
  threadId?: string;
  /** A thread reply shown in the main history too. */
  alsoInConversation?: true;
  /** A thread's root: its replies so far. */
  thread?: ThreadView;
}

/** The summary a thread's root carries. */
export interface ThreadView {
  replyCount: number;
  lastReplyAt: string;
  participantIds: string[];
}

/** The part of a {@link ThreadSummary} a root shows. */
export function threadView(s: ThreadSummary): ThreadView {
  return { replyCount: s.replyCount, lastReplyAt: s.lastReplyAt, participantIds: s.participantIds };
}

/** What a poll's sealed body holds. */
export interface PollContent {
  question: string;
  options: Array<{ id: string; text: string }>;
}

/** A poll before it is rendered for one viewer: who voted for what, even when anonymous. */
export interface SharedPoll {
  question: string;
  options: Array<{ id: string; text: string; votes: number; voterIds: string[] }>;
  multiple: boolean;
  anonymous: boolean;
  closesAt?: string;
  closed: boolean;
}

/** Whether a poll is closed at `now`. */
export function pollClosed(settings: PollSettings, now = Date.now()): boolean {
  return !!settings.closed || (!!settings.closesAt && Date.parse(settings.closesAt) <= now);
}

function pollView(body: string, settings: PollSettings, votes: PollVotes): SharedPoll {
  const content = JSON.parse(body) as PollContent;
  return {
    question: content.question,
    options: content.options.map((o) => {
      const voterIds = votes.find((v) => v.optionId === o.id)?.userIds ?? [];
      return { id: o.id, text: o.text, votes: voterIds.length, voterIds };
    }),
    multiple: settings.multiple,
    anonymous: settings.anonymous,
    ...(settings.closesAt ? { closesAt: settings.closesAt } : {}),
    closed: pollClosed(settings),
  };
}

/** A message rendered for one viewer (reactions carry `me`). */
export type PublicMessage = Omit<MessageView, "reactions" | "poll"> & {
  reactions: ViewerReactions;
  poll?: ViewerPoll;
  /** The viewer blocks the sender. */
  senderBlocked?: true;
};

/** A poll as one viewer sees it: their own votes, and voters only when the poll is not anonymous. */
export type ViewerPoll = Omit<SharedPoll, "options"> & {
  options: Array<{ id: string; text: string; votes: number; voterIds?: string[] }>;
  myVotes: string[];
};

/**
 * Who a message is rendered for: their id, and (when they block anyone) the users they block, whose
 * messages they get with `senderBlocked: true`.
 */
export type Viewer = string | { id: string; blocked: ReadonlySet<string> };

function viewerId(viewer: Viewer): string {
  return typeof viewer === "string" ? viewer : viewer.id;
}

/** A message as `viewer` sees it. */
export function messageFor(view: MessageView, viewer: Viewer): PublicMessage {
  return personalize(view, viewer) as PublicMessage;
}

export function sharedReactions(summary: ReactionSummary | undefined): SharedReactions {
  return (summary ?? []).map((r) => ({
    emoji: r.emoji,
    count: r.userIds.length,
    userIds: r.userIds,
  }));
}

/**
 * Rewrites an event body for one viewer: every `reactions` list (`userIds` become `me`), every
 * poll (`myVotes` added; `voterIds` dropped when the poll is anonymous), and every message from a
 * user the viewer blocks (`senderBlocked: true`).
 */
export function personalize<T>(value: T, viewer: Viewer): T {
  if (Array.isArray(value)) return value.map((v) => personalize(v, viewer)) as T;
  if (!value || typeof value !== "object") return value;
  const me = viewerId(viewer);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "poll" && isSharedPoll(v)) {
      out[k] = {
        ...v,
        options: v.options.map(({ voterIds, ...o }) => v.anonymous ? o : { ...o, voterIds }),
        myVotes: v.options.filter((o) => o.voterIds.includes(me)).map((o) => o.id),
      };
    } else if (k === "reactions" && Array.isArray(v)) {
      out[k] = v.map((r) =>
        Array.isArray(r.userIds)
          ? { emoji: r.emoji, count: r.count, me: r.userIds.includes(me) }
          : r
      );
    } else out[k] = personalize(v, viewer);
  }
  if (typeof viewer !== "string" && sentByBlocked(value, viewer.blocked)) out.senderBlocked = true;
  return out as T;
}

/** Whether `value` is a (non-system) message whose sender is in `blocked`. */
function sentByBlocked(value: object, blocked: ReadonlySet<string>): boolean {
  const m = value as { senderId?: unknown; kind?: unknown; seq?: unknown };
  return typeof m.senderId === "string" && typeof m.seq === "number" && m.kind !== "system" &&
    blocked.has(m.senderId);
}

function isSharedPoll(v: unknown): v is SharedPoll {
  return !!v && typeof v === "object" && Array.isArray((v as SharedPoll).options) &&
    (v as SharedPoll).options.every((o) => Array.isArray(o.voterIds));
}

/** True when a body has per-viewer parts (any non-empty reaction list, any poll). */
export function needsPersonalizing(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(needsPersonalizing);
  if (!value || typeof value !== "object") return false;
  for (const [k, v] of Object.entries(value)) {
    if (k === "poll" && isSharedPoll(v)) return true;
    if (k === "reactions" && Array.isArray(v) && v.length > 0) return true;
    if (typeof v === "object" && needsPersonalizing(v)) return true;
  }
  return false;
}

/**
 * Turns stored messages into {@link MessageView}s: decrypts bodies (a body whose data key was destroyed
 * by an erasure renders without text), attaches reactions and media.
 */
export class MessageRenderer {
  constructor(
    private readonly deps: {
      store: Pick<Store, "messages" | "moderation">;
      dataKeys: DataKeys;
      media: MediaCatalog;
      logger: Logger;
    },
  ) {}

  /** `userId` as a {@link Viewer}: with the users they block, when there are any. */
  async viewer(userId: string): Promise<Viewer> {
    const blocks = await this.deps.store.moderation.listBlocks(userId);
    return blocks.length
      ? { id: userId, blocked: new Set(blocks.map((b) => b.blockedId)) }
      : userId;
  }

  /**
   * Renders records in order; `plain` supplies already-known texts by message id (the send path).
   * `fresh` records were just created: they cannot have reactions yet.
   */
  async render(
    records: MessageRecord[],
    plain?: Map<string, string>,
    fresh = false,
  ): Promise<MessageView[]> {
    if (records.length === 0) return [];
    if (!fresh) return await this.renderWith(records, this.reactionsFor(records), plain);
    // Just created: no reactions, no replies yet.
    return await this.renderWith(records, new Map(), plain, new Map());
  }

  /** The reactions of the records that are not deleted (what {@link render} shows), by message id. */
  async reactionsFor(records: MessageRecord[]): Promise<Map<string, ReactionSummary>> {
    const live = records.filter((r) => !r.deletedAt).map((r) => r.id);
    return live.length ? await this.deps.store.messages.reactions(live) : new Map();
  }

  /**
   * Renders records with reactions already at hand (e.g. kept beside cached records): bodies are
   * decrypted and attachments looked up now, so erasures and media changes show at once.
   */
  async renderWith(
    records: MessageRecord[],
    reactions: Map<string, ReactionSummary> | Promise<Map<string, ReactionSummary>>,
    plain?: Map<string, string>,
    threadSummaries?: Map<string, ThreadSummary>,
  ): Promise<MessageView[]> {
    if (records.length === 0) return [];
    const live = records.filter((r) => !r.deletedAt);
    const mediaIds = [...new Set(live.flatMap((r) => r.mediaIds))];
    const pollIds = live.filter((r) => r.kind === "poll").map((r) => r.id);
    // Any message but a reply or a system message may be a thread's root (a deleted one too).
    const rootIds = threadSummaries
      ? []
      : records.filter((r) => !r.threadId && r.kind !== "system").map((r) => r.id);
    const [byId, media, votes, threads] = await Promise.all([
      reactions,
      mediaIds.length ? this.deps.media.views(mediaIds) : new Map<string, MediaView>(),
      pollIds.length ? this.deps.store.messages.pollVotes(pollIds) : new Map<string, PollVotes>(),
      rootIds.length ? this.deps.store.messages.threadSummaries(rootIds) : threadSummaries,
    ]);
    return await Promise.all(records.map(async (r) => {
      const view: MessageView = {
        id: r.id,
        conversationId: r.conversationId,
        seq: r.seq,
        senderId: r.senderId,
        clientMsgId: r.clientMsgId,
        kind: r.kind,
        media: r.mediaIds.map((id) => media.get(id)).filter((m): m is MediaView => !!m),
        mentions: r.mentions,
        reactions: sharedReactions(byId.get(r.id)),
        createdAt: r.createdAt,
      };
      const text = plain?.get(r.id) ?? await this.#text(r);
      if (r.kind === "poll" && r.poll) {
        // A poll's body is its question and options: shown as `poll`, never as text.
        if (text !== null) view.poll = pollView(text, r.poll, votes.get(r.id) ?? []);
      } else if (text !== null) view.text = text;
      if (r.replyTo) view.replyTo = r.replyTo;
      if (r.threadId) view.threadId = r.threadId;
      if (r.alsoInConversation) view.alsoInConversation = true;
      const thread = threads?.get(r.id);
      if (thread) view.thread = threadView(thread);
      if (r.forwarded && !r.deletedAt) view.forwarded = r.forwarded;
      if (r.mentionsAll && !r.deletedAt) view.mentionsAll = true;
      if (r.system) view.system = r.system;
      if (r.editedAt) view.editedAt = r.editedAt;
      if (r.deletedAt) view.deletedAt = r.deletedAt;
      else if (r.expiresAt) view.expiresAt = r.expiresAt;
      return view;
    }));
  }

  /** The decrypted bodies of records, by message id (null: none, or unreadable). */
  async texts(records: MessageRecord[]): Promise<Map<string, string | null>> {
    const texts = await Promise.all(records.map((r) => this.#text(r)));
    return new Map(records.map((r, i) => [r.id, texts[i]]));
  }

  async #text(r: MessageRecord): Promise<string | null> {
    if (!r.body) return null;
    try {
      return await this.deps.dataKeys.openText(r.body, messageAad(r.conversationId, r.id));
    } catch (err) {
      if (!(err instanceof DecryptionError)) throw err;
      this.deps.logger.error("message body failed to decrypt", {
        "parley.message.id": r.id,
        "error.message": err.message,
      });
      return null;
    }
  }
}
