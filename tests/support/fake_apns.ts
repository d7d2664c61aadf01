import * as jose from "jose";

/** A scripted APNs answer: the status, Apple's `reason`, and an optional `Retry-After`. */
export interface ApnsReply {
  status: number;
  reason?: string;
  retryAfter?: string;
}

/** One request as the fake received it, and what it answered. */
export interface ApnsReceived {
  deviceToken: string;
  headers: Record<string, string>;
  /** The provider token (JWT) from `authorization`. */
  providerToken: string;
  jwtHeader: jose.ProtectedHeaderParameters | null;
  claims: jose.JWTPayload | null;
  body: any;
  answered: number;
  reason?: string;
}

/** A local stand-in for APNs (HTTP/1.1 on loopback, not Apple's HTTP/2). */
export interface FakeApns extends AsyncDisposable {
  baseUrl: string;
  /** Every request, in order of arrival. */
  received: ApnsReceived[];
  /** Requests a check refused (header, JWT or body), as "status reason: why". */
  problems: string[];
  /** Distinct provider tokens that passed the checks. */
  readonly providerTokens: number;
  /** The next answers for one device token, in order; then 200 again. Checks still come first. */
  script(deviceToken: string, replies: ApnsReply[]): void;
  /** The `n`-th request (1-based) once it has arrived; rejects after `timeoutMs` (default 5 s). */
  nthRequest(n: number, timeoutMs?: number): Promise<ApnsReceived>;
  close(): Promise<void>;
}

/** What the fake holds the requests to. */
export interface FakeApnsOptions {
  teamId: string;
  keyId: string;
  /** The bundle id every `apns-topic` must name. */
  topic: string;
  /** Verifies the provider tokens (the public half of the `.p8` key under test). */
  publicKey: CryptoKey;
  /** The fake's clock, shared with the provider's in tests that move time. */
  now?: () => number;
}

/** A fresh P-256 signing key as an APNs `.p8` file holds it (PKCS#8 PEM), with its public half. */
export async function generateApnsKey(): Promise<{ privateKeyPem: string; publicKey: CryptoKey }> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  return { privateKeyPem: await jose.exportPKCS8(pair.privateKey), publicKey: pair.publicKey };
}

const HEADERS = new Set([
  "authorization",
  "apns-topic",
  "apns-push-type",
  "apns-priority",
  "apns-expiration",
  "apns-collapse-id",
  "content-type",
  // Added by fetch itself.
  "host",
  "content-length",
  "accept",
  "accept-encoding",
  "accept-language",
  "user-agent",
]);
const TOKEN_MAX_AGE_S = 3600;
const TOKEN_MIN_INTERVAL_S = 20 * 60;
const MAX_PAYLOAD = 4096;

/** A failed check: the answer APNs would give and why. */
class Refusal extends Error {
  constructor(readonly status: number, readonly reason: string, why: string) {
    super(why);
  }
}

/**
 * Starts an APNs fake on 127.0.0.1 (a free port). Like Apple it checks every request before any
 * script applies: the path, the header set (nothing unexpected), the provider token (ES256 signature
 * under `publicKey`, header exactly {alg, kid}, claims exactly {iss, iat}, `iat` at most an hour old
 * and not ahead of the clock, a new token no sooner than 20 minutes after the previous one),
 * `apns-topic`, `apns-push-type`, `apns-priority` (never 10 for background), `apns-expiration`,
 * `apns-collapse-id`, the hex device token, and a JSON body ≤ 4 KiB whose `aps` fits the push type.
 */
export function startFakeApns(options: FakeApnsOptions): FakeApns {
  const now = options.now ?? Date.now;
  const received: ApnsReceived[] = [];
  const problems: string[] = [];
  const scripts = new Map<string, ApnsReply[]>();
  const tokens = new Map<string, number>(); // accepted provider token → its iat
  let lastNewIat = -Infinity;
  const waiters = new Set<
    { n: number; resolve: (r: ApnsReceived) => void; timer: ReturnType<typeof setTimeout> }
  >();

  function record(entry: ApnsReceived): void {
    received.push(entry);
    for (const w of waiters) {
      if (received.length < w.n) continue;
      clearTimeout(w.timer);
      waiters.delete(w);
      w.resolve(received[w.n - 1]);
    }
  }

  async function verifyToken(entry: ApnsReceived): Promise<void> {
    let verified;
    try {
      verified = await jose.jwtVerify(entry.providerToken, options.publicKey, {
        algorithms: ["ES256"],
      });
    } catch (err) {
      throw new Refusal(403, "InvalidProviderToken", `signature: ${(err as Error).message}`);
    }
    entry.jwtHeader = verified.protectedHeader;
    entry.claims = verified.payload;
    const { alg, kid, ...extraHeader } = verified.protectedHeader;
    const { iss, iat, ...extraClaims } = verified.payload;
    if (alg !== "ES256" || kid !== options.keyId || Object.keys(extraHeader).length > 0) {
      throw new Refusal(403, "InvalidProviderToken", `header ${JSON.stringify(entry.jwtHeader)}`);
    }
    if (iss !== options.teamId || typeof iat !== "number" || Object.keys(extraClaims).length > 0) {
      throw new Refusal(403, "InvalidProviderToken", `claims ${JSON.stringify(entry.claims)}`);
    }
    const nowS = Math.floor(now() / 1000);
    if (nowS - iat > TOKEN_MAX_AGE_S) {
      throw new Refusal(403, "ExpiredProviderToken", `iat is ${nowS - iat} s old`);
    }
    if (iat > nowS + 60) throw new Refusal(403, "InvalidProviderToken", "iat is in the future");
    if (!tokens.has(entry.providerToken)) {
      if (iat - lastNewIat < TOKEN_MIN_INTERVAL_S) {
        throw new Refusal(
          429,
          "TooManyProviderTokenUpdates",
          `${iat - lastNewIat} s after the last`,
        );
      }
      tokens.set(entry.providerToken, iat);
      lastNewIat = iat;
    }
  }

  function checkHeaders(h: Record<string, string>, raw: string): void {
    const unexpected = Object.keys(h).filter((name) => !HEADERS.has(name));
    if (unexpected.length > 0) {
      throw new Refusal(400, "BadRequest", `unexpected headers ${unexpected.join(", ")}`);
    }
    if (h["apns-topic"] === undefined) throw new Refusal(400, "MissingTopic", "no apns-topic");
    if (h["apns-topic"] !== options.topic) {
      throw new Refusal(400, "TopicDisallowed", `apns-topic ${h["apns-topic"]}`);
    }
    const type = h["apns-push-type"];
    if (type !== "alert" && type !== "background") {
      throw new Refusal(400, "InvalidPushType", `apns-push-type ${type}`);
    }
    const priority = h["apns-priority"];
    if (!(priority === "5" || (priority === "10" && type === "alert"))) {
      throw new Refusal(400, "BadPriority", `apns-priority ${priority} for ${type}`);
    }
    const expiration = h["apns-expiration"];
    if (
      !/^\d+$/.test(expiration ?? "") ||
      (expiration !== "0" && Number(expiration) < Math.floor(now() / 1000))
    ) {
      throw new Refusal(400, "BadExpirationDate", `apns-expiration ${expiration}`);
    }
    const collapse = h["apns-collapse-id"];
    if (
      collapse !== undefined && (collapse === "" || new TextEncoder().encode(collapse).length > 64)
    ) {
      throw new Refusal(400, "BadCollapseId", `apns-collapse-id ${collapse}`);
    }
    if (h["content-type"] !== undefined && h["content-type"] !== "application/json") {
      throw new Refusal(400, "BadRequest", `content-type ${h["content-type"]}`);
    }
    if (new TextEncoder().encode(raw).length > MAX_PAYLOAD) {
      throw new Refusal(413, "PayloadTooLarge", `${raw.length} bytes`);
    }
  }

  function checkBody(body: any, type: string): void {
    const aps = body?.aps;
    if (typeof aps !== "object" || aps === null) throw new Refusal(400, "PayloadEmpty", "no aps");
    if (aps.badge !== undefined && !Number.isInteger(aps.badge)) {
      throw new Refusal(400, "BadRequest", `badge ${aps.badge}`);
    }
    if (type === "background" && (aps["content-available"] !== 1 || aps.alert !== undefined)) {
      throw new Refusal(400, "BadRequest", `background push with aps ${JSON.stringify(aps)}`);
    }
    if (type === "alert" && aps.alert === undefined && aps.badge === undefined) {
      throw new Refusal(400, "BadRequest", `alert push with aps ${JSON.stringify(aps)}`);
    }
  }

  async function check(req: Request, entry: ApnsReceived, raw: string): Promise<void> {
    if (req.method !== "POST") throw new Refusal(405, "MethodNotAllowed", req.method);
    const path = new URL(req.url).pathname.match(/^\/3\/device\/([^/]+)$/);
    if (!path) throw new Refusal(404, "BadPath", new URL(req.url).pathname);
    const auth = entry.headers["authorization"]?.match(/^bearer (\S+)$/);
    if (!auth) throw new Refusal(403, "MissingProviderToken", "no bearer provider token");
    entry.providerToken = auth[1];
    await verifyToken(entry);
    checkHeaders(entry.headers, raw);
    if (!/^[0-9a-f]{64}$/i.test(entry.deviceToken)) {
      throw new Refusal(400, "BadDeviceToken", entry.deviceToken);
    }
    try {
      entry.body = JSON.parse(raw);
    } catch {
      throw new Refusal(400, "PayloadEmpty", "not JSON");
    }
    checkBody(entry.body, entry.headers["apns-push-type"]);
  }

  function answer(entry: ApnsReceived, reply: ApnsReply): Response {
    entry.answered = reply.status;
    entry.reason = reply.reason;
    record(entry);
    const headers = new Headers({ "apns-id": crypto.randomUUID() });
    if (reply.retryAfter !== undefined) headers.set("retry-after", reply.retryAfter);
    if (reply.status === 200) return new Response(null, { status: 200, headers });
    headers.set("content-type", "application/json");
    const body: Record<string, unknown> = { reason: reply.reason };
    if (reply.status === 410) body.timestamp = now();
    return new Response(JSON.stringify(body), { status: reply.status, headers });
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const raw = await req.text();
    const entry: ApnsReceived = {
      deviceToken: decodeURIComponent(new URL(req.url).pathname.split("/").pop() ?? ""),
      headers: Object.fromEntries(req.headers),
      providerToken: "",
      jwtHeader: null,
      claims: null,
      body: undefined,
      answered: 0,
    };
    try {
      await check(req, entry, raw);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      problems.push(`${err.status} ${err.reason}: ${err.message}`);
      return answer(entry, { status: err.status, reason: err.reason });
    }
    return answer(entry, scripts.get(entry.deviceToken)?.shift() ?? { status: 200 });
  });

  async function close(): Promise<void> {
    for (const w of waiters) clearTimeout(w.timer);
    waiters.clear();
    await server.shutdown();
  }

  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    received,
    problems,
    get providerTokens() {
      return tokens.size;
    },
    script(deviceToken, replies) {
      scripts.set(deviceToken, [...(scripts.get(deviceToken) ?? []), ...replies]);
    },
    nthRequest(n, timeoutMs = 5_000) {
      if (received.length >= n) return Promise.resolve(received[n - 1]);
      return new Promise((resolve, reject) => {
        const w = {
          n,
          resolve,
          timer: setTimeout(() => {
            waiters.delete(w);
            reject(
              new Error(
                `the APNs fake had ${received.length} of ${n} requests after ${timeoutMs} ms`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(w);
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
