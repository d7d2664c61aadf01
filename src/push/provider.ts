import { OutboundRefused } from "../net/outbound.ts";

/** Where a push goes: a browser's Web Push subscription, or a mobile OS token. */
export type PushTarget =
  | { kind: "webpush"; endpoint: string; keys: { p256dh: string; auth: string } }
  | { kind: "fcm" | "apns"; token: string };

export type PushKind = PushTarget["kind"];

/** One notification, as every provider carries it. */
export interface PushMessage {
  /** The JSON the client receives (encrypted end to end for Web Push). */
  payload: Record<string, unknown>;
  /** How long the push service may hold it for an offline device. */
  ttlSeconds: number;
  /** High for direct messages and mentions. */
  urgency: "very-low" | "low" | "normal" | "high";
  /** A newer push with the same topic replaces an undelivered older one (≤ 32 URL-safe chars). */
  topic?: string;
  /** iOS badge / Android notification count. */
  badge?: number;
  /** A notice the user sees (title/body per the preview level); absent for silent pushes. */
  alert?: { title?: string; body?: string };
}

/** What the provider's service made of one push. */
export type PushOutcome =
  | { status: "sent" }
  /** The subscription or token is dead (404/410, or the provider says unregistered): remove it. */
  | { status: "gone"; detail: string }
  /** Try again later (5xx, 429, network): `retryAfterMs` when the service said. */
  | { status: "retry"; detail: string; retryAfterMs?: number }
  /** Refused for good (a malformed request): give up on this push. */
  | { status: "rejected"; detail: string };

/** One push service adapter (Web Push, FCM HTTP v1, APNs). */
export interface PushProvider {
  readonly kind: PushKind;
  send(target: PushTarget, message: PushMessage): Promise<PushOutcome>;
}

/** A `Retry-After` header (seconds or an HTTP date) in milliseconds, if present and sane. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A push that ended before the service answered it (a bad token, a key that does not load). */
export class Undeliverable extends Error {
  constructor(readonly outcome: PushOutcome) {
    super(outcome.status);
  }
}

/**
 * What a request that got no answer means: refused by the guard for good, or a network failure or
 * timeout worth a retry.
 */
export function transportOutcome(err: unknown, service: string): PushOutcome {
  if (err instanceof OutboundRefused && err.reason !== "timeout") {
    return { status: "rejected", detail: `refused: ${err.message}` };
  }
  return { status: "retry", detail: `${service} unreachable: ${(err as Error).message}` };
}

/**
 * A credential a provider mints and reuses until `refreshAt` (an APNs provider token, an FCM access
 * token): one mint in flight however many pushes ask, and a refused one forgotten once (unless a
 * newer one has already replaced it), so concurrent 401/403s mint once.
 */
export class CachedToken {
  #cached: { token: string; refreshAt: number } | null = null;
  #minting: Promise<string> | null = null;

  constructor(
    private readonly mint: () => Promise<{ token: string; refreshAt: number }>,
    private readonly now: () => number,
  ) {}

  get(): Promise<string> {
    if (this.#cached && this.now() < this.#cached.refreshAt) {
      return Promise.resolve(this.#cached.token);
    }
    this.#minting ??= this.mint().then((minted) => {
      this.#cached = minted;
      return minted.token;
    }).finally(() => this.#minting = null);
    return this.#minting;
  }

  forget(token: string): void {
    if (this.#cached?.token === token) this.#cached = null;
  }
}
