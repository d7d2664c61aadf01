import * as jose from "jose";
import { unauthorized } from "../domain/errors.ts";
import type { GlobalRole } from "../domain/types.ts";
import { encodeBase64Url, sha256Hex } from "../domain/encoding.ts";
import type { JwtKey } from "./keys.ts";

/** What a verified access token says. */
export interface AccessClaims {
  userId: string;
  sessionId: string;
  role: GlobalRole;
}

const ALG = "EdDSA";
const TYP = "at+jwt";
const AUDIENCE = "parley-api";

/**
 * Issues and verifies short-lived access tokens: EdDSA JWTs with a `kid`, a fixed accepted algorithm,
 * and checked `iss`, `aud` and `typ` (RFC 8725, RFC 9068). The first key signs; all keys verify, so a
 * key can be rotated without logging anybody out.
 */
export class TokenService {
  readonly #keys: Map<string, JwtKey>;
  readonly #signer: JwtKey;

  constructor(keys: JwtKey[], readonly issuer: string, readonly ttlSeconds: number) {
    this.#keys = new Map(keys.map((k) => [k.kid, k]));
    this.#signer = keys[0];
  }

  /** A signed access token for one session, valid for `ttlSeconds`. */
  async issue(claims: AccessClaims): Promise<string> {
    return await new jose.SignJWT({ sid: claims.sessionId, role: claims.role })
      .setProtectedHeader({ alg: ALG, kid: this.#signer.kid, typ: TYP })
      .setIssuer(this.issuer)
      .setAudience(AUDIENCE)
      .setSubject(claims.userId)
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#signer.privateKey!);
  }

  /** The claims of a valid token; throws 401 `unauthorized` for anything else. */
  async verify(token: string): Promise<AccessClaims> {
    try {
      const { payload } = await jose.jwtVerify(token, (header) => {
        const key = header.kid ? this.#keys.get(header.kid) : undefined;
        if (!key) throw new Error("unknown kid");
        return key.publicKey;
      }, { algorithms: [ALG], issuer: this.issuer, audience: AUDIENCE, typ: TYP });
      if (
        typeof payload.sub !== "string" || typeof payload.sid !== "string" ||
        (payload.role !== "user" && payload.role !== "admin")
      ) throw new Error("missing claims");
      return { userId: payload.sub, sessionId: payload.sid, role: payload.role };
    } catch {
      throw unauthorized("Invalid or expired access token");
    }
  }

  /** The public keys as a JWK Set, for `/.well-known/jwks.json`. */
  jwks(): { keys: jose.JWK[] } {
    return { keys: [...this.#keys.values()].map((k) => k.publicJwk) };
  }
}

/** A new refresh token: 256 random bits, URL-safe. Only its hash is ever stored. */
export function newRefreshToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The stored form of a refresh token. */
export function hashRefreshToken(token: string): Promise<string> {
  return sha256Hex(token);
}
