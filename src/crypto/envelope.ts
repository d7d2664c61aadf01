import type { SealedText } from "../domain/types.ts";
import { newId, nowIso } from "../ids.ts";
import type { Store, UserKeyRecord } from "../store/store.ts";

const VERSION = 1;
const NONCE_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Raised when a record cannot be decrypted: wrong key, wrong context (AAD), or tampered bytes. */
export class DecryptionError extends Error {
  override name = "DecryptionError";
}

async function importAes(raw: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/**
 * AES-256-GCM with a fresh random 96-bit nonce. Output: version byte, nonce, ciphertext with tag.
 * `aad` binds the ciphertext to its context (e.g. conversation and message id): a ciphertext copied to
 * another record fails to open.
 */
export async function seal(key: CryptoKey, plain: Uint8Array, aad: string): Promise<Uint8Array> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: encoder.encode(aad) },
      key,
      plain as BufferSource,
    ),
  );
  const out = new Uint8Array(1 + NONCE_BYTES + ct.length);
  out[0] = VERSION;
  out.set(nonce, 1);
  out.set(ct, 1 + NONCE_BYTES);
  return out;
}

/** Opens what {@link seal} made; throws {@link DecryptionError} on any mismatch. */
export async function open(key: CryptoKey, blob: Uint8Array, aad: string): Promise<Uint8Array> {
  if (blob.length < 1 + NONCE_BYTES + 16 || blob[0] !== VERSION) {
    throw new DecryptionError("unknown ciphertext format");
  }
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: blob.subarray(1, 1 + NONCE_BYTES) as BufferSource,
          additionalData: encoder.encode(aad),
        },
        key,
        blob.subarray(1 + NONCE_BYTES) as BufferSource,
      ),
    );
  } catch {
    throw new DecryptionError("ciphertext does not open with this key and context");
  }
}

/**
 * The key-encryption keys (KEKs) from `ENCRYPTION_KEYS`. They never touch content: they wrap the
 * per-user data keys, so rotating a KEK means re-wrapping small records, and destroying a user's data
 * key (crypto-shredding) makes every copy of their content unreadable.
 */
export class Keyring {
  #keys = new Map<string, Promise<CryptoKey>>();

  constructor(keys: Map<string, Uint8Array>, readonly activeKeyId: string) {
    for (const [id, raw] of keys) this.#keys.set(id, importAes(raw));
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  async wrap(
    userId: string,
    dekId: string,
    dek: Uint8Array,
  ): Promise<{ kekId: string; wrapped: Uint8Array }> {
    const kek = await this.#keys.get(this.activeKeyId)!;
    return {
      kekId: this.activeKeyId,
      wrapped: await seal(kek, dek, `parley:dek:v1:${userId}:${dekId}`),
    };
  }

  async unwrap(record: UserKeyRecord): Promise<Uint8Array> {
    const kek = this.#keys.get(record.kekId);
    if (!kek) {
      throw new DecryptionError(`key-encryption key ${record.kekId} is not in ENCRYPTION_KEYS`);
    }
    return await open(await kek, record.wrapped, `parley:dek:v1:${record.userId}:${record.id}`);
  }
}

const CACHE_LIMIT = 10_000;

/**
 * Per-user data keys (DEKs): created on first use, stored wrapped by the keyring, cached unwrapped in
 * memory. A destroyed key reads as `null`, and what it encrypted is gone for good.
 */
export class DataKeys {
  #byId = new Map<string, Promise<CryptoKey | null>>();
  #current = new Map<string, Promise<{ keyId: string; key: CryptoKey }>>();

  constructor(private readonly store: Pick<Store, "accounts">, readonly keyring: Keyring) {}

  /** The key new content of `userId` is encrypted under. */
  forWriting(userId: string): Promise<{ keyId: string; key: CryptoKey }> {
    let p = this.#current.get(userId);
    if (!p) {
      p = this.#loadCurrent(userId);
      p.catch(() => this.#current.delete(userId));
      remember(this.#current, userId, p);
    }
    return p;
  }

  async #loadCurrent(userId: string) {
    const record = await this.store.accounts.ensureUserKey(userId, async () => {
      const id = newId();
      const raw = crypto.getRandomValues(new Uint8Array(32));
      const { kekId, wrapped } = await this.keyring.wrap(userId, id, raw);
      return { id, userId, wrapped, kekId, createdAt: nowIso() };
    });
    const key = await importAes(await this.keyring.unwrap(record));
    remember(this.#byId, record.id, Promise.resolve(key));
    return { keyId: record.id, key };
  }

  /** The key with id `keyId`, or null when it was destroyed. */
  forReading(keyId: string): Promise<CryptoKey | null> {
    let p = this.#byId.get(keyId);
    if (!p) {
      p = this.store.accounts.getUserKey(keyId).then(async (record) =>
        record ? await importAes(await this.keyring.unwrap(record)) : null
      );
      p.catch(() => this.#byId.delete(keyId));
      remember(this.#byId, keyId, p);
    }
    return p;
  }

  /** Drops cached keys of a user (after their keys were destroyed or rotated). */
  forget(userId: string, keyIds: string[] = []): void {
    this.#current.delete(userId);
    for (const id of keyIds) this.#byId.delete(id);
  }

  /** Encrypts `text` for `ownerId` bound to `aad`. */
  async sealText(ownerId: string, text: string, aad: string): Promise<SealedText> {
    const { keyId, key } = await this.forWriting(ownerId);
    return { keyId, blob: await seal(key, encoder.encode(text), aad) };
  }

  /** Decrypts a sealed text; null when its key was destroyed (crypto-shredded). */
  async openText(sealed: SealedText, aad: string): Promise<string | null> {
    const key = await this.forReading(sealed.keyId);
    if (!key) return null;
    return decoder.decode(await open(key, sealed.blob, aad));
  }
}

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  if (map.size >= CACHE_LIMIT) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** The additional authenticated data of a message body. */
export function messageAad(conversationId: string, messageId: string): string {
  return `parley:msg:v1:${conversationId}:${messageId}`;
}
