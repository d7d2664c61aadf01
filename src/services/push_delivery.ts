import type { Actor } from "../domain/actor.ts";
import type { Conversation, Member, MessageRecord } from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import { type JobRunner, newJob } from "../jobs/runner.ts";
import type { Logger } from "../observability/logger.ts";
import type { MetricsRegistry } from "../observability/metrics.ts";
import type { PushKind, PushMessage, PushOutcome, PushProvider } from "../push/provider.ts";
import type {
  JobRecord,
  NewJob,
  NotificationSettingsRecord,
  PushDeliveryKind,
  PushSubscriptionRecord,
  Store,
} from "../store/store.ts";
import type { BlocksService } from "./blocks.ts";
import type { PresenceService } from "./presence.ts";
import { defaultNotify, inQuietHours, type PushService } from "./push.ts";
import type { MessageRenderer } from "./render.ts";

const PUSH_MESSAGE = "push.message";
const PUSH_READ = "push.read";
const PUSH_TEST = "push.test";

/** How long "does anyone here have a push subscription" is remembered on the send path. */
const SUBSCRIBERS_TTL_MS = 1000;

/** How long a push service keeps a message push for an offline device. */
const MESSAGE_TTL_SECONDS = 4 * 7 * 86_400;
const BODY_CHARS = 180;
/** Conversations looked at for the badge (the most recently active). */
const BADGE_SCAN = 100;

/** A push that must be tried again: the job is retried with backoff, or after `retryAfterMs`. */
class RetryLater extends Error {
  override name = "RetryLater";
  readonly retryAfterMs: number;
  constructor(retryAfterMs = 0) {
    super("a push service asked to try again later");
    // A Retry-After beyond an hour is not believed.
    this.retryAfterMs = Math.min(retryAfterMs, 3_600_000);
  }
}

/**
 * Sends the pushes: for each committed message, once PUSH_DELAY_MS has passed, every recipient
 * session with a subscription and no open socket gets exactly one push, unless the user read past the
 * message meanwhile, muted the conversation or chose `notify` that excludes it, blocks the sender, or
 * is in quiet hours (a mention of them still goes). The job is enqueued in the message's own commit,
 * so a crash between commit and send loses nothing; each (message, session) is claimed in the store
 * before it is sent, so retries and other instances never send it twice. Also: `read` pushes that
 * let a user's other devices clear a notification, and test pushes.
 */
export class PushDelivery {
  readonly #counts;
  readonly #subscribers = new Map<string, { value: boolean; until: number }>();

  constructor(
    private readonly deps: {
      store: Pick<Store, "push" | "messages" | "conversations" | "accounts">;
      push: PushService;
      providers: Map<PushKind, PushProvider>;
      renderer: MessageRenderer;
      presence: PresenceService;
      blocks: BlocksService;
      runner: JobRunner;
      delayMs: number;
      logger: Logger;
      metrics: MetricsRegistry;
    },
  ) {
    this.#counts = deps.metrics.counter(
      "parley_pushes_total",
      "Pushes by provider and outcome (sent, gone, retry, rejected, acked)",
    );
    const backoffMs = (attempt: number) => Math.min(300_000, 1000 * 2 ** (attempt - 1));
    deps.runner.register(PUSH_MESSAGE, (job) => this.#message(job), {
      concurrency: 8,
      backoffMs,
    });
    deps.runner.register(PUSH_READ, (job) => this.#read(job), { concurrency: 4, backoffMs });
    deps.runner.register(PUSH_TEST, (job) => this.#test(job), { concurrency: 2, backoffMs });
  }

  /**
   * The job that pushes a new message, to enqueue in the message's own commit; null (no job, no
   * cost) when no recipient has a push subscription.
   */
  async messageJob(
    conversationId: string,
    senderId: string,
    messageId: string,
    now: Date,
  ): Promise<NewJob | null> {
    if (!await this.#hasSubscribers(conversationId, senderId)) return null;
    return newJob({
      kind: PUSH_MESSAGE,
      key: `push:${messageId}`,
      payload: { conversationId, messageId },
      runAt: new Date(now.getTime() + this.deps.delayMs),
      maxAttempts: 8,
    }, now);
  }

  /**
   * Whether anyone but the sender may be pushed, remembered per conversation and sender for
   * {@link SUBSCRIBERS_TTL_MS}: a busy conversation asks the store once a second, not per message.
   * A subscription made on this instance forgets everything at once; one made on another instance,
   * or a member who just joined, counts within the TTL.
   */
  async #hasSubscribers(conversationId: string, senderId: string): Promise<boolean> {
    const key = `${conversationId}:${senderId}`;
    const now = performance.now();
    const known = this.#subscribers.get(key);
    if (known && known.until > now) return known.value;
    const value = await this.deps.store.push.hasSubscribers(conversationId, senderId);
    if (this.#subscribers.size >= 10_000) this.#subscribers.clear();
    this.#subscribers.set(key, { value, until: now + SUBSCRIBERS_TTL_MS });
    return value;
  }

  /** A subscription was made here: sends look again. */
  subscribed(): void {
    this.#subscribers.clear();
  }

  /** Counts a push a client acknowledged. */
  acked(provider: PushKind): void {
    this.#counts.inc({ provider, outcome: "acked" });
  }

  /**
   * After a read on one device: the user's other devices that were pushed a message up to `seq`
   * get a `read` push to clear it.
   */
  async afterRead(actor: Actor, conversationId: string, seq: number): Promise<void> {
    const sessions = (await this.deps.store.push.sentSessions(actor.userId, conversationId, seq))
      .filter((s) => s !== actor.sessionId);
    if (sessions.length === 0) return;
    await this.deps.runner.enqueue({
      kind: PUSH_READ,
      payload: { userId: actor.userId, conversationId, seq, sessions },
    });
  }

  /** Enqueues a test push to each subscription of the calling session; how many. */
  async test(actor: Actor): Promise<number> {
    const mine = (await this.deps.store.push.listSubscriptions(actor.userId))
      .filter((s) => s.sessionId === actor.sessionId);
    if (mine.length === 0) return 0;
    await this.deps.runner.enqueue({
      kind: PUSH_TEST,
      payload: { userId: actor.userId, sessionId: actor.sessionId, at: Date.now() },
    });
    return mine.length;
  }

  async #message(job: JobRecord): Promise<void> {
    const { conversationId, messageId } = job.payload as {
      conversationId: string;
      messageId: string;
    };
    const { store } = this.deps;
    const m = await store.messages.getMessage(conversationId, messageId);
    if (!m || m.deletedAt || m.system || !m.senderId) return;
    const conversation = await store.conversations.getConversation(conversationId);
    if (!conversation || conversation.deletedAt) return;
    const others = (await store.conversations.memberIds(conversationId))
      .filter((id) => id !== m.senderId);
    const subscriptions = await store.push.subscriptionsOf(others);
    if (subscriptions.length === 0) return;
    const users = [...new Set(subscriptions.map((s) => s.userId))];
    const [members, prefs, settings, blockers, online, [view], sender] = await Promise.all([
      store.conversations.getMembers(conversationId, users),
      store.push.notifyOfConversation(conversationId),
      store.push.notificationSettings(users),
      this.deps.blocks.blockerIds(m.senderId),
      this.deps.presence.onlineSessions(users),
      this.deps.renderer.render([m]),
      store.accounts.getUser(m.senderId),
    ]);
    const memberOf = new Map(members.map((x) => [x.userId, x]));
    const notifyOf = new Map(prefs.map((p) => [p.userId, p.notify]));
    const blocked = new Set(blockers);
    const now = new Date();
    let retryAfterMs = -1;
    for (const userId of users) {
      const member = memberOf.get(userId);
      if (!member || blocked.has(userId)) continue;
      const s = settings.get(userId);
      const mentioned = m.mentions.includes(userId) || m.mentionsAll === true ||
        await this.#keywordHit(s, view.text);
      if (!this.#wants(member, conversation, notifyOf.get(userId) ?? null, mentioned, m, now, s)) {
        continue;
      }
      const targets = subscriptions.filter((x) => x.userId === userId && !online.has(x.sessionId));
      if (targets.length === 0) continue;
      const shown = preview(s?.preview ?? "full", conversation, sender?.displayName, view.text, m);
      const badge = await this.#badge(userId);
      const message: PushMessage = {
        payload: {
          v: 1,
          type: "message",
          conversationId,
          seq: m.seq,
          messageId: m.id,
          ...shown,
          badge,
        },
        // What FCM and APNs show themselves (Web Push leaves it to the service worker).
        ...(shown.title ? { alert: shown } : {}),
        badge,
        ttlSeconds: MESSAGE_TTL_SECONDS,
        urgency: conversation.type === "direct" || mentioned ? "high" : "normal",
        topic: topicOf(conversationId),
      };
      for (const target of targets) {
        const outcome = await this.#deliver(target, "message", conversationId, m.seq, message);
        if (outcome.status === "retry") {
          retryAfterMs = Math.max(retryAfterMs, outcome.retryAfterMs ?? 0);
        }
      }
    }
    if (retryAfterMs >= 0) throw new RetryLater(retryAfterMs);
  }

  /** Whether the user wants a push for this message (before per-device checks). */
  #wants(
    member: Member,
    conversation: Conversation,
    notify: "all" | "mentions" | "none" | null,
    mentioned: boolean,
    m: MessageRecord,
    now: Date,
    s: NotificationSettingsRecord | undefined,
  ): boolean {
    if (member.readSeq >= m.seq) return false; // read on another device within the delay
    const iso = now.toISOString();
    if (member.muted && (!member.mutedUntil || member.mutedUntil > iso)) return false;
    const level = notify ?? defaultNotify(conversation);
    if (level === "none") return false;
    if (level === "mentions" && !mentioned) return false;
    if (!mentioned && s?.quietHours && inQuietHours(s.quietHours, now)) return false;
    return true;
  }

  async #keywordHit(s: NotificationSettingsRecord | undefined, text: string | undefined) {
    if (!s?.keywords || !text) return false;
    const words = new Set(normalise(text).split(/[^\p{L}\p{N}]+/u).filter((w) => w));
    return (await this.deps.push.keywords(s)).some((k) => words.has(normalise(k)));
  }

  /** Unread conversations among the user's most recently active ones. */
  async #badge(userId: string): Promise<number> {
    const items = await this.deps.store.conversations.listConversations(userId, {
      archived: false,
      limit: BADGE_SCAN,
    });
    return items.filter((i) => i.unreadCount > 0).length;
  }

  /**
   * Sends one push to one subscription at most once: the claim in the store decides; what another
   * run already sent (or gave up on) is left alone.
   */
  async #deliver(
    sub: PushSubscriptionRecord,
    kind: PushDeliveryKind,
    conversationId: string,
    seq: number,
    message: PushMessage,
  ): Promise<PushOutcome | { status: "skipped" }> {
    const ackId = newId();
    const claim = await this.deps.store.push.claimDelivery({
      ackId,
      userId: sub.userId,
      sessionId: sub.sessionId,
      subscriptionId: sub.id,
      provider: sub.kind,
      kind,
      conversationId,
      seq,
      status: "pending",
      createdAt: nowIso(),
      sentAt: null,
      ackedAt: null,
    });
    const delivery = claim.status === "claimed" ? { ackId, status: "pending" } : claim.delivery;
    if (delivery.status !== "pending") return { status: "skipped" };
    const provider = this.deps.providers.get(sub.kind);
    const target = await this.deps.push.target(sub);
    if (!provider || !target) {
      await this.deps.store.push.markDelivery(delivery.ackId, "failed", nowIso());
      return { status: "skipped" };
    }
    const outcome = await provider.send(target, {
      ...message,
      payload: { ...message.payload, ackId: delivery.ackId },
    });
    this.#counts.inc({ provider: sub.kind, outcome: outcome.status });
    if (outcome.status === "sent") {
      await this.deps.store.push.markDelivery(delivery.ackId, "sent", nowIso());
    } else if (outcome.status === "gone") {
      await this.deps.store.push.deleteSubscription(sub.userId, sub.id);
      await this.deps.store.push.markDelivery(delivery.ackId, "failed", nowIso());
    } else if (outcome.status === "rejected") {
      this.deps.logger.warn("push rejected", {
        "push.provider": sub.kind,
        "error.message": outcome.detail,
      });
      await this.deps.store.push.markDelivery(delivery.ackId, "failed", nowIso());
    }
    return outcome;
  }

  async #read(job: JobRecord): Promise<void> {
    const { userId, conversationId, seq, sessions } = job.payload as {
      userId: string;
      conversationId: string;
      seq: number;
      sessions: string[];
    };
    const wanted = new Set(sessions);
    const subs = (await this.deps.store.push.listSubscriptions(userId))
      .filter((s) => wanted.has(s.sessionId));
    let retryAfterMs = -1;
    const badgeNow = await this.#badge(userId);
    for (const sub of subs) {
      const outcome = await this.#deliver(sub, "read", conversationId, seq, {
        payload: { v: 1, type: "read", conversationId, seq, badge: badgeNow },
        badge: badgeNow,
        ttlSeconds: 86_400,
        urgency: "low",
        topic: topicOf(conversationId),
      });
      if (outcome.status === "retry") {
        retryAfterMs = Math.max(retryAfterMs, outcome.retryAfterMs ?? 0);
      }
    }
    if (retryAfterMs >= 0) throw new RetryLater(retryAfterMs);
  }

  async #test(job: JobRecord): Promise<void> {
    const { userId, sessionId, at } = job.payload as {
      userId: string;
      sessionId: string;
      at: number;
    };
    const subs = (await this.deps.store.push.listSubscriptions(userId))
      .filter((s) => s.sessionId === sessionId);
    let retryAfterMs = -1;
    for (const sub of subs) {
      const outcome = await this.#deliver(sub, "test", "", at, {
        payload: { v: 1, type: "test", title: "Parley", body: "Push notifications work." },
        alert: { title: "Parley", body: "Push notifications work." },
        ttlSeconds: 3600,
        urgency: "normal",
      });
      if (outcome.status === "retry") {
        retryAfterMs = Math.max(retryAfterMs, outcome.retryAfterMs ?? 0);
      }
    }
    if (retryAfterMs >= 0) throw new RetryLater(retryAfterMs);
  }
}

/** One topic per conversation: a newer push replaces an undelivered older one. */
function topicOf(conversationId: string): string {
  return `c${conversationId}`.slice(0, 32);
}

function normalise(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The title and body a push carries at the user's preview level. */
function preview(
  level: "full" | "sender" | "none",
  conversation: Conversation,
  senderName: string | undefined,
  text: string | undefined,
  m: MessageRecord,
): { title?: string; body?: string } {
  if (level === "none") return {};
  const who = senderName ?? "Someone";
  const title = conversation.type === "group" && conversation.name
    ? `${who} in ${conversation.name}`
    : who;
  if (level === "sender") return { title, body: "New message" };
  const body = text
    ? [...text].length > BODY_CHARS ? [...text].slice(0, BODY_CHARS).join("") + "…" : text
    : m.kind === "poll"
    ? "Poll"
    : m.mediaIds.length
    ? "Attachment"
    : "New message";
  return { title, body };
}
