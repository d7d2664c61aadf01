import * as jose from "jose";
import type { OutboundClient, OutboundResponse } from "../net/outbound.ts";
import {
  CachedToken,
  type PushMessage,
  type PushOutcome,
  type PushProvider,
  type PushTarget,
  retryAfterMs,
  transportOutcome,
  Undeliverable,
} from "./provider.ts";

/** Options for {@link ApnsProvider}. */
export interface ApnsOptions {
  /** The 10-character id of the APNs signing key. */
  keyId: string;
  teamId: string;
  /** The `.p8` key: PKCS#8 PEM of a P-256 key (ES256). */
  privateKey: string;
  /** The app's bundle id. */
  topic: string;
  /** https://api.push.apple.com by default (https://api.sandbox.push.apple.com for development builds). */
  baseUrl?: string;
  outbound: OutboundClient;
  /** The clock (milliseconds since the epoch); `Date.now` by default. */
  now?: () => number;
}

const DEFAULT_BASE_URL = "https://api.push.apple.com";
/** Apple refuses provider tokens older than an hour, and new ones more often than every 20 minutes. */
const TOKEN_REFRESH_MS = 50 * 60_000;
// No redirects: following one would hand the provider token to another address.
const REQUEST = { method: "POST", maxBytes: 64 * 1024, timeoutMs: 10_000, followRedirects: false };
const GONE_REASONS = new Set(["BadDeviceToken", "Unregistered"]);

/**
 * Sends to iOS devices through APNs with token-based authentication: an ES256 provider token
 * (`kid` = key id, `iss` = team id, `iat`) reused for 50 minutes, minted once however many sends wait
 * on it, and replaced at once when APNs answers 403 `ExpiredProviderToken` (the push is then sent
 * once more). A push with an `alert` goes as push type `alert` (priority 10 when urgent) with
 * `mutable-content`; one without goes as `background` with `content-available` and priority 5, as
 * Apple requires. The message topic becomes `apns-collapse-id`. Requests go through the guarded
 * {@link OutboundClient} without following redirects.
 *
 * Outcomes: 200 `sent`; 410, 400 `BadDeviceToken`/`Unregistered` (or a token that is not hex)
 * `gone`; 429, 5xx and network failures `retry` (with `Retry-After`); other 4xx (with Apple's
 * reason), refused URLs and an unusable key `rejected`.
 *
 * Apple's servers speak HTTP/2 only; Deno's `fetch` negotiates it through ALPN on https. The tests
 * run against a local HTTP/1.1 fake over plain http, so HTTP/2 itself is not exercised by them.
 */
export class ApnsProvider implements PushProvider {
  readonly kind = "apns";
  readonly #now: () => number;
  readonly #base: string;
  #key: ReturnType<typeof jose.importPKCS8> | null = null;
  readonly #token = new CachedToken(() => this.#mint(), () => this.#now());

  constructor(private readonly options: ApnsOptions) {
    this.#now = options.now ?? Date.now;
    this.#base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
  }

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    if (target.kind !== "apns") {
      return { status: "rejected", detail: `APNs cannot send to a ${target.kind} target` };
    }
    // Device tokens are hex; anything else could never be delivered (and must not shape the path).
    if (!/^[0-9a-fA-F]+$/.test(target.token)) {
      return { status: "gone", detail: "not an APNs device token" };
    }
    const url = `${this.#base}/3/device/${target.token}`;
    const body = JSON.stringify(apnsPayload(message));
    try {
      for (let attempt = 1;; attempt++) {
        const jwt = await this.#token.get();
        const res = await this.options.outbound.fetch(url, {
          ...REQUEST,
          headers: { authorization: `bearer ${jwt}`, ...this.#headers(message) },
          body,
        });
        const reason = apnsReason(res);
        if (res.status === 403 && reason === "ExpiredProviderToken") {
          this.#token.forget(jwt);
          if (attempt === 1) continue;
        }
        return sendOutcome(res, reason, this.#now());
      }
    } catch (err) {
      if (err instanceof Undeliverable) return err.outcome;
      return transportOutcome(err, "APNs");
    }
  }

  #headers(message: PushMessage): Record<string, string> {
    const ttl = Math.max(0, Math.floor(message.ttlSeconds));
    const headers: Record<string, string> = {
      "apns-topic": this.options.topic,
      "apns-push-type": message.alert ? "alert" : "background",
      "apns-priority": message.alert && message.urgency === "high" ? "10" : "5",
      // 0 asks APNs for one attempt and no storage, which is what a zero TTL means.
      "apns-expiration": ttl === 0 ? "0" : String(Math.floor(this.#now() / 1000) + ttl),
      // Set explicitly: fetch would label a string body text/plain.
      "content-type": "application/json",
    };
    if (message.topic !== undefined) headers["apns-collapse-id"] = message.topic;
    return headers;
  }

  /** A provider token, used for 50 minutes. */
  async #mint(): Promise<{ token: string; refreshAt: number }> {
    const issuedAt = this.#now();
    const jwt = await new jose.SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.options.keyId })
      .setIssuer(this.options.teamId)
      .setIssuedAt(Math.floor(issuedAt / 1000))
      .sign(await this.#signingKey());
    return { token: jwt, refreshAt: issuedAt + TOKEN_REFRESH_MS };
  }

  #signingKey(): ReturnType<typeof jose.importPKCS8> {
    this.#key ??= jose.importPKCS8(this.options.privateKey, "ES256").catch((err: Error) => {
      throw new Undeliverable({
        status: "rejected",
        detail: `the APNs key is not a PKCS#8 P-256 key (${err.message})`,
      });
    });
    return this.#key;
  }
}

/** The APNs JSON body: the payload's fields with Parley's `aps` dictionary (which wins). */
function apnsPayload(message: PushMessage): Record<string, unknown> {
  const aps: Record<string, unknown> = message.alert
    ? { alert: { title: message.alert.title, body: message.alert.body }, "mutable-content": 1 }
    : { "content-available": 1 };
  if (message.badge !== undefined) aps.badge = message.badge;
  return { ...message.payload, aps };
}

function apnsReason(res: OutboundResponse): string | undefined {
  try {
    const reason = JSON.parse(res.text())?.reason;
    return typeof reason === "string" ? reason : undefined;
  } catch {
    return undefined;
  }
}

function sendOutcome(res: OutboundResponse, reason: string | undefined, now: number): PushOutcome {
  if (res.status === 200) return { status: "sent" };
  const detail = `APNs ${res.status}${reason ? ` ${reason}` : ""}`;
  if (res.status === 410 || (res.status === 400 && reason && GONE_REASONS.has(reason))) {
    return { status: "gone", detail };
  }
  if (res.status === 429 || res.status >= 500 || reason === "ExpiredProviderToken") {
    return { status: "retry", detail, retryAfterMs: retryAfterMs(res.headers, now) };
  }
  return { status: "rejected", detail };
}
