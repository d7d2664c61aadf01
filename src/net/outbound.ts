import ipaddr from "ipaddr.js";
import type { Logger } from "../observability/logger.ts";

/** Why the guarded client refused a request (it was never sent). */
export type RefusalReason =
  | "bad_url"
  | "scheme"
  | "https_required"
  | "credentials"
  | "private_address"
  | "dns"
  | "too_many_redirects"
  | "too_large"
  | "timeout";

/** A request the guarded client would not make, or a response it would not take. */
export class OutboundRefused extends Error {
  override name = "OutboundRefused";
  constructor(readonly reason: RefusalReason, message: string) {
    super(message);
  }
}

export interface OutboundOptions {
  /** `OUTBOUND_ALLOW_PRIVATE`: loopback, private and link-local targets allowed (development, tests). */
  allowPrivate: boolean;
  /** Production: plain http is refused. */
  httpsOnly: boolean;
  logger: Logger;
  /** Resolves a host name to its addresses (A and AAAA); `Deno.resolveDns` by default. */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Counts refusals by reason (`parley_outbound_refused_total`). */
  onRefused?: (reason: RefusalReason) => void;
  /** The transport (the global `fetch`; tests route made-up public hosts to local servers). */
  fetch?: typeof fetch;
}

/** One request: `fetch`'s, plus the caps of this call. */
export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** Largest response body taken (default 1 MiB); a longer one is refused `too_large`. */
  maxBytes?: number;
  /** Deadline of the whole exchange, redirects and body included (default 5 s). */
  timeoutMs?: number;
  /** Whether to follow redirects (each hop checked again), at most 5; default true. */
  followRedirects?: boolean;
}

/** A response, its body read whole (within the cap). */
export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** The URL that answered (after redirects). */
  url: string;
  body: Uint8Array;
  text(): string;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Names that reach cloud metadata services or this machine whatever DNS says. */
const BLOCKED_NAMES = [
  /^localhost$/,
  /\.localhost$/,
  /^metadata(\.google\.internal)?$/,
  /\.internal$/,
];

/**
 * The one HTTP client for addresses that users or operators supply (push endpoints, webhooks, link
 * previews, an LLM). Before every hop it checks the URL: http(s) only (https only in production), no
 * credentials in it, and a host whose every resolved address is public unicast — no loopback,
 * private, carrier-grade NAT, link-local (cloud metadata lives at 169.254.169.254), unique-local,
 * multicast or reserved ranges, including IPv4 hidden in IPv6 — unless `allowPrivate`. Redirects are
 * followed by hand, at most five, each hop checked again. The body is read up to a cap and the whole
 * exchange has a deadline. A refusal is logged and throws {@link OutboundRefused}; nothing is sent.
 *
 * The check resolves the name itself, then `fetch` resolves it again: a DNS server that answers
 * differently within that instant (rebinding) is not caught. Addresses given as IP literals and every
 * redirect are always checked.
 */
export class OutboundClient {
  readonly #resolve: (hostname: string) => Promise<string[]>;
  readonly #fetch: typeof fetch;

  constructor(private readonly options: OutboundOptions) {
    this.#resolve = options.resolve ?? resolveDns;
    this.#fetch = options.fetch ?? fetch;
  }

  async fetch(url: string, request: OutboundRequest = {}): Promise<OutboundResponse> {
    const timeoutMs = request.timeoutMs ?? 5_000;
    const maxBytes = request.maxBytes ?? 1024 * 1024;
    const signal = AbortSignal.timeout(timeoutMs);
    let target = url;
    let method = request.method ?? "GET";
    let body = request.body;
    try {
      for (let hop = 0;; hop++) {
        const checked = await this.check(target);
        const res = await this.#fetch(checked, {
          method,
          headers: request.headers,
          body,
          redirect: "manual",
          signal,
        });
        const location = res.headers.get("location");
        if (REDIRECTS.has(res.status) && location && request.followRedirects !== false) {
          await res.body?.cancel();
          if (hop >= MAX_REDIRECTS) {
            throw this.#refuse("too_many_redirects", `more than ${MAX_REDIRECTS} redirects`, url);
          }
          target = new URL(location, checked).href;
          // As browsers do: a 303, or a 301/302 after a POST, continues as a GET without a body.
          if (
            res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")
          ) {
            method = "GET";
            body = undefined;
          }
          continue;
        }
        const bytes = await readCapped(
          res,
          maxBytes,
          () => this.#refuse("too_large", `the response is larger than ${maxBytes} bytes`, target),
        );
        return {
          status: res.status,
          headers: res.headers,
          url: checked.href,
          body: bytes,
          text: () => new TextDecoder().decode(bytes),
        };
      }
    } catch (err) {
      if (err instanceof OutboundRefused) throw err;
      if (signal.aborted) {
        throw this.#refuse("timeout", `no complete answer within ${timeoutMs} ms`, target);
      }
      throw err;
    }
  }

  /** The URL if the guard allows a request to it; throws {@link OutboundRefused} otherwise. */
  async check(raw: string): Promise<URL> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw this.#refuse("bad_url", "not a URL", raw);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw this.#refuse("scheme", `${url.protocol} URLs are not fetched`, raw);
    }
    if (url.protocol === "http:" && this.options.httpsOnly) {
      throw this.#refuse("https_required", "only https URLs are fetched in production", raw);
    }
    if (url.username || url.password) {
      throw this.#refuse("credentials", "URLs with credentials are not fetched", raw);
    }
    if (this.options.allowPrivate) return url;
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase().replace(/\.$/, "");
    if (BLOCKED_NAMES.some((pattern) => pattern.test(host))) {
      throw this.#refuse("private_address", `${host} is not a public host`, raw);
    }
    let addresses: string[];
    if (ipaddr.isValid(host)) addresses = [host];
    else {
      try {
        addresses = await this.#resolve(host);
      } catch (err) {
        throw this.#refuse("dns", `${host} does not resolve (${(err as Error).message})`, raw);
      }
      if (addresses.length === 0) throw this.#refuse("dns", `${host} has no address`, raw);
    }
    const inside = addresses.find((a) => !isPublic(a));
    if (inside !== undefined) {
      throw this.#refuse(
        "private_address",
        `${host} points to ${inside}, which is not a public address`,
        raw,
      );
    }
    return url;
  }

  #refuse(reason: RefusalReason, detail: string, url: string): OutboundRefused {
    // Only the origin: a URL's path and query may hold a subscriber's secret (push endpoints do).
    let origin = "(not a URL)";
    try {
      origin = new URL(url).origin;
    } catch { /* keep the placeholder */ }
    this.options.logger.warn("outbound request refused", {
      "outbound.reason": reason,
      "url.origin": origin,
      "error.message": detail,
    });
    this.options.onRefused?.(reason);
    return new OutboundRefused(reason, detail);
  }
}

/** Whether an address is public unicast (IPv4 mapped into IPv6 is judged as the IPv4 it is). */
export function isPublic(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === "unicast";
}

async function resolveDns(hostname: string): Promise<string[]> {
  const [a, aaaa] = await Promise.allSettled([
    Deno.resolveDns(hostname, "A"),
    Deno.resolveDns(hostname, "AAAA"),
  ]);
  const out = [
    ...(a.status === "fulfilled" ? a.value : []),
    ...(aaaa.status === "fulfilled" ? aaaa.value : []),
  ];
  if (out.length === 0 && a.status === "rejected") throw a.reason;
  return out;
}

async function readCapped(
  res: Response,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(); // leaving the loop cancels the body
    parts.push(chunk);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}
