import * as jose from "jose";

/** A scripted FCM answer: the status, the FCM `errorCode` in the error details, `Retry-After`. */
export interface FcmReply {
  status: number;
  errorCode?: string;
  retryAfter?: string;
}

/** One send request as the fake received it, and what it answered. */
export interface FcmReceived {
  path: string;
  headers: Record<string, string>;
  /** The bearer token from `authorization`. */
  accessToken: string;
  body: any;
  answered: number;
}

/** A local stand-in for the Google OAuth token endpoint and the FCM HTTP v1 send endpoint. */
export interface FakeFcm extends AsyncDisposable {
  /** Where the send endpoint lives (the provider's `baseUrl`). */
  baseUrl: string;
  /** The token endpoint (the service account's `token_uri`, and the assertion's `aud`). */
  tokenUri: string;
  /** Every send request, in order of arrival. */
  received: FcmReceived[];
  /** The claims of every assertion that passed the checks. */
  assertions: jose.JWTPayload[];
  /** Requests a check refused, as "status what: why". */
  problems: string[];
  /** Requests to the token endpoint, accepted or not. */
  readonly tokenRequests: number;
  /** The next answers for one device token, in order; then 200 again. Checks still come first. */
  script(deviceToken: string, replies: FcmReply[]): void;
  /** The next answers of the token endpoint (e.g. a 503), before it issues tokens again. */
  scriptTokenEndpoint(replies: FcmReply[]): void;
  /** Invalidates every access token issued so far (sends with them get 401). */
  revokeAccessTokens(): void;
  /** The `n`-th send request (1-based) once it has arrived; rejects after `timeoutMs` (default 5 s). */
  nthRequest(n: number, timeoutMs?: number): Promise<FcmReceived>;
  close(): Promise<void>;
}

/** What the fake holds the requests to. */
export interface FakeFcmOptions {
  projectId: string;
  clientEmail: string;
  /** Verifies the assertions (the public half of the service account's key under test). */
  publicKey: CryptoKey;
  /** The `expires_in` of issued access tokens; 3600 by default, as Google's. */
  expiresInSeconds?: number;
  /** The fake's clock, shared with the provider's in tests that move time. */
  now?: () => number;
}

/** A fresh RSA 2048 service-account key (PKCS#8 PEM, as in a key file), with its public half. */
export async function generateServiceAccountKey(): Promise<
  { privateKeyPem: string; publicKey: CryptoKey }
> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  return { privateKeyPem: await jose.exportPKCS8(pair.privateKey), publicKey: pair.publicKey };
}

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const ASSERTION_CLAIMS = ["iss", "scope", "aud", "iat", "exp"];
const GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// The headers fetch adds by itself; each endpoint adds the ones it expects.
const TRANSPORT = [
  "host",
  "content-length",
  "accept",
  "accept-encoding",
  "accept-language",
  "user-agent",
];
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** A failed check: the status to answer and why. */
class Refusal extends Error {
  constructor(readonly status: number, why: string) {
    super(why);
  }
}

/**
 * Starts an FCM fake on 127.0.0.1 (a free port) serving both endpoints. The token endpoint checks
 * the header set, the form (exactly `grant_type` and `assertion`) and the assertion: RS256 signature
 * under `publicKey`, claims exactly `iss` = the client email, `scope`, `aud` = its own URL, `iat`, and
 * `exp` not passed and at most an hour after `iat`; it issues opaque tokens with `expires_in`. The send endpoint checks the
 * header set, the project in the path, a bearer token it issued that has not expired (else 401), and
 * the message shape (`token`, string `data`, `android` {priority, ttl "<n>s", collapse_key,
 * notification {title, body, notification_count}} and nothing else) before any script applies.
 */
export function startFakeFcm(options: FakeFcmOptions): FakeFcm {
  const now = options.now ?? Date.now;
  const expiresIn = options.expiresInSeconds ?? 3600;
  const received: FcmReceived[] = [];
  const assertions: jose.JWTPayload[] = [];
  const problems: string[] = [];
  const scripts = new Map<string, FcmReply[]>();
  const tokenScript: FcmReply[] = [];
  const issued = new Map<string, number>(); // access token → expiry (ms)
  let tokenRequests = 0;
  const waiters = new Set<
    { n: number; resolve: (r: FcmReceived) => void; timer: ReturnType<typeof setTimeout> }
  >();
  let base = "";

  function checkHeaderSet(headers: Record<string, string>, expected: string[]): void {
    const allowed = new Set([...TRANSPORT, ...expected]);
    const unexpected = Object.keys(headers).filter((name) => !allowed.has(name));
    if (unexpected.length > 0) {
      throw new Refusal(400, `unexpected headers ${unexpected.join(", ")}`);
    }
  }

  async function token(req: Request): Promise<Response> {
    tokenRequests++;
    const headers = Object.fromEntries(req.headers);
    const raw = await req.text();
    try {
      if (req.method !== "POST") throw new Refusal(405, req.method);
      checkHeaderSet(headers, ["content-type"]);
      if (headers["content-type"] !== "application/x-www-form-urlencoded") {
        throw new Refusal(400, `content-type ${headers["content-type"]}`);
      }
      const form = new URLSearchParams(raw);
      if ([...form.keys()].sort().join() !== "assertion,grant_type") {
        throw new Refusal(400, `form fields ${[...form.keys()].join(", ")}`);
      }
      if (form.get("grant_type") !== GRANT_TYPE) throw new Refusal(400, "grant_type");
      let claims: jose.JWTPayload;
      let header: jose.JWTHeaderParameters;
      try {
        ({ payload: claims, protectedHeader: header } = await jose.jwtVerify(
          form.get("assertion")!,
          options.publicKey,
          {
            algorithms: ["RS256"],
            issuer: options.clientEmail,
            audience: `${base}/token`,
            requiredClaims: ["iat", "exp"],
            currentDate: new Date(now()),
          },
        ));
      } catch (err) {
        throw new Refusal(400, `assertion: ${(err as Error).message}`);
      }
      // A `sub` would ask for domain-wide delegation: only these claims belong in the assertion.
      const extra = Object.keys(claims).filter((k) => !ASSERTION_CLAIMS.includes(k));
      if (extra.length > 0) throw new Refusal(400, `unexpected claims ${extra.join(", ")}`);
      const extraHeader = Object.keys(header).filter((k) => !["alg", "typ", "kid"].includes(k));
      if (extraHeader.length > 0) throw new Refusal(400, `unexpected header ${extraHeader}`);
      if (claims.scope !== SCOPE) throw new Refusal(400, `scope ${claims.scope}`);
      if (claims.exp! - claims.iat! > 3600 || claims.iat! > now() / 1000 + 60) {
        throw new Refusal(400, `iat ${claims.iat}, exp ${claims.exp}: not short-lived and current`);
      }
      assertions.push(claims);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      problems.push(`${err.status} token: ${err.message}`);
      return Response.json({ error: "invalid_grant", error_description: err.message }, {
        status: err.status,
      });
    }
    const scripted = tokenScript.shift();
    if (scripted) {
      return Response.json({ error: "unavailable" }, {
        status: scripted.status,
        headers: scripted.retryAfter ? { "retry-after": scripted.retryAfter } : {},
      });
    }
    const accessToken = `ya29.fake-${crypto.randomUUID()}`;
    issued.set(accessToken, now() + expiresIn * 1000);
    return Response.json({
      access_token: accessToken,
      expires_in: expiresIn,
      token_type: "Bearer",
    });
  }

  function checkMessage(body: any): void {
    const keys = (o: unknown) => Object.keys(o as object);
    const only = (o: unknown, allowed: string[], what: string) => {
      if (typeof o !== "object" || o === null) throw new Refusal(400, `${what} is not an object`);
      const extra = keys(o).filter((k) => !allowed.includes(k));
      if (extra.length > 0) throw new Refusal(400, `${what} has ${extra.join(", ")}`);
    };
    only(body, ["message"], "the body");
    const m = body.message;
    only(m, ["token", "data", "android"], "message");
    if (typeof m.token !== "string" || m.token === "") throw new Refusal(400, "message.token");
    if (m.data !== undefined) {
      if (typeof m.data !== "object" || m.data === null) throw new Refusal(400, "message.data");
      const bad = Object.entries(m.data).find(([, v]) => typeof v !== "string");
      if (bad) throw new Refusal(400, `message.data.${bad[0]} is not a string`);
    }
    only(m.android, ["priority", "ttl", "collapse_key", "notification"], "message.android");
    const a = m.android;
    if (a.priority !== "high" && a.priority !== "normal") throw new Refusal(400, "priority");
    if (!/^\d+s$/.test(a.ttl) || Number(a.ttl.slice(0, -1)) > 2419200) {
      throw new Refusal(400, `ttl ${a.ttl}`);
    }
    if (a.collapse_key !== undefined && typeof a.collapse_key !== "string") {
      throw new Refusal(400, "collapse_key");
    }
    if (a.notification !== undefined) {
      const n = a.notification;
      only(n, ["title", "body", "notification_count"], "message.android.notification");
      for (const k of ["title", "body"]) {
        if (n[k] !== undefined && typeof n[k] !== "string") throw new Refusal(400, k);
      }
      const count = n.notification_count;
      if (count !== undefined && !(Number.isInteger(count) && count >= 0)) {
        throw new Refusal(400, `notification_count ${count}`);
      }
    }
  }

  async function send(req: Request, path: string): Promise<Response> {
    const headers = Object.fromEntries(req.headers);
    const raw = await req.text();
    const entry: FcmReceived = { path, headers, accessToken: "", body: undefined, answered: 0 };
    let reply: FcmReply;
    try {
      if (req.method !== "POST") throw new Refusal(405, req.method);
      if (path !== `/v1/projects/${options.projectId}/messages:send`) {
        throw new Refusal(404, `path ${path}`);
      }
      const bearer = headers["authorization"]?.match(/^Bearer (\S+)$/);
      entry.accessToken = bearer?.[1] ?? "";
      const expiry = issued.get(entry.accessToken);
      if (expiry === undefined || expiry <= now()) {
        throw new Refusal(401, "the access token is missing, unknown, revoked or expired");
      }
      checkHeaderSet(headers, ["authorization", "content-type"]);
      if (headers["content-type"] !== "application/json") {
        throw new Refusal(400, `content-type ${headers["content-type"]}`);
      }
      try {
        entry.body = JSON.parse(raw);
      } catch {
        throw new Refusal(400, "the body is not JSON");
      }
      checkMessage(entry.body);
      reply = scripts.get(entry.body.message.token)?.shift() ?? { status: 200 };
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      problems.push(`${err.status} send: ${err.message}`);
      reply = { status: err.status };
    }
    entry.answered = reply.status;
    record(entry);
    if (reply.status === 200) {
      return Response.json({
        name: `projects/${options.projectId}/messages/${crypto.randomUUID()}`,
      });
    }
    const status = STATUS_NAMES[reply.status] ?? "UNKNOWN";
    const details = reply.errorCode
      ? [{
        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
        errorCode: reply.errorCode,
      }]
      : [];
    return Response.json(
      { error: { code: reply.status, message: `fake ${status}`, status, details } },
      {
        status: reply.status,
        headers: reply.retryAfter ? { "retry-after": reply.retryAfter } : {},
      },
    );
  }

  function record(entry: FcmReceived): void {
    received.push(entry);
    for (const w of waiters) {
      if (received.length < w.n) continue;
      clearTimeout(w.timer);
      waiters.delete(w);
      w.resolve(received[w.n - 1]);
    }
  }

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    return path === "/token" ? token(req) : send(req, path);
  });
  base = `http://127.0.0.1:${server.addr.port}`;

  async function close(): Promise<void> {
    for (const w of waiters) clearTimeout(w.timer);
    waiters.clear();
    await server.shutdown();
  }

  return {
    baseUrl: base,
    tokenUri: `${base}/token`,
    received,
    assertions,
    problems,
    get tokenRequests() {
      return tokenRequests;
    },
    script(deviceToken, replies) {
      scripts.set(deviceToken, [...(scripts.get(deviceToken) ?? []), ...replies]);
    },
    scriptTokenEndpoint(replies) {
      tokenScript.push(...replies);
    },
    revokeAccessTokens() {
      issued.clear();
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
              new Error(`the FCM fake had ${received.length} of ${n} sends after ${timeoutMs} ms`),
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
