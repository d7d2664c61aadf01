import assert from "node:assert/strict";
import { generateKeyValues } from "../../src/crypto/keys.ts";
import { S3BlobStore } from "../../src/media/s3_blob_store.ts";
import { fetchLink, filesUnder, settled, upload } from "../support/media.ts";
import { jpeg } from "../support/media_fixtures.ts";
import { dataDirHits, downloadArchive, exportReady, textNeedle } from "../support/privacy.ts";
import { spawnServer } from "../support/process.ts";
import { startS3 } from "../support/s3.ts";
import { eventually } from "../support/wait.ts";
import {
  assertProblem,
  Client,
  createGroup,
  ok,
  registerUser,
  sendMessage,
  serverTest,
  startServer,
} from "../support/server.ts";

// Two instances that share only what a real deployment shares — the database (the shared SQLite
// file stands in for MongoDB) and the bucket — with their own DATA_DIR each: a file uploaded
// through one is served through the other.

Deno.test({
  name:
    "s3: an upload through one instance downloads through the other's signed link, with Range; " +
    "exports too",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using s3 = await startS3();
    const shared = await Deno.makeTempDir({ prefix: "parley-shared-db-" });
    const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
    const keys = await generateKeyValues();
    const env = (dataDir: string) => ({
      ...keys,
      ...s3.env,
      DATA_DIR: dataDir,
      SQLITE_PATH: `${shared}/parley.db`,
    });
    const one = await spawnServer(env(dirs[0]));
    const two = await spawnServer(env(dirs[1]));
    try {
      const alice = await registerUser(one.url);
      const photo = await jpeg(640, 480);
      const res = await upload(alice.client, photo, { type: "image/jpeg", filename: "p.jpg" });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const ready = await settled(alice.client, res.body.id);
      assert.equal(ready.status, "ready");

      const aliceOnTwo = { ...alice, client: new Client(two.url, alice.accessToken) };
      const viaTwo = ok(await aliceOnTwo.client.get(`/v1/media/${ready.id}`)).body;
      assert.equal(viaTwo.status, "ready");
      const whole = await fetchLink(one.url, ready.url);
      assert.equal(whole.status, 200);
      const part = await fetchLink(two.url, viaTwo.url, { range: "bytes=100-1099" });
      assert.equal(part.status, 206);
      assert.deepEqual(part.bytes, whole.bytes.subarray(100, 1100));
      // Nothing of the file is on either instance's disk: it is in the bucket only.
      for (const dir of dirs) {
        const media = await Deno.stat(`${dir}/media`).then(() => true, () => false);
        assert.equal(media, false, `no local media directory under ${dir}`);
      }

      // A document is stored byte for byte by Parley, encrypted: the bucket holds none of it.
      const canary = new TextEncoder().encode("bucket-canary-" + "plaintext ".repeat(200));
      const doc = await upload(alice.client, canary, { type: "text/plain", filename: "c.txt" });
      assert.equal(doc.status, 201, JSON.stringify(doc.body));
      const hits = await dataDirHits(s3.directory, [textNeedle("bucket-canary-")]);
      assert.deepEqual(hits, [], "no plaintext in the bucket");
      assert.ok((await filesUnder(s3.directory)).length > 0, "the bucket is not empty");

      // An export made by instance two is downloaded through instance one.
      const done = await exportReady(aliceOnTwo, 60_000);
      assert.equal(done.status, "ready");
      const archive = await downloadArchive(one.url, done.url);
      assert.equal(archive.status, 200);
      assert.ok(archive.files["profile.json"]);
    } finally {
      one.kill("SIGKILL");
      two.kill("SIGKILL");
      await Promise.all([one.exited, two.exited]);
      for (const dir of [shared, ...dirs]) await Deno.remove(dir, { recursive: true });
    }
  },
});

serverTest(
  "s3: erasure and retention delete the objects from the bucket",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    await using s3 = await startS3();
    await using s = await startServer(s3.env);
    const bucket = new S3BlobStore(s3.options("media/"));
    const u = await registerUser(s.url);
    const friend = await registerUser(s.url);
    const g = await createGroup(u, "Kept a day", [friend]);
    const up = await upload(u.client, await jpeg(200, 200), { type: "image/jpeg" });
    const media = await settled(u.client, up.body.id);
    await sendMessage(u, g.id, { mediaIds: [media.id] });
    assert.ok(await bucket.open(`${media.id}/main`), "stored in the bucket");
    ok(await u.client.patch(`/v1/conversations/${g.id}`, { retentionDays: 1 }));
    await s.parley.services.sweeper.sweep(new Date(Date.now() + 2 * 86_400_000));
    assert.equal(await bucket.open(`${media.id}/main`), null, "retention removed it");

    const second = await settled(
      u.client,
      (await upload(u.client, await jpeg(120, 120), { type: "image/jpeg" })).body.id,
    );
    assert.ok(await bucket.open(`${second.id}/main`));
    ok(await u.client.request("DELETE", "/v1/users/me", { password: u.password }), 204);
    assert.equal(await bucket.open(`${second.id}/main`), null, "erasure removed it");
  },
);

serverTest(
  "s3: with the bucket down, uploads and downloads answer 503 with Retry-After",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const s3 = await startS3();
    await using s = await startServer({ ...s3.env, S3_TIMEOUT_MS: "2000" });
    const u = await registerUser(s.url);
    const media = await settled(
      u.client,
      (await upload(u.client, await jpeg(100, 100), { type: "image/jpeg" })).body.id,
    );
    await s3.close();
    const up = await upload(u.client, await jpeg(100, 100), { type: "image/jpeg" });
    assertProblem(up, 503, "unavailable");
    assert.ok(Number(up.headers.get("retry-after")) >= 1);
    const down = await fetchLink(s.url, media.url);
    assert.equal(down.status, 503);
    assert.ok(Number(down.headers.get("retry-after")) >= 1);
    const ready = await fetch(`${s.url}/readyz`);
    assert.equal(ready.status, 503, "readiness reports the bucket");
    await ready.body?.cancel();
  },
);

serverTest(
  "s3: a file whose delete failed while the bucket was down is removed by a retried job",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    await using s3 = await startS3();
    await using s = await startServer({ ...s3.env, S3_TIMEOUT_MS: "1000" });
    const bucket = new S3BlobStore(s3.options("media/"));
    const u = await registerUser(s.url);
    const friend = await registerUser(s.url);
    const g = await createGroup(u, "Flaky bucket", [friend]);
    const media = await settled(
      u.client,
      (await upload(u.client, await jpeg(160, 120), { type: "image/jpeg" })).body.id,
    );
    const m = await sendMessage(u, g.id, { mediaIds: [media.id] });
    await s3.down();
    ok(await u.client.delete(`/v1/conversations/${g.id}/messages/${m.id}?for=everyone`), 204);
    assert.ok(await s.parley.store.jobs.getByKey(`media-release:${media.id}`), "a retry is queued");
    await s3.up();
    await eventually(
      "the media record is gone",
      () => s.parley.store.media.getMedia(media.id),
      (r) => r === null,
      { timeoutMs: 30_000, everyMs: 200 },
    );
    assert.equal(await bucket.open(`${media.id}/main`), null, "and its file");
  },
);
