import type { DataKeys } from "../crypto/envelope.ts";
import type { Actor } from "../domain/actor.ts";
import { decodeBase64, encodeHex } from "../domain/encoding.ts";
import type { Conversation } from "../domain/types.ts";
import { invalidField, notFound, validationFailed } from "../domain/errors.ts";
import { newId, nowIso } from "../ids.ts";
import type { OutboundClient } from "../net/outbound.ts";
import { OutboundRefused } from "../net/outbound.ts";
import type { PushKind, PushTarget } from "../push/provider.ts";
import type {
  NotificationSettingsRecord,
  NotifyLevel,
  PreviewLevel,
  PushSubscriptionRecord,
  Store,
} from "../store/store.ts";
import type { UserData } from "./user_data.ts";

/** A subscription as its owner sees it (never the endpoint or token back). */
export interface SubscriptionView {
  id: string;
  kind: PushKind;
  sessionId: string;
  /** Whether it belongs to the calling session. */
  current: boolean;
  createdAt: string;
}

/** A user's push settings as the API shows them. */
export interface NotificationSettingsView {
  preview: PreviewLevel;
  quietHours: { start: string; end: string; timeZone: string } | null;
  keywords: string[];
}

export type SubscriptionInput =
  | { kind: "webpush"; endpoint: string; keys: { p256dh: string; auth: string } }
  | { kind: "fcm" | "apns"; token: string };

/** Groups this large notify only on mentions unless a member chooses otherwise. */
export const MENTIONS_ONLY_FROM = 100;

const DEFAULT_SETTINGS: NotificationSettingsView = {
  preview: "full",
  quietHours: null,
  keywords: [],
};

/** The notify level that holds when the user set none. */
export function defaultNotify(c: Pick<Conversation, "type" | "memberCount">): NotifyLevel {
  return c.type === "direct" || c.memberCount < MENTIONS_ONLY_FROM ? "all" : "mentions";
}

function targetAad(userId: string, sessionId: string): string {
  return `push-target:${userId}:${sessionId}`;
}

function keywordsAad(userId: string): string {
  return `push-keywords:${userId}`;
}

/**
 * Push subscriptions and preferences: a session (device) subscribes with a Web Push subscription or
 * an FCM/APNs token, kept sealed under the user's data key; users choose per conversation what
 * notifies (`notify`) and, for themselves, the preview level, quiet hours and keywords.
 * {@link import("./push_delivery.ts").PushDelivery} sends the pushes.
 */
export class PushService implements UserData {
  readonly exportPath = "push.jsonl";
  readonly exportDescription =
    "your push notification devices (kind and date), settings and per-conversation choices";

  constructor(
    private readonly deps: {
      store: Pick<Store, "push">;
      dataKeys: DataKeys;
      outbound: OutboundClient;
      vapidPublicKey: string;
      /** The providers this deployment has credentials for. */
      kinds: Set<PushKind>;
      /** Sends one test push to a session (through the job runner). */
      test: (actor: Actor) => Promise<number>;
      /** Counts a push its client acknowledged. */
      onAck: (provider: PushKind) => void;
      /** A subscription was stored (sends stop assuming nobody here can be pushed). */
      onSubscribe: () => void;
    },
  ) {}

  get vapidPublicKey(): string {
    return this.deps.vapidPublicKey;
  }

  /** Subscribes the calling session (the same device again replaces its earlier subscription). */
  async subscribe(actor: Actor, input: SubscriptionInput): Promise<{ id: string }> {
    if (!this.deps.kinds.has(input.kind)) {
      throw invalidField("kind", `${input.kind} push is not configured on this server`);
    }
    let target: PushTarget;
    let address: string;
    if (input.kind === "webpush") {
      await this.#checkEndpoint(input.endpoint);
      checkKey(input.keys.p256dh, 65, "keys.p256dh", (b) => b[0] === 4);
      checkKey(input.keys.auth, 16, "keys.auth");
      target = { kind: "webpush", endpoint: input.endpoint, keys: input.keys };
      address = input.endpoint;
    } else {
      target = { kind: input.kind, token: input.token };
      address = input.token;
    }
    const fingerprint = encodeHex(
      new Uint8Array(
        await crypto.subtle.digest(
          "SHA-256",
          new TextEncoder().encode(`${input.kind}\n${address}`),
        ),
      ),
    );
    const stored = await this.deps.store.push.putSubscription({
      id: newId(),
      userId: actor.userId,
      sessionId: actor.sessionId,
      kind: input.kind,
      target: await this.deps.dataKeys.sealText(
        actor.userId,
        JSON.stringify(target),
        targetAad(actor.userId, actor.sessionId),
      ),
      fingerprint,
      createdAt: nowIso(),
    });
    this.deps.onSubscribe();
    return { id: stored.id };
  }

  /** Where a stored subscription pushes to (null when its user's keys are gone). */
  async target(s: PushSubscriptionRecord): Promise<PushTarget | null> {
    const text = await this.deps.dataKeys.openText(s.target, targetAad(s.userId, s.sessionId));
    return text === null ? null : JSON.parse(text) as PushTarget;
  }

  async list(actor: Actor): Promise<SubscriptionView[]> {
    return (await this.deps.store.push.listSubscriptions(actor.userId)).map((s) => ({
      id: s.id,
      kind: s.kind,
      sessionId: s.sessionId,
      current: s.sessionId === actor.sessionId,
      createdAt: s.createdAt,
    }));
  }

  async unsubscribe(actor: Actor, id: string): Promise<void> {
    if (!await this.deps.store.push.deleteSubscription(actor.userId, id)) {
      throw notFound("Subscription not found");
    }
  }

  async settings(actor: Actor): Promise<NotificationSettingsView> {
    const stored = (await this.deps.store.push.notificationSettings([actor.userId]))
      .get(actor.userId);
    return stored ? await this.#settingsView(stored) : { ...DEFAULT_SETTINGS };
  }

  /** The user's settings with the parts given replaced; validated as a whole. */
  async putSettings(
    actor: Actor,
    input: Partial<NotificationSettingsView>,
  ): Promise<NotificationSettingsView> {
    const next = { ...await this.settings(actor), ...input };
    if (next.quietHours) checkQuietHours(next.quietHours);
    const keywords = [...new Set(next.keywords.map((k) => k.trim()).filter((k) => k))];
    if (keywords.length > 50) throw invalidField("keywords", "at most 50 keywords");
    keywords.forEach((k, i) => {
      if ([...k].length > 64) throw invalidField(`keywords.${i}`, "at most 64 characters");
    });
    await this.deps.store.push.putNotificationSettings({
      userId: actor.userId,
      preview: next.preview,
      quietHours: next.quietHours,
      keywords: keywords.length
        ? await this.deps.dataKeys.sealText(
          actor.userId,
          JSON.stringify(keywords),
          keywordsAad(actor.userId),
        )
        : null,
      updatedAt: nowIso(),
    });
    return { ...next, keywords };
  }

  /** Keywords of stored settings (opened). */
  async keywords(s: NotificationSettingsRecord): Promise<string[]> {
    if (!s.keywords) return [];
    const text = await this.deps.dataKeys.openText(s.keywords, keywordsAad(s.userId));
    return text ? JSON.parse(text) : [];
  }

  /** Sets what the user's pushes of a conversation carry (membership is the caller's to check). */
  async setNotify(userId: string, conversationId: string, notify: NotifyLevel): Promise<void> {
    await this.deps.store.push.putConversationNotify({
      userId,
      conversationId,
      notify,
      mutedUntil: null,
      updatedAt: nowIso(),
    });
  }

  /** The user's notify level in each conversation (the default where they chose none). */
  async notifyLevels(
    userId: string,
    conversations: Conversation[],
  ): Promise<Map<string, NotifyLevel>> {
    const chosen = await this.deps.store.push.conversationNotify(
      userId,
      conversations.map((c) => c.id),
    );
    return new Map(
      conversations.map((c) => [c.id, chosen.get(c.id)?.notify ?? defaultNotify(c)]),
    );
  }

  /** Marks a push as shown (the client acknowledges the `ackId` it carried). */
  async ack(actor: Actor, ackId: string): Promise<void> {
    const d = await this.deps.store.push.ackDelivery(actor.userId, ackId, nowIso());
    if (!d) throw notFound("No such push, or already acknowledged");
    this.deps.onAck(d.provider);
  }

  /** Sends a test push to the calling session's subscriptions; how many. */
  async test(actor: Actor): Promise<number> {
    const n = await this.deps.test(actor);
    if (n === 0) throw notFound("This session has no push subscription");
    return n;
  }

  async exportUser(userId: string): Promise<unknown[]> {
    const data = await this.deps.store.push.userPushData(userId);
    return [{
      subscriptions: data.subscriptions.map((s) => ({
        id: s.id,
        kind: s.kind,
        sessionId: s.sessionId,
        createdAt: s.createdAt,
      })),
      settings: data.settings ? await this.#settingsView(data.settings) : DEFAULT_SETTINGS,
      conversations: data.conversations.map((c) => ({
        conversationId: c.conversationId,
        notify: c.notify,
        updatedAt: c.updatedAt,
      })),
    }];
  }

  eraseUser(userId: string): Promise<number> {
    return this.deps.store.push.deleteUserPushData(userId);
  }

  async #settingsView(s: NotificationSettingsRecord): Promise<NotificationSettingsView> {
    return { preview: s.preview, quietHours: s.quietHours, keywords: await this.keywords(s) };
  }

  async #checkEndpoint(endpoint: string): Promise<void> {
    try {
      await this.deps.outbound.check(endpoint);
    } catch (err) {
      if (err instanceof OutboundRefused) {
        throw invalidField("endpoint", `not a push service address: ${err.message}`);
      }
      throw err;
    }
  }
}

function checkKey(
  value: string,
  length: number,
  path: string,
  ok: (bytes: Uint8Array) => boolean = () => true,
): void {
  let bytes: Uint8Array;
  try {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) throw new Error("not base64url");
    bytes = decodeBase64(value);
  } catch {
    throw invalidField(path, "must be base64url");
  }
  if (bytes.length !== length || !ok(bytes)) {
    throw invalidField(path, `must be ${length} bytes of base64url`);
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function checkQuietHours(q: { start: string; end: string; timeZone: string }): void {
  const problems = [];
  if (!HHMM.test(q.start)) problems.push({ path: "quietHours.start", message: "must be HH:MM" });
  if (!HHMM.test(q.end)) problems.push({ path: "quietHours.end", message: "must be HH:MM" });
  try {
    new Intl.DateTimeFormat("en", { timeZone: q.timeZone });
  } catch {
    problems.push({ path: "quietHours.timeZone", message: "must be an IANA time zone" });
  }
  if (problems.length) throw validationFailed(problems);
}

/**
 * Whether `at` falls in the quiet hours (in their time zone; a window may cross midnight, and one
 * whose start equals its end is empty).
 */
export function inQuietHours(
  q: { start: string; end: string; timeZone: string },
  at: Date,
): boolean {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: q.timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(at);
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const now = minutes(parts);
  const [start, end] = [minutes(q.start), minutes(q.end)];
  if (start === end) return false;
  return start < end ? now >= start && now < end : now >= start || now < end;
}
