import { decodeBase64, encodeBase64Url } from "../domain/encoding.ts";

/** The variants a signed link may point at, and the path segment that serves each. */
export const LINK_PATHS = { main: "content", thumb: "thumbnail" } as const;
/** A variant that may be downloaded. */
export type LinkVariant = keyof typeof LINK_PATHS;

const encoder = new TextEncoder();

/** The resource a media link signs (see {@link UrlSigner.link}); `variant` is `main` or `thumb`. */
function mediaResource(mediaId: string, variant: LinkVariant): string {
  return `media-url:v1:${mediaId}:${variant}`;
}

/**
 * Issues and checks expiring media links (`/v1/media/<id>/content?exp=&sig=`). A link names one
 * variant of one item and works without credentials until `exp`; any change to id, variant or expiry
 * breaks the signature.
 */
export class UrlSigner {
  #key: Promise<CryptoKey>;

  constructor(
    secret: Uint8Array,
    private readonly ttl: number,
    /** Prefix of every link: PUBLIC_URL, or "" for links relative to the API's origin. */
    private readonly base: string,
  ) {
    this.#key = crypto.subtle.importKey(
      "raw",
      secret as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }

  /** Seconds a link lives for by default (MEDIA_URL_TTL_SECONDS). */
  get ttlSeconds(): number {
    return this.ttl;
  }

  /** A link to `variant` of `mediaId`, valid for the configured TTL from `now` (ms). */
  async sign(mediaId: string, variant: LinkVariant, now = Date.now()): Promise<string> {
    const exp = Math.floor(now / 1000) + this.ttl;
    return await this.link(
      `/v1/media/${mediaId}/${LINK_PATHS[variant]}`,
      mediaResource(mediaId, variant),
      exp,
    );
  }

  /** True when `sig` signs this id, variant and `exp`, and `exp` has not passed at `now` (ms). */
  verify(
    mediaId: string,
    variant: LinkVariant,
    exp: string,
    sig: string,
    now = Date.now(),
  ): Promise<boolean> {
    return this.verifyResource(mediaResource(mediaId, variant), exp, sig, now);
  }

  /**
   * A link to `path` (under the base) signed for `resource` until `exp` (Unix seconds): the
   * HMAC-SHA-256 of `parley:<resource>:<exp>` under the URL-signing key, in unpadded base64url. Media links use `media-url:v1:<id>:<variant>`, export archives
   * `export-url:v1:<id>`.
   */
  async link(path: string, resource: string, exp: number): Promise<string> {
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      encoder.encode(`parley:${resource}:${exp}`),
    );
    return `${this.base}${path}?exp=${exp}&sig=${encodeBase64Url(new Uint8Array(mac))}`;
  }

  /** True when `sig` signs `resource` with `exp`, and `exp` has not passed at `now` (ms). */
  async verifyResource(resource: string, exp: string, sig: string, now = Date.now()) {
    if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= now) return false;
    let mac: Uint8Array;
    try {
      mac = decodeBase64(sig);
    } catch {
      return false;
    }
    if (mac.length !== 32 || /[^A-Za-z0-9_-]/.test(sig)) return false;
    return await crypto.subtle.verify(
      "HMAC",
      await this.#key,
      mac as BufferSource,
      encoder.encode(`parley:${resource}:${Number(exp)}`),
    );
  }
}
