import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DataKeys,
  DecryptionError,
  Keyring,
  messageAad,
  open,
  seal,
} from "../../src/crypto/envelope.ts";
import type { Store, UserKeyRecord } from "../../src/store/store.ts";
import { encodeBase64Url } from "../../src/domain/encoding.ts";
import { registerUser, startServer, tempDir } from "../support/server.ts";
import { sanitized } from "../support/sanitizers.ts";

/** Every regular file under `dir`, recursively (database, -wal and -shm files, keys, media). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** The files under `dir` whose bytes contain the UTF-8 of any of `texts`. */
async function plaintextHits(dir: string, texts: string[]): Promise<string[]> {
  const needles = texts.map((t) => ({ t, bytes: new TextEncoder().encode(t) }));
  const hits: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await Deno.readFile(file);
    for (const { t, bytes: needle } of needles) {
      if (indexOfBytes(bytes, needle) >= 0) hits.push(`${file}: ${t}`);
    }
  }
  return hits;
}

Deno.test(
  "message texts and edits never reach the data directory in plain text (db, -wal, -shm)",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-enc-");
    const dataDir = dir.path;
    await using s = await startServer({ DATA_DIR: dataDir });
    const a = await registerUser(s.url);
    const b = await registerUser(s.url);
    const conv = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id }))
      .body.id;
    const texts = [
      "zebra-quokka-7f3a plaintext canary",
      "Geheimnis über Käsekuchen ☕ 42",
      "秘密のメッセージ 🦄🔐",
      "edited-canary-91c2 after the fact",
    ];
    const first = await a.client.post(`/v1/conversations/${conv}/messages`, {
      clientMsgId: "enc-1",
      text: texts[0],
    });
    assert.equal(first.status, 201);
    for (const [i, text] of texts.slice(1, 3).entries()) {
      const res = await b.client.post(`/v1/conversations/${conv}/messages`, {
        clientMsgId: `enc-${i + 2}`,
        text,
      });
      assert.equal(res.status, 201);
    }
    const edit = await a.client.patch(
      `/v1/conversations/${conv}/messages/${first.body.message.id}`,
      { text: texts[3] },
    );
    assert.equal(edit.status, 200);
    // The server does read them back: the scan is not vacuous.
    const history = await b.client.get(`/v1/conversations/${conv}/messages`);
    const seen = history.body.messages.map((m: any) => m.text);
    assert.deepEqual(seen.filter((t: string) => texts.includes(t)).sort(), texts.slice(1).sort());

    const files = await filesUnder(dataDir);
    assert.ok(files.some((f) => f.endsWith("-wal")), `a WAL file exists: ${files.join(", ")}`);
    assert.deepEqual(await plaintextHits(dataDir, texts), [], "while running");
    // The check itself finds a planted canary.
    await Deno.writeTextFile(join(dataDir, "canary.txt"), texts[0]);
    assert.equal((await plaintextHits(dataDir, texts)).length, 1);
    await Deno.remove(join(dataDir, "canary.txt"));

    await s.close();
    assert.deepEqual(await plaintextHits(dataDir, texts), [], "after shutdown (checkpointed)");
  },
);

async function aesKey(): Promise<CryptoKey> {
  return await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
}

const plain = new TextEncoder().encode("the body of a message");

Deno.test("seal() output copied onto another message id fails to open with DecryptionError", async () => {
  const key = await aesKey();
  const blob = await seal(key, plain, messageAad("conv-1", "msg-1"));
  assert.deepEqual(await open(key, blob, messageAad("conv-1", "msg-1")), plain);
  await assert.rejects(open(key, blob, messageAad("conv-1", "msg-2")), DecryptionError);
  await assert.rejects(open(key, blob, messageAad("conv-2", "msg-1")), DecryptionError);
});

Deno.test("open() rejects a sealed body with any single byte changed", async () => {
  const key = await aesKey();
  const aad = messageAad("conv", "msg");
  const blob = await seal(key, plain, aad);
  for (let i = 0; i < blob.length; i++) {
    const tampered = blob.slice();
    tampered[i] ^= 0x01;
    await assert.rejects(open(key, tampered, aad), DecryptionError, `byte ${i}`);
  }
  await assert.rejects(open(key, blob.subarray(0, blob.length - 1), aad), DecryptionError);
  await assert.rejects(open(key, new Uint8Array(0), aad), DecryptionError);
});

Deno.test("open() rejects a body sealed under another key", async () => {
  const aad = messageAad("conv", "msg");
  const blob = await seal(await aesKey(), plain, aad);
  await assert.rejects(open(await aesKey(), blob, aad), DecryptionError);
});

Deno.test("seal() uses a fresh nonce each time: the same text twice gives different ciphertexts", async () => {
  const key = await aesKey();
  const aad = messageAad("conv", "msg");
  const blobs = await Promise.all(Array.from({ length: 50 }, () => seal(key, plain, aad)));
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  assert.equal(new Set(blobs.map(hex)).size, 50, "ciphertexts differ");
  assert.equal(new Set(blobs.map((b) => hex(b.subarray(1, 13)))).size, 50, "nonces differ");
  for (const b of blobs) assert.deepEqual(await open(key, b, aad), plain);
});

/** Just enough of a store for DataKeys: user keys in memory. */
function keyStore(): Pick<Store, "accounts"> {
  const keys = new Map<string, UserKeyRecord>();
  const byUser = new Map<string, UserKeyRecord>();
  const accounts = {
    async ensureUserKey(userId: string, make: () => Promise<UserKeyRecord>) {
      let record = byUser.get(userId);
      if (!record) {
        record = await make();
        byUser.set(userId, record);
        keys.set(record.id, record);
      }
      return record;
    },
    getUserKey(keyId: string) {
      return Promise.resolve(keys.get(keyId) ?? null);
    },
  };
  return { accounts: accounts as unknown as Store["accounts"] };
}

Deno.test("DataKeys.sealText() binds a body to its message: another id, user key or byte fails", async () => {
  const keyring = new Keyring(new Map([["k1", crypto.getRandomValues(new Uint8Array(32))]]), "k1");
  const keys = new DataKeys(keyStore(), keyring);
  const aad = messageAad("conv", "msg-1");
  const sealed = await keys.sealText("alice", "hello 👋🏽", aad);
  assert.equal(await keys.openText(sealed, aad), "hello 👋🏽");
  await assert.rejects(keys.openText(sealed, messageAad("conv", "msg-2")), DecryptionError);
  const bobs = await keys.sealText("bob", "hello 👋🏽", aad);
  assert.notEqual(bobs.keyId, sealed.keyId, "each user has their own data key");
  await assert.rejects(
    keys.openText({ keyId: bobs.keyId, blob: sealed.blob }, aad),
    DecryptionError,
  );
  const tampered = sealed.blob.slice();
  tampered[tampered.length - 1] ^= 0x80;
  await assert.rejects(keys.openText({ ...sealed, blob: tampered }, aad), DecryptionError);
  const again = await keys.sealText("alice", "hello 👋🏽", aad);
  assert.notDeepEqual(again.blob, sealed.blob, "a fresh nonce per seal");
});

Deno.test(
  "push endpoints, keys and keywords never reach the data directory in plain text",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-enc-push-");
    await using s = await startServer({ DATA_DIR: dir.path, OUTBOUND_ALLOW_PRIVATE: "true" });
    const b = await registerUser(s.url);
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
      "deriveBits",
    ]);
    const p256dh = encodeBase64Url(
      new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
    );
    const auth = encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)));
    const endpoint = "http://127.0.0.1:9/push/endpoint-canary-5d1e";
    const sub = await b.client.post("/v1/push/subscriptions", {
      kind: "webpush",
      endpoint,
      keys: { p256dh, auth },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const set = await b.client.put("/v1/users/me/notifications", {
      keywords: ["keyword-canary-8812"],
    });
    assert.deepEqual(set.body.keywords, ["keyword-canary-8812"], "read back: not vacuous");
    const secrets = ["endpoint-canary-5d1e", p256dh, auth, "keyword-canary-8812"];
    assert.deepEqual(await plaintextHits(dir.path, secrets), [], "while running");
    await s.close();
    assert.deepEqual(await plaintextHits(dir.path, secrets), [], "after shutdown (checkpointed)");
  },
);
