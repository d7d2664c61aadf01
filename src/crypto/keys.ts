import * as jose from "jose";
import { generateVapidKeys } from "../push/webpush.ts";
import { type Config, ConfigError } from "../config.ts";
import { decodeBase64, encodeBase64 } from "../domain/encoding.ts";

/** A JWT signing key pair (Ed25519) with its key id. */
export interface JwtKey {
  kid: string;
  privateKey?: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: jose.JWK;
}

/** All key material one instance needs, resolved from the environment or the development key file. */
export interface Keys {
  /** The first key signs; every key verifies, so old tokens stay valid while keys rotate. */
  jwt: JwtKey[];
  /** Key-encryption keys by id (raw 32 bytes each); `activeKeyId` wraps new data keys. */
  encryption: { keys: Map<string, Uint8Array>; activeKeyId: string };
  /** HMAC-SHA-256 key for signed media links. */
  urlSigning: Uint8Array;
}

interface KeyFile {
  jwt: jose.JWK[];
  encryption: Record<string, string>;
  encryptionActive: string;
  urlSigning: string;
}

/**
 * Resolves the keys. Values from the environment always win and are validated the same way in every
 * mode. In development, missing keys are generated once into `DATA_DIR/keys.json` (0600) and reused by
 * every instance sharing that directory; in production a missing or weak key throws a
 * {@link ConfigError} naming the variable.
 */
export async function loadKeys(config: Config): Promise<Keys> {
  const src = config.keySources;
  let file: KeyFile | undefined;
  const needFile = !src.jwtKeys || !src.encryptionKeys || !src.urlSigningKey;
  if (needFile) {
    if (config.env === "production") {
      const missing = !src.jwtKeys
        ? "JWT_KEYS"
        : !src.encryptionKeys
        ? "ENCRYPTION_KEYS"
        : "URL_SIGNING_KEY";
      throw new ConfigError(
        `invalid configuration: ${missing} is required in production (generate values with: deno task keys:generate)`,
      );
    }
    file = await readOrCreateKeyFile(config.dataDir);
  }
  const jwt = await parseJwtKeys(src.jwtKeys ?? JSON.stringify(file!.jwt), "JWT_KEYS");
  const encryption = src.encryptionKeys
    ? parseEncryptionKeys(src.encryptionKeys, src.encryptionActiveKeyId)
    : {
      keys: new Map(Object.entries(file!.encryption).map(([id, b64]) => [id, decodeBase64(b64)])),
      activeKeyId: src.encryptionActiveKeyId ?? file!.encryptionActive,
    };
  if (!encryption.keys.has(encryption.activeKeyId)) {
    throw new ConfigError(
      `invalid configuration: ENCRYPTION_ACTIVE_KEY_ID: no key named ${
        JSON.stringify(encryption.activeKeyId)
      } in ENCRYPTION_KEYS`,
    );
  }
  const urlSigning = src.urlSigningKey
    ? parseSecret(src.urlSigningKey, "URL_SIGNING_KEY")
    : decodeBase64(file!.urlSigning);
  return { jwt, encryption, urlSigning };
}

/** Fresh production key values, printed by `deno task keys:generate`. */
export async function generateKeyValues(): Promise<Record<string, string>> {
  const file = await newKeyFile();
  const vapid = await generateVapidKeys();
  return {
    JWT_KEYS: JSON.stringify(file.jwt),
    ENCRYPTION_KEYS: Object.entries(file.encryption).map(([id, k]) => `${id}:${k}`).join(","),
    ENCRYPTION_ACTIVE_KEY_ID: file.encryptionActive,
    URL_SIGNING_KEY: file.urlSigning,
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
  };
}

async function newKeyFile(): Promise<KeyFile> {
  const stamp = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const { privateKey } = await jose.generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  const kid = `jwt-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
  const encId = `k-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
  return {
    jwt: [{ ...jwk, kid, alg: "EdDSA", use: "sig" }],
    encryption: { [encId]: encodeBase64(crypto.getRandomValues(new Uint8Array(32))) },
    encryptionActive: encId,
    urlSigning: encodeBase64(crypto.getRandomValues(new Uint8Array(32))),
  };
}

function readOrCreateKeyFile(dataDir: string): Promise<KeyFile> {
  return readOrCreateSecretFile(`${dataDir}/keys.json`, newKeyFile);
}

/**
 * Development secrets kept in `path` (0600): read when present, else made by `make` and written once
 * for every instance sharing the directory.
 */
export async function readOrCreateSecretFile<T>(path: string, make: () => Promise<T>): Promise<T> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")) || ".", { recursive: true });
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  // Write beside, then hard-link into place: link fails if another instance won the race, and a
  // reader never sees a half-written file.
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(await make(), null, 2), { mode: 0o600 });
  try {
    await Deno.link(temp, path);
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  } finally {
    await Deno.remove(temp);
  }
  return JSON.parse(await Deno.readTextFile(path));
}

async function parseJwtKeys(raw: string, name: string): Promise<JwtKey[]> {
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new ConfigError(`invalid configuration: ${name}: must be a JSON array of Ed25519 JWKs`);
  }
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(`invalid configuration: ${name}: must be a non-empty JSON array of JWKs`);
  }
  const keys: JwtKey[] = [];
  for (const [i, jwk] of list.entries()) {
    if (
      typeof jwk !== "object" || jwk === null || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" ||
      typeof jwk.kid !== "string" || !jwk.kid || typeof jwk.x !== "string"
    ) {
      throw new ConfigError(
        `invalid configuration: ${name}[${i}]: must be an Ed25519 JWK (kty OKP, crv Ed25519) with a kid`,
      );
    }
    if (i === 0 && typeof jwk.d !== "string") {
      throw new ConfigError(
        `invalid configuration: ${name}[0]: the first key signs, so it must include the private part "d"`,
      );
    }
    const { d: _d, ...pub } = jwk;
    try {
      keys.push({
        kid: jwk.kid,
        privateKey: typeof jwk.d === "string"
          ? asymmetric(await jose.importJWK({ ...jwk, alg: "EdDSA" }, "EdDSA"))
          : undefined,
        publicKey: asymmetric(await jose.importJWK({ ...pub, alg: "EdDSA" }, "EdDSA")),
        publicJwk: { kty: pub.kty, crv: pub.crv, x: pub.x, kid: pub.kid, alg: "EdDSA", use: "sig" },
      });
    } catch {
      throw new ConfigError(`invalid configuration: ${name}[${i}]: not a valid Ed25519 key`);
    }
  }
  return keys;
}

function parseEncryptionKeys(raw: string, active: string | undefined) {
  const keys = new Map<string, Uint8Array>();
  for (const part of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
    const at = part.indexOf(":");
    const id = part.slice(0, at);
    if (at < 1 || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
      throw new ConfigError(
        `invalid configuration: ENCRYPTION_KEYS: each entry must be <id>:<base64 of 32 random bytes>`,
      );
    }
    const key = parseSecret(part.slice(at + 1), `ENCRYPTION_KEYS (key ${id})`);
    if (key.length !== 32) {
      throw new ConfigError(
        `invalid configuration: ENCRYPTION_KEYS (key ${id}): must be exactly 32 bytes for AES-256`,
      );
    }
    keys.set(id, key);
  }
  if (keys.size === 0) {
    throw new ConfigError(`invalid configuration: ENCRYPTION_KEYS: no keys given`);
  }
  return { keys, activeKeyId: active ?? keys.keys().next().value! };
}

/** Decodes a base64 secret and refuses short or obviously non-random ones. */
function parseSecret(raw: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64(raw.trim());
  } catch {
    throw new ConfigError(`invalid configuration: ${name}: must be base64`);
  }
  if (bytes.length < 32) {
    throw new ConfigError(
      `invalid configuration: ${name}: too short, need at least 32 random bytes`,
    );
  }
  if (new Set(bytes).size < 16) {
    throw new ConfigError(`invalid configuration: ${name}: too weak, use 32 random bytes`);
  }
  return bytes;
}

/** An imported OKP key is a CryptoKey (only an `oct` JWK imports as bytes). */
function asymmetric(key: Awaited<ReturnType<typeof jose.importJWK>>): CryptoKey {
  if (key instanceof Uint8Array) throw new Error("expected an asymmetric key");
  return key as CryptoKey;
}
