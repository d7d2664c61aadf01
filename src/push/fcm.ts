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

/** The fields of a Google service-account key file that FCM sending needs. */
export interface FcmServiceAccount {
  client_email: string;
  /** PKCS#8 PEM of an RSA key (RS256). */
  private_key: string;
  /** The OAuth 2.0 token endpoint; https://oauth2.googleapis.com/token by default. */
  token_uri?: string;
}

/** Options for {@link FcmProvider}. */
export interface FcmOptions {
  projectId: string;
  serviceAccount: FcmServiceAccount;
  /** https://fcm.googleapis.com by default. */
  baseUrl?: string;
  outbound: OutboundClient;
  /** The clock (milliseconds since the epoch); `Date.now` by default. */
  now?: () => number;
}

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
const DEFAULT_BASE_URL = "https://fcm.googleapis.com";
const ASSERTION_LIFETIME_S = 3600;
const REFRESH_MARGIN_MS = 5 * 60_000;
/** FCM keeps a message at most four weeks. */
const MAX_TTL_S = 28 * 24 * 3600;
// No redirects: following one would hand the bearer token (or the assertion) to another address.
const REQUEST = { method: "POST", maxBytes: 64 * 1024, timeoutMs: 10_000, followRedirects: false };

/**
 * Sends to Android (and other FCM) devices through the FCM HTTP v1 API. It authenticates as the
 * service account: an RS256 assertion exchanged for an OAuth 2.0 access token, cached until five
 * minutes before it expires, with at most one refresh in flight however many sends wait on it. A
 * 401 drops that token and the push is sent once more with a fresh one. Every request goes through
 * the guarded {@link OutboundClient} without following redirects.
 *
 * Outcomes: 2xx `sent`; 404 or an `UNREGISTERED` error `gone`; 429, 5xx and network failures
 * `retry` (with `Retry-After`); other 4xx, refused URLs and an unusable service account `rejected`.
 *
 * @example
 * const fcm = new FcmProvider({ projectId, serviceAccount: JSON.parse(keyFile), outbound });
 * await fcm.send({ kind: "fcm", token }, { payload: { conversationId }, ttlSeconds: 3600, urgency: "high" });
 */
export class FcmProvider implements PushProvider {
  readonly kind = "fcm";
  readonly #now: () => number;
  readonly #tokenUri: string;
  readonly #sendUrl: string;
  #key: ReturnType<typeof jose.importPKCS8> | null = null;
  readonly #token = new CachedToken(() => this.#refresh(), () => this.#now());

  constructor(private readonly options: FcmOptions) {
    this.#now = options.now ?? Date.now;
    this.#tokenUri = options.serviceAccount.token_uri ?? DEFAULT_TOKEN_URI;
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.#sendUrl = `${base}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
  }

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    if (target.kind !== "fcm") {
      return { status: "rejected", detail: `FCM cannot send to a ${target.kind} target` };
    }
    const body = JSON.stringify(fcmMessage(target.token, message));
    try {
      for (let attempt = 1;; attempt++) {
        const token = await this.#token.get();
        const res = await this.options.outbound.fetch(this.#sendUrl, {
          ...REQUEST,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
        });
        if (res.status === 401) {
          this.#token.forget(token);
          if (attempt === 1) continue;
        }
        return sendOutcome(res, this.#now());
      }
    } catch (err) {
      if (err instanceof Undeliverable) return err.outcome;
      return transportOutcome(err, "FCM");
    }
  }

  /** An access token from the OAuth endpoint, and when to refresh it. */
  async #refresh(): Promise<{ token: string; refreshAt: number }> {
    const issuedAt = this.#now();
    const iat = Math.floor(issuedAt / 1000);
    const assertion = await new jose.SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(this.options.serviceAccount.client_email)
      .setAudience(this.#tokenUri)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_S)
      .sign(await this.#signingKey());
    const res = await this.options.outbound.fetch(this.#tokenUri, {
      ...REQUEST,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion,
      }).toString(),
    });
    const answer = parseJson(res.text());
    if (res.status !== 200) throw new Undeliverable(tokenRefusal(res, answer, this.#now()));
    const token = answer?.access_token;
    const expiresIn = answer?.expires_in;
    if (typeof token !== "string" || token === "" || typeof expiresIn !== "number") {
      throw new Undeliverable({
        status: "retry",
        detail: "the OAuth token endpoint sent no token",
      });
    }
    // Five minutes early, or halfway through a lifetime shorter than ten minutes.
    const lifetimeMs = expiresIn * 1000;
    const refreshAt = issuedAt + Math.max(lifetimeMs - REFRESH_MARGIN_MS, lifetimeMs / 2);
    return { token, refreshAt };
  }

  #signingKey(): ReturnType<typeof jose.importPKCS8> {
    this.#key ??= jose.importPKCS8(this.options.serviceAccount.private_key, "RS256").catch(
      (err: Error) => {
        throw new Undeliverable({
          status: "rejected",
          detail: `the service account private_key is not a PKCS#8 RSA key (${err.message})`,
        });
      },
    );
    return this.#key;
  }
}

/** The FCM v1 request body for one device. */
function fcmMessage(token: string, message: PushMessage): unknown {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.payload)) {
    if (value !== undefined) data[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const ttl = Math.min(MAX_TTL_S, Math.max(0, Math.floor(message.ttlSeconds)));
  // JSON.stringify leaves out the fields that are undefined.
  const android = {
    priority: message.urgency === "high" ? "high" : "normal",
    ttl: `${ttl}s`,
    collapse_key: message.topic,
    notification: message.alert && {
      title: message.alert.title,
      body: message.alert.body,
      notification_count: message.badge,
    },
  };
  return { message: { token, data, android } };
}

function sendOutcome(res: OutboundResponse, now: number): PushOutcome {
  if (res.status >= 200 && res.status < 300) return { status: "sent" };
  const error = googleError(parseJson(res.text()));
  const detail = `FCM ${res.status} ${error.code ?? ""}${error.message ? `: ${error.message}` : ""}`
    .trim();
  if (error.code === "UNREGISTERED" || res.status === 404) return { status: "gone", detail };
  if (res.status === 429 || res.status >= 500 || res.status === 401) {
    return { status: "retry", detail, retryAfterMs: retryAfterMs(res.headers, now) };
  }
  return { status: "rejected", detail };
}

function tokenRefusal(res: OutboundResponse, answer: any, now: number): PushOutcome {
  const detail = `the OAuth token endpoint answered ${res.status}` +
    (typeof answer?.error === "string" ? ` ${answer.error}` : "") +
    (typeof answer?.error_description === "string" ? `: ${answer.error_description}` : "");
  if (res.status === 429 || res.status >= 500) {
    return { status: "retry", detail, retryAfterMs: retryAfterMs(res.headers, now) };
  }
  return { status: "rejected", detail };
}

/** The FCM error code (`details[].errorCode`, else the canonical status) and message of a body. */
function googleError(body: any): { code?: string; message?: string } {
  const error = body?.error;
  if (typeof error !== "object" || error === null) return {};
  const details: unknown[] = Array.isArray(error.details) ? error.details : [];
  const fcm = details.find((d: any) => typeof d?.errorCode === "string") as any;
  return {
    code: fcm?.errorCode ?? (typeof error.status === "string" ? error.status : undefined),
    message: typeof error.message === "string" ? error.message : undefined,
  };
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
