import * as jose from "jose";
import webpush from "web-push";
import { decodeBase64, encodeBase64Url } from "../domain/encoding.ts";
import { type OutboundClient, OutboundRefused } from "../net/outbound.ts";
import {
  type PushMessage,
  type PushOutcome,
  type PushProvider,
  type PushTarget,
  retryAfterMs,
} from "./provider.ts";

/** The application server's VAPID identity (RFC 8292), as `generateVapidKeys` makes it. */
export interface VapidKeyPair {
  /** base64url of the 65-byte uncompressed P-256 point. */
  publicKey: string;
  /** base64url of the 32-byte private scalar `d`. */
  privateKey: string;
}

/** Options for {@link WebPushProvider}. */
export interface WebPushOptions {
  /** The keys, and a `mailto:` or `https:` contact the push service may use (the JWT's `sub`). */
  vapid: VapidKeyPair & { subject: string };
  outbound: OutboundClient;
  /** The clock, in milliseconds (tests move it to see tokens expire). */
  now?: () => number;
}

/**
 * The largest payload sent: one aes128gcm record in the 4096 bytes every push service must accept
 * (RFC 8291 §4), less its 86-byte header, the padding delimiter and the 16-byte tag.
 */
export const MAX_PAYLOAD_BYTES = 4096 - 86 - 1 - 16;

const TOKEN_LIFETIME_S = 12 * 3600;
const TOKEN_MIN_REMAINING_MS = 3600 * 1000;
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const EXCERPT_CHARS = 200;

/** The one function of web-push this adapter uses (the package ships no types). */
interface Aes128gcmEncrypter {
  encrypt(
    p256dh: string,
    auth: string,
    payload: string,
    encoding: "aes128gcm",
  ): { cipherText: Uint8Array };
}
const library = webpush as Aes128gcmEncrypter;

/**
 * Delivers to browsers through their push service (RFC 8030): the payload is encrypted end to end
 * to the subscription's keys (aes128gcm, RFC 8291) and the request carries a VAPID token (RFC 8292)
 * for the endpoint's origin, reused until less than an hour of its 12 hours remains. Every request
 * goes through the guarded outbound client without following redirects. A payload larger than
 * {@link MAX_PAYLOAD_BYTES}, a malformed subscription or topic, and a target the client refuses are
 * `rejected` without sending; a timeout, a network failure, 429 and 5xx are `retry`; 404 and 410
 * are `gone`.
 */
export class WebPushProvider implements PushProvider {
  readonly kind = "webpush";
  readonly #vapid: WebPushOptions["vapid"];
  readonly #outbound: OutboundClient;
  readonly #now: () => number;
  readonly #point: Uint8Array;
  #signingKey?: Promise<CryptoKey>;
  readonly #tokens = new Map<string, { jwt: Promise<string>; expiresAt: number }>();

  constructor(options: WebPushOptions) {
    const { publicKey, privateKey, subject } = options.vapid;
    const point = decodeKey(publicKey, 65, "VAPID public key");
    if (point[0] !== 4) throw new Error("the VAPID public key is not an uncompressed P-256 point");
    decodeKey(privateKey, 32, "VAPID private key");
    if (!/^(mailto:|https:\/\/)\S+$/.test(subject)) {
      throw new Error("the VAPID subject must be a mailto: or https: URL");
    }
    this.#vapid = options.vapid;
    this.#outbound = options.outbound;
    this.#now = options.now ?? Date.now;
    this.#point = point;
  }

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    if (target.kind !== "webpush") {
      return { status: "rejected", detail: `not a Web Push target (${target.kind})` };
    }
    let origin: string;
    try {
      origin = new URL(target.endpoint).origin;
    } catch {
      return { status: "rejected", detail: "the endpoint is not a URL" };
    }
    const payload = JSON.stringify(message.payload);
    const size = new TextEncoder().encode(payload).length;
    if (size > MAX_PAYLOAD_BYTES) {
      return {
        status: "rejected",
        detail: `payload of ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES} bytes of one record`,
      };
    }
    if (message.topic !== undefined && !TOPIC.test(message.topic)) {
      return { status: "rejected", detail: "the topic is not 1-32 URL-safe base64 characters" };
    }
    let body: Uint8Array<ArrayBuffer>;
    try {
      const { p256dh, auth } = target.keys;
      body = new Uint8Array(library.encrypt(p256dh, auth, payload, "aes128gcm").cipherText);
    } catch (err) {
      return {
        status: "rejected",
        detail: `cannot encrypt to this subscription: ${errorText(err)}`,
      };
    }
    let jwt: string;
    try {
      jwt = await this.#token(origin);
    } catch (err) {
      return { status: "rejected", detail: `cannot sign the VAPID token: ${errorText(err)}` };
    }
    const headers: Record<string, string> = {
      "Authorization": `vapid t=${jwt}, k=${this.#vapid.publicKey}`,
      "Content-Encoding": "aes128gcm",
      "Content-Type": "application/octet-stream",
      "TTL": String(Math.max(0, Math.floor(message.ttlSeconds))),
      "Urgency": message.urgency,
    };
    if (message.topic !== undefined) headers["Topic"] = message.topic;
    return await this.#post(target.endpoint, headers, body);
  }

  async #post(
    endpoint: string,
    headers: Record<string, string>,
    body: Uint8Array<ArrayBuffer>,
  ): Promise<PushOutcome> {
    let res;
    try {
      res = await this.#outbound.fetch(endpoint, {
        method: "POST",
        headers,
        body,
        maxBytes: 64 * 1024,
        timeoutMs: 10_000,
        followRedirects: false,
      });
    } catch (err) {
      if (err instanceof OutboundRefused) {
        // A push service too slow to answer is a transient failure, not a refused target.
        if (err.reason === "timeout") return { status: "retry", detail: `timeout: ${err.message}` };
        return { status: "rejected", detail: `refused (${err.reason}): ${err.message}` };
      }
      // The endpoint's path is the subscription's secret: keep it out of details that get logged.
      const text = errorText(err).replaceAll(endpoint, new URL(endpoint).origin);
      return { status: "retry", detail: `network error: ${text}` };
    }
    const status = res.status;
    if (status >= 200 && status < 300) return { status: "sent" };
    const detail = `HTTP ${status}: ${excerpt(res.text())}`;
    if (status === 404 || status === 410) return { status: "gone", detail };
    if (status === 429 || status >= 500) {
      const after = retryAfterMs(res.headers, this.#now());
      return after === undefined
        ? { status: "retry", detail }
        : { status: "retry", detail, retryAfterMs: after };
    }
    return { status: "rejected", detail };
  }

  /** A VAPID JWT for `audience`, signed again when less than an hour of it remains. */
  #token(audience: string): Promise<string> {
    const now = this.#now();
    const cached = this.#tokens.get(audience);
    if (cached && cached.expiresAt - now >= TOKEN_MIN_REMAINING_MS) return cached.jwt;
    const exp = Math.floor(now / 1000) + TOKEN_LIFETIME_S;
    // Imported on first use, so a key pair that does not match is reported by the sends.
    this.#signingKey ??= importSigningKey(this.#point, this.#vapid.privateKey);
    const jwt = this.#signingKey.then((key) =>
      new jose.SignJWT({})
        .setProtectedHeader({ alg: "ES256", typ: "JWT" })
        .setAudience(audience)
        .setExpirationTime(exp)
        .setSubject(this.#vapid.subject)
        .sign(key)
    );
    const entry = { jwt, expiresAt: exp * 1000 };
    this.#tokens.set(audience, entry);
    jwt.catch(() => {
      if (this.#tokens.get(audience) === entry) this.#tokens.delete(audience);
    });
    return jwt;
  }
}

/**
 * A fresh VAPID key pair (P-256, WebCrypto): the public key as the base64url of its uncompressed
 * point (what browsers take as `applicationServerKey`), the private key as the base64url of `d`.
 */
export async function generateVapidKeys(): Promise<VapidKeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  if (!jwk.d) throw new Error("WebCrypto exported no private scalar");
  return { publicKey: encodeBase64Url(raw), privateKey: jwk.d };
}

/** The private key as an ES256 signing key, after checking that it belongs to the public point. */
async function importSigningKey(point: Uint8Array, d: string): Promise<CryptoKey> {
  const x = encodeBase64Url(point.subarray(1, 33));
  const y = encodeBase64Url(point.subarray(33, 65));
  const key = await jose.importJWK({ kty: "EC", crv: "P-256", x, y, d }, "ES256") as CryptoKey;
  const verifier = await jose.importJWK({ kty: "EC", crv: "P-256", x, y }, "ES256");
  const probe = await new jose.CompactSign(new Uint8Array([1])).setProtectedHeader({ alg: "ES256" })
    .sign(key);
  try {
    await jose.compactVerify(probe, verifier);
  } catch {
    throw new Error("the VAPID private key does not match the public key");
  }
  return key;
}

function decodeKey(text: string, length: number, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(text);
  } catch {
    throw new Error(`the ${what} is not base64url`);
  }
  if (bytes.length !== length) throw new Error(`the ${what} must be ${length} bytes`);
  return bytes;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat === "") return "(no body)";
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
