import type { Config } from "../config.ts";
import { conflict, invalidField, rateLimited } from "../domain/errors.ts";
import type { RateLimiter } from "../limits/rate_limit.ts";
import type { Logger } from "../observability/logger.ts";
import type { Counter, MetricsRegistry } from "../observability/metrics.ts";
import type { MessageRecord } from "../domain/types.ts";
import type { Store } from "../store/store.ts";

/** Throws 400 on `field` unless `messageId` (when given) names a message of this conversation. */
export async function checkMessageRef(
  store: Pick<Store, "messages">,
  conversationId: string,
  messageId: string | undefined,
  field: string,
): Promise<void> {
  if (messageId === undefined) return;
  const target = await store.messages.getMessage(conversationId, messageId);
  if (!target) throw invalidField(field, "no such message in this conversation");
}

/** Throws 400 on `mentions` unless every mentioned user is a member (one read for all). */
export async function checkMentions(
  store: Pick<Store, "conversations">,
  conversationId: string,
  mentions: string[],
): Promise<void> {
  if (mentions.length === 0) return;
  const members = new Set(
    (await store.conversations.getMembers(conversationId, mentions)).map((m) => m.userId),
  );
  const outsiders = mentions.filter((u) => !members.has(u));
  if (outsiders.length) throw invalidField("mentions", `not members: ${outsiders.join(", ")}`);
}

/**
 * The message `threadId` names as a thread's root, checked for a reply: a message of this
 * conversation (400 on `threadId` otherwise), not itself a reply or a system message (400), and, for
 * what adds to the thread (`live`), not deleted (409).
 */
export async function checkThreadRoot(
  store: Pick<Store, "messages">,
  conversationId: string,
  threadId: string,
  options: { live: boolean },
): Promise<MessageRecord> {
  const field = "threadId";
  const root = await store.messages.getMessage(conversationId, threadId);
  if (!root) throw invalidField(field, "no such message in this conversation");
  if (root.threadId) throw invalidField(field, "is a reply; use its thread's root");
  if (root.kind === "system") throw invalidField(field, "a system message has no thread");
  if (options.live && root.deletedAt) throw conflict("The thread's root message was deleted");
  return root;
}

/**
 * The per-user message rate (`RATE_MESSAGES_PER_MINUTE`, shared across instances when the limiter
 * is). Messaging fails open: a limiter outage must not stop chat; it is logged once per outage and
 * counted for every send it let through unlimited.
 */
export class MessageRateLimit {
  #limiterDown = false;
  readonly #limiterSkips: Counter;

  constructor(
    private readonly deps: {
      config: Config;
      limiter: RateLimiter;
      logger: Logger;
      metrics: MetricsRegistry;
    },
  ) {
    this.#limiterSkips = deps.metrics.counter(
      "parley_message_limiter_unavailable_total",
      "Sends let through unlimited because the message rate limiter could not be reached",
    );
  }

  /** Takes one message from the user's bucket; 429 `rate_limited` when it is empty. */
  async take(userId: string): Promise<void> {
    let decision;
    try {
      decision = await this.deps.limiter.take(`msg:user:${userId}`, {
        capacity: this.deps.config.limits.messagesPerMinute,
        windowSeconds: 60,
      });
    } catch (err) {
      // Messaging fails open: a limiter outage must not stop chat. Logged once per outage, counted
      // for every send it let through unlimited.
      this.#limiterSkips.inc();
      if (!this.#limiterDown) {
        this.#limiterDown = true;
        this.deps.logger.warn("message rate limiter unavailable; sends are not limited", {
          "error.message": String(err),
        });
      }
      return;
    }
    if (this.#limiterDown) {
      this.#limiterDown = false;
      this.deps.logger.info("message rate limiter is back");
    }
    if (!decision.allowed) {
      throw rateLimited(decision.retryAfterSeconds, "You are sending messages too fast");
    }
  }
}
