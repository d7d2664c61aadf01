import { Buffer } from "node:buffer";
import { createECDH, type ECDH } from "node:crypto";
import ece from "http_ece";
import { decodeBase64, encodeBase64Url } from "../../src/domain/encoding.ts";

/** What a browser hands the application server after `pushManager.subscribe()`. */
export interface TestSubscription {
  /** The id in the endpoint's path; the service's records carry it. */
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** The verified claims of a request's VAPID token. */
export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

/** One push the service accepted, decrypted as the browser would see it. */
export interface ReceivedPush {
  subscriptionId: string;
  ttl: number;
  urgency: string | null;
  topic: string | null;
  /** The decrypted payload, as text. */
  payload: string;
  receivedAt: number;
  /** The raw VAPID JWT and its verified claims. */
  jwt: string;
  claims: VapidClaims;
}

/** A request the service refused as malformed, unauthorised or addressed to nobody. */
export interface PushRejection {
  subscriptionId: string | null;
  status: number;
  reason: string;
}

/** A scripted answer: a status, or a status with headers and a body. */
export type ScriptedResponse = number | { status: number; headers?: HeadersInit; body?: string };

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
  script: ScriptedResponse[];
}

interface Waiter {
  count: number;
  subscriptionId?: string;
  resolve: (push: ReceivedPush) => void;
}

/** The size every push service must accept (RFC 8291 §4); larger bodies get 413 here. */
const MAX_BODY = 4096;
const URGENCIES = new Set(["very-low", "low", "normal", "high"]);
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * A local Web Push service (RFC 8030) on 127.0.0.1 for tests. It checks each request as a strict
 * push service would — a VAPID token (RFC 8292) signed by the key in `k` (and that key equal to the
 * expected one, when given), for this origin, expiring within 24 h; `Content-Encoding: aes128gcm`;
 * `TTL`; a valid `Urgency` and `Topic` when present — decrypts the body with the subscription's
 * private key (RFC 8291) and records the push. Anything malformed is answered 400/401/403/413 and
 * recorded in `rejections`. Tests script the answers per subscription with `respond`; once the
 * script is spent, pushes are answered 201.
 */
export class PushService {
  /** Accepted pushes, in arrival order (a scripted non-2xx answer records none). */
  readonly pushes: ReceivedPush[] = [];
  /** Requests refused as malformed or unauthorised. */
  readonly rejections: PushRejection[] = [];
  /** Every request that reached the service, valid or not, with the status it got. */
  readonly requests: { subscriptionId: string | null; status: number }[] = [];
  readonly #subscribers = new Map<string, Subscriber>();
  readonly #waiters: Waiter[] = [];

  private constructor(
    readonly origin: string,
    readonly close: () => Promise<void>,
    private readonly expectedKey: string | undefined,
  ) {}

  /** Starts a service; `vapidPublicKey` restricts it to that application server's key. */
  static start(options: { vapidPublicKey?: string } = {}): Promise<PushService> {
    return new Promise((resolve) => {
      let service: PushService;
      const server = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        onListen: ({ port }) => {
          service = new PushService(
            `http://127.0.0.1:${port}`,
            () => server.shutdown(),
            options.vapidPublicKey,
          );
          resolve(service);
        },
      }, (req) => service.#handle(req));
    });
  }

  /** Stops the server (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Makes a browser-like subscription: a fresh P-256 key pair and 16-byte auth secret. */
  async subscribe(name = "sub"): Promise<TestSubscription> {
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
      "deriveBits",
    ]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const { d } = await crypto.subtle.exportKey("jwk", pair.privateKey);
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(d!, "base64url"));
    const auth = Buffer.from(crypto.getRandomValues(new Uint8Array(16)));
    const id = `${name}-${crypto.randomUUID()}`;
    this.#subscribers.set(id, { ecdh, auth, script: [] });
    return {
      id,
      endpoint: `${this.origin}/push/${id}`,
      keys: { p256dh: encodeBase64Url(raw), auth: encodeBase64Url(auth) },
    };
  }

  /** The next answers to valid pushes for `subscriptionId`, in order (then 201 again). */
  respond(subscriptionId: string, responses: ScriptedResponse[]): void {
    this.#subscriber(subscriptionId).script.push(...responses);
  }

  /**
   * The `count`-th accepted push (1-based), of one subscription when given; resolves as soon as it
   * has arrived, and rejects after `timeoutMs` naming what did arrive.
   */
  waitForPush(
    count: number,
    options: { subscriptionId?: string; timeoutMs?: number } = {},
  ): Promise<ReceivedPush> {
    const arrived = this.#matching(options.subscriptionId);
    if (arrived.length >= count) return Promise.resolve(arrived[count - 1]);
    const timeoutMs = options.timeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        subscriptionId: options.subscriptionId,
        resolve: (push) => {
          clearTimeout(timer);
          resolve(push);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        const got = this.#matching(options.subscriptionId).length;
        reject(
          new Error(
            `push ${count} did not arrive within ${timeoutMs} ms (${got} arrived; rejections: ${
              JSON.stringify(this.rejections)
            })`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #matching(subscriptionId?: string): ReceivedPush[] {
    return subscriptionId === undefined
      ? this.pushes
      : this.pushes.filter((p) => p.subscriptionId === subscriptionId);
  }

  #subscriber(id: string): Subscriber {
    const subscriber = this.#subscribers.get(id);
    if (!subscriber) throw new Error(`no subscription ${id}`);
    return subscriber;
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    const match = /^\/push\/([^/]+)$/.exec(path);
    const id = match?.[1] ?? null;
    const refuse = (status: number, reason: string) => {
      this.rejections.push({ subscriptionId: id, status, reason });
      this.requests.push({ subscriptionId: id, status });
      return new Response(reason, { status });
    };
    const body = new Uint8Array(await req.arrayBuffer());
    if (req.method !== "POST" || id === null) return refuse(404, `no route ${req.method} ${path}`);
    const subscriber = this.#subscribers.get(id);
    if (!subscriber) return refuse(404, "no such subscription");

    const auth = await this.#verifyVapid(req.headers.get("authorization"));
    if ("status" in auth) return refuse(auth.status, auth.reason);
    if (req.headers.get("content-encoding") !== "aes128gcm") {
      return refuse(400, "Content-Encoding must be aes128gcm");
    }
    const ttl = req.headers.get("ttl");
    if (ttl === null || !/^\d+$/.test(ttl)) return refuse(400, "TTL missing or not an integer");
    const urgency = req.headers.get("urgency");
    if (urgency !== null && !URGENCIES.has(urgency)) return refuse(400, "bad Urgency");
    const topic = req.headers.get("topic");
    if (topic !== null && !TOPIC.test(topic)) return refuse(400, "bad Topic");
    if (body.length > MAX_BODY) return refuse(413, `body of ${body.length} bytes`);

    let payload: string;
    try {
      const plain: Buffer = ece.decrypt(Buffer.from(body), {
        version: "aes128gcm",
        privateKey: subscriber.ecdh,
        authSecret: subscriber.auth,
      });
      payload = new TextDecoder("utf-8", { fatal: true }).decode(plain);
    } catch (err) {
      return refuse(400, `cannot decrypt: ${(err as Error).message}`);
    }

    const scripted = subscriber.script.shift() ?? 201;
    const answer = typeof scripted === "number" ? { status: scripted } : scripted;
    this.requests.push({ subscriptionId: id, status: answer.status });
    if (answer.status >= 200 && answer.status < 300) {
      this.#record({
        subscriptionId: id,
        ttl: Number(ttl),
        urgency,
        topic,
        payload,
        receivedAt: Date.now(),
        jwt: auth.jwt,
        claims: auth.claims,
      });
      const headers = new Headers(answer.headers);
      headers.set("location", `${this.origin}/message/${crypto.randomUUID()}`);
      return new Response(null, { status: answer.status, headers });
    }
    return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers });
  }

  #record(push: ReceivedPush): void {
    this.pushes.push(push);
    for (const waiter of [...this.#waiters]) {
      const matching = this.#matching(waiter.subscriptionId);
      if (matching.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(matching[waiter.count - 1]);
      }
    }
  }

  /** Checks `Authorization: vapid t=<jwt>, k=<key>` as RFC 8292 §2–4 describe. */
  async #verifyVapid(
    header: string | null,
  ): Promise<{ jwt: string; claims: VapidClaims } | { status: number; reason: string }> {
    const params = parseVapid(header);
    if (!params) return { status: 401, reason: "no vapid Authorization" };
    const { t, k } = params;
    if (this.expectedKey !== undefined && k !== this.expectedKey) {
      return { status: 403, reason: "k is not this subscription's application server key" };
    }
    const parts = t.split(".");
    if (parts.length !== 3) return { status: 401, reason: "t is not a JWS" };
    let jose: { alg?: unknown };
    let claims: Partial<Record<keyof VapidClaims, unknown>>;
    let key: CryptoKey;
    let signature: Uint8Array<ArrayBuffer>;
    try {
      jose = JSON.parse(new TextDecoder().decode(decodeBase64(parts[0])));
      claims = JSON.parse(new TextDecoder().decode(decodeBase64(parts[1])));
      signature = new Uint8Array(decodeBase64(parts[2]));
      key = await crypto.subtle.importKey(
        "raw",
        new Uint8Array(decodeBase64(k)),
        { name: "ECDSA", namedCurve: "P-256" },
        false,
        ["verify"],
      );
    } catch (err) {
      return { status: 401, reason: `unreadable token or key: ${(err as Error).message}` };
    }
    if (jose.alg !== "ES256") return { status: 401, reason: `alg ${jose.alg} is not ES256` };
    const valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      signature,
      new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
    );
    if (!valid) return { status: 401, reason: "bad signature" };
    const now = Date.now() / 1000;
    const { aud, exp, sub } = claims;
    if (aud !== this.origin) return { status: 401, reason: `aud ${aud} is not ${this.origin}` };
    if (typeof exp !== "number" || exp <= now) return { status: 401, reason: "expired" };
    if (exp > now + 24 * 3600) return { status: 401, reason: "exp more than 24 h ahead" };
    if (typeof sub !== "string" || !/^(mailto:|https:)/.test(sub)) {
      return { status: 401, reason: "sub is not a mailto: or https: contact" };
    }
    return { jwt: t, claims: { aud, exp, sub } };
  }
}

/** A browser-like subscription to `service` (see {@link PushService.subscribe}). */
export function newSubscription(service: PushService, name?: string): Promise<TestSubscription> {
  return service.subscribe(name);
}

function parseVapid(header: string | null): { t: string; k: string } | null {
  const match = header && /^vapid\s+(.*)$/i.exec(header.trim());
  if (!match) return null;
  const params = new Map<string, string>();
  for (const part of match[1].split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) return null;
    params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const t = params.get("t");
  const k = params.get("k");
  return t && k ? { t, k } : null;
}
