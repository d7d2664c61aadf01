import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { DataKeys, Keyring, messageAad } from "../../src/crypto/envelope.ts";
import { newId } from "../../src/ids.ts";
import { LocalBlobStore } from "../../src/media/blob_store.ts";
import { EncryptedBlobs } from "../../src/media/encrypted_blobs.ts";
import { writeArchive } from "../../src/services/_export_archive.ts";
import { openSqliteStore } from "../../src/store/sqlite/mod.ts";
import { noise } from "../support/media_fixtures.ts";
import { addUser, groupInput, mediaRecord } from "../store/_fixtures.ts";

const MESSAGES = 1100;

Deno.test("writeArchive() pages through a large account and writes while it reads, in small chunks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parley-archive-" });
  const store = openSqliteStore({ path: `${dir}/parley.db` });
  try {
    const keys = new DataKeys(
      store,
      new Keyring(new Map([["k1", crypto.getRandomValues(new Uint8Array(32))]]), "k1"),
    );
    const user = await addUser(store);
    const { conversation: g } = await store.conversations.createConversation(
      groupInput(user.id, []),
    );
    await Promise.all(Array.from({ length: MESSAGES }, async (_, i) => {
      const id = newId();
      const at = new Date(Date.UTC(2026, 1, 1) + i).toISOString();
      const text = `message ${i} ${"·".repeat(300)}`;
      await store.log.commit({
        conversationId: g.id,
        event: "message.created",
        actorId: user.id,
        messageId: id,
        at,
        idempotency: { senderId: user.id, clientMsgId: `c${i}` },
        mutations: [{
          op: "insertMessage",
          message: {
            id,
            conversationId: g.id,
            senderId: user.id,
            clientMsgId: `c${i}`,
            kind: "text",
            body: await keys.sealText(user.id, text, messageAad(g.id, id)),
            mediaIds: [],
            replyTo: null,
            mentions: [],
            system: null,
            editedAt: null,
            deletedAt: null,
            createdAt: at,
          },
        }],
      });
    }));
    const mediaBlobs = new EncryptedBlobs(await LocalBlobStore.open(`${dir}/media`));
    const big = noise(3 * 1024 * 1024 + 17);
    const { keyId, key } = await keys.forWriting(user.id);
    const media = mediaRecord(user.id, {
      kind: "document",
      status: "ready",
      mime: "application/octet-stream",
      size: big.length,
      filename: "big.bin",
      keyId,
    });
    await store.media.createMedia(media);
    await mediaBlobs.write(key, media.id, "main", big);

    // Every store read and every write of the archive, in the order they happen.
    const trace: string[] = [];
    const privacy = new Proxy(store.privacy, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (prop === "listSentMessages") {
            const options = args[1] as { limit: number };
            assert.ok(options.limit <= 200, "pages, never everything");
            trace.push("page");
          }
          return value.apply(target, args);
        };
      },
    });
    const watched = { ...store, privacy };
    const chunks: Uint8Array[] = [];
    await writeArchive(
      { store: watched, dataKeys: keys, mediaBlobs },
      (await store.accounts.getUser(user.id))!,
      (chunk) => {
        trace.push("write");
        chunks.push(chunk.slice());
        return Promise.resolve();
      },
      new Date(),
    );
    const pages = trace.filter((t) => t === "page").length;
    assert.ok(pages >= Math.ceil(MESSAGES / 200), `${pages} pages of messages`);
    assert.ok(
      trace.indexOf("write") < trace.lastIndexOf("page"),
      "archive bytes go out before the last page is read",
    );
    const largest = Math.max(...chunks.map((c) => c.length));
    assert.ok(largest <= 256 * 1024, `chunks stay small (largest ${largest} bytes)`);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    assert.ok(total > big.length, "the 3 MiB file went through");

    const zip = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      zip.set(c, at);
      at += c.length;
    }
    const files = unzipSync(zip);
    const lines = new TextDecoder().decode(files[`messages/${g.id}.jsonl`]).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, MESSAGES);
    assert.deepEqual(lines.map((l) => l.seq), [...lines.map((l) => l.seq)].sort((a, b) => a - b));
    assert.ok(lines.every((l) => /^message \d+ /.test(l.text)), "texts decrypted");
    assert.deepEqual(files[`media/${media.id}/big.bin`], big);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
