import assert from "node:assert/strict";
import { fetchLink, settled, upload } from "../support/media.ts";
import { jpeg } from "../support/media_fixtures.ts";
import { startS3 } from "../support/s3.ts";
import { Client, ok, serverTest, startServer, tempDir } from "../support/server.ts";
import { registerUser } from "../support/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function migrate(env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/blobs_migrate.ts"],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
  return text;
}

serverTest(
  "blobs:migrate copies a local deployment's blobs into the bucket, verified and resumable; " +
    "the deployment then serves them from the bucket",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    await using s3 = await startS3();
    await using dir = await tempDir("parley-migrate-");
    let mediaUrl: string;
    let original: Uint8Array;
    let token: string;
    let mediaId: string;
    {
      await using local = await startServer({ DATA_DIR: dir.path });
      const u = await registerUser(local.url);
      token = u.accessToken;
      const item = await settled(
        u.client,
        (await upload(u.client, await jpeg(300, 200), { type: "image/jpeg" })).body.id,
      );
      mediaId = item.id;
      mediaUrl = item.url;
      original = (await fetchLink(local.url, mediaUrl)).bytes;
    }
    const env = { ...s3.env, DATA_DIR: dir.path };
    assert.match(await migrate(env), /media: [1-9]\d* copied and verified/);
    assert.match(await migrate(env), /media: 0 copied and verified \(0 bytes\), [1-9]\d* already/);

    await Deno.remove(`${dir.path}/media`, { recursive: true });
    await using onBucket = await startServer(env);
    const item = ok(await new Client(onBucket.url, token).get(`/v1/media/${mediaId}`)).body;
    const served = await fetchLink(onBucket.url, item.url);
    assert.equal(served.status, 200);
    assert.deepEqual(served.bytes, original);
  },
);
