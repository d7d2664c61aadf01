import assert from "node:assert/strict";
import { decodeBase64, encodeBase64Url } from "../../src/domain/encoding.ts";
import {
  EXIF_MARKER,
  jpegWithGps,
  mp4,
  office,
  pdf,
  png,
  tone,
} from "../support/media_fixtures.ts";
import { fetchLink, filesUnder, indexOf, upload, uploadSettled } from "../support/media.ts";
import {
  assertProblem,
  createGroup,
  registerUser,
  registerUsers,
  serverTest,
  SharedServer,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

/** One server for the file; each test registers its own user. */
const shared = new SharedServer();

async function users(n: number): Promise<TestUser[]> {
  return await registerUsers((await shared.get()).url, n);
}

function group(owner: TestUser, members: TestUser[], extra: Record<string, unknown> = {}) {
  return createGroup(owner, "Media team", members, extra);
}

async function send(u: TestUser, conversationId: string, mediaIds: string[], text?: string) {
  return await u.client.post(`/v1/conversations/${conversationId}/messages`, {
    clientMsgId: crypto.randomUUID(),
    mediaIds,
    ...(text ? { text } : {}),
  });
}

/** Signs a link the way the server does, with the key from DATA_DIR/keys.json. */
async function selfSigned(dataDir: string, id: string, variant: string, exp: number) {
  const keys = JSON.parse(await Deno.readTextFile(`${dataDir}/keys.json`));
  const key = await crypto.subtle.importKey(
    "raw",
    decodeBase64(keys.urlSigning) as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign(
    "HMAC",
    key,
    new TextEncoder().encode(`parley:media-url:v1:${id}:${variant}:${exp}`),
  );
  const path = variant === "main" ? "content" : "thumbnail";
  return `/v1/media/${id}/${path}?exp=${exp}&sig=${encodeBase64Url(new Uint8Array(mac))}`;
}

// First, before the shared server starts: the sanitizers then see this test's own server only.
serverTest("no original byte sequence appears in the clear anywhere under DATA_DIR", async (s) => {
  const [a] = await Promise.all([registerUser(s.url)]);
  const originals: Array<[Uint8Array, string]> = [
    [await jpegWithGps(800, 600), "image/jpeg"],
    [await png(300, 300), "image/png"],
    [await mp4(1), "video/mp4"],
    [await tone("ogg", 1), "audio/ogg"],
    [pdf(2, "Quarterly figures nobody else may read"), "application/pdf"],
    [office("docx", "Confidential docx paragraph"), "application/octet-stream"],
    [
      new TextEncoder().encode("Secret plain text diary entry, day one.\n".repeat(80)),
      "text/plain",
    ],
  ];
  const needles: Uint8Array[] = [new TextEncoder().encode(EXIF_MARKER)];
  const processed: Uint8Array[] = [];
  for (const [bytes, type] of originals) {
    for (const at of [0.25, 0.5, 0.75]) {
      const i = Math.floor(bytes.length * at);
      needles.push(bytes.slice(i, i + 24));
    }
    const m = await uploadSettled(a.client, bytes, { type, multipart: type !== "text/plain" });
    assert.equal(m.status, "ready", JSON.stringify(m));
    processed.push((await fetchLink(s.url, m.url)).bytes);
  }
  for (const p of processed) needles.push(p.slice(p.length >> 1, (p.length >> 1) + 24));
  const files = await filesUnder(s.dataDir);
  assert.ok(files.some((f) => f.includes("/media/")), "media files exist");
  for (const f of files) {
    const content = await Deno.readFile(f);
    needles.forEach((n, i) => {
      assert.equal(indexOf(content, n), -1, `needle ${i} found in the clear in ${f}`);
    });
  }
});

shared.test("only those who may see media get it: uploader, then members once a message carries it; never strangers", async (s) => {
  const [a, b, x] = await users(3);
  const m = await uploadSettled(a.client, await png(300, 200), { type: "image/png" });
  assertProblem(await b.client.get(`/v1/media/${m.id}`), 404, "not_found");
  const g = await group(a, [b]);
  const sent = await send(a, g.id, [m.id], "look at this");
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const message = sent.body.message;
  assert.equal(message.kind, "media");
  assert.equal(message.media.length, 1);
  assert.equal(message.media[0].id, m.id);
  assert.equal(message.media[0].status, "ready");
  assert.deepEqual([message.media[0].width, message.media[0].height], [300, 200]);
  const seen = await b.client.get(`/v1/media/${m.id}`);
  assert.equal(seen.status, 200);
  assert.equal((await fetchLink(s.url, seen.body.url)).status, 200);
  const history = await b.client.get(`/v1/conversations/${g.id}/messages`);
  const rendered = history.body.messages.find((x: { id: string }) => x.id === message.id);
  assert.equal(rendered.media[0].id, m.id);
  assert.ok(rendered.media[0].url && rendered.media[0].thumbnailUrl);
  assertProblem(await x.client.get(`/v1/media/${m.id}`), 404, "not_found");
  assertProblem(await x.client.get(`/v1/media/${"0".repeat(26)}`), 404, "not_found");

  // Only your own, finished media can be attached.
  assertProblem(await send(b, g.id, [m.id]), 400, "validation_failed");
  assertProblem(await send(a, g.id, ["01nosuchmedia0000000000000"]), 400, "validation_failed");
  const slow = await upload(a.client, await mp4(3, "640x480"), { type: "video/mp4" });
  assert.equal(slow.status, 201);
  assert.equal(slow.body.status, "processing");
  const early = await send(a, g.id, [slow.body.id]);
  assertProblem(early, 400, "validation_failed");
  assert.match(early.body.detail, /processing/);
});

shared.test("signed links work without Authorization; expired, tampered or re-targeted links are 403", async (s) => {
  const [a] = await users(1);
  const m = await uploadSettled(a.client, await png(100, 100), { type: "image/png" });
  const ok = await fetchLink(s.url, m.url);
  assert.equal(ok.status, 200);
  const u = new URL(m.url, s.url);
  const exp = Number(u.searchParams.get("exp"));
  const sig = u.searchParams.get("sig")!;
  const flipped = sig.slice(0, -2) + (sig.at(-2) === "A" ? "B" : "A") + sig.at(-1);
  const bad = [
    `/v1/media/${m.id}/content?exp=${exp}&sig=${flipped}`,
    `/v1/media/${m.id}/content?exp=${exp + 1}&sig=${sig}`,
    `/v1/media/${m.id}/thumbnail?exp=${exp}&sig=${sig}`,
    `/v1/media/${m.id}/content?exp=${exp}`,
    `/v1/media/${m.id}/content?exp=soon&sig=${sig}`,
    await selfSigned(s.dataDir, m.id, "main", Math.floor(Date.now() / 1000) - 5),
  ];
  for (const link of bad) {
    const res = await fetch(s.url + link);
    assert.ok([400, 403].includes(res.status), `${link}: ${res.status}`);
    if (!link.endsWith(`exp=${exp}`)) {
      assert.equal(res.status, 403, link);
      assert.equal((await res.json()).code, "forbidden");
    } else await res.body?.cancel();
  }
  const other = await uploadSettled(a.client, await png(10, 10), { type: "image/png" });
  const moved = await fetch(`${s.url}/v1/media/${other.id}/content?exp=${exp}&sig=${sig}`);
  assert.equal(moved.status, 403, "a signature is bound to its media id");
  await moved.body?.cancel();
  const future = await selfSigned(s.dataDir, m.id, "main", Math.floor(Date.now() / 1000) + 60);
  assert.equal((await fetchLink(s.url, future)).status, 200, "the documented signing scheme");
});

shared.test("downloads: Range (206, suffix, open-ended, across chunks), 416, HEAD, and safe headers", async (s) => {
  const [a] = await users(1);
  // Documents are served as uploaded, so ranges can be compared with the original bytes.
  const text = new TextEncoder().encode(
    Array.from({ length: 9000 }, (_, i) => `line ${i} of the Parley range test\n`).join(""),
  );
  const m = await uploadSettled(a.client, text, { type: "text/plain", multipart: false });
  assert.equal(m.size, text.length);
  const full = await fetchLink(s.url, m.url);
  assert.deepEqual(full.bytes, text);
  assert.equal(full.headers.get("accept-ranges"), "bytes");
  assert.equal(full.headers.get("content-length"), String(text.length));
  assert.equal(full.headers.get("x-content-type-options"), "nosniff");
  assert.equal(full.headers.get("content-security-policy"), "default-src 'none'; sandbox");
  assert.equal(full.headers.get("cross-origin-resource-policy"), "cross-origin");
  assert.match(full.headers.get("cache-control")!, /^private, max-age=\d+$/);
  const ranges: Array<[string, number, number]> = [
    ["bytes=0-99", 0, 99],
    ["bytes=65530-65545", 65530, 65545],
    ["bytes=131000-200000", 131000, 200000],
    [`bytes=${text.length - 10}-`, text.length - 10, text.length - 1],
    ["bytes=-300", text.length - 300, text.length - 1],
    [`bytes=5-${text.length + 1000}`, 5, text.length - 1],
  ];
  for (const [range, start, end] of ranges) {
    const part = await fetchLink(s.url, m.url, { range });
    assert.equal(part.status, 206, range);
    assert.equal(part.headers.get("content-range"), `bytes ${start}-${end}/${text.length}`);
    assert.deepEqual(part.bytes, text.subarray(start, end + 1), range);
  }
  for (const range of [`bytes=${text.length}-`, "bytes=500-100", "bytes=abc", "bytes=-0"]) {
    const res = await fetchLink(s.url, m.url, { range });
    assert.equal(res.status, 416, range);
    assert.equal(res.headers.get("content-range"), `bytes */${text.length}`);
  }
  const head = await fetch(new URL(m.url, s.url), { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(text.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
});

shared.test("media.updated reaches the uploader over a real WebSocket when processing ends", async (s) => {
  const [a, b] = await users(2);
  const wa = await WsClient.connect(s.url, a.accessToken);
  const wb = await WsClient.connect(s.url, b.accessToken);
  try {
    const res = await upload(a.client, await tone("ogg", 1), { type: "audio/ogg" });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, "processing");
    const frame = await wa.event("media.updated", undefined, 30_000);
    assert.equal(frame.data.id, res.body.id);
    assert.equal(frame.data.status, "ready");
    assert.equal(frame.data.kind, "audio");
    assert.equal(frame.data.waveform.length, 64);
    assert.equal(frame.seq, undefined, "an ephemeral event");
    assert.equal((await fetchLink(s.url, frame.data.url)).status, 200);
    assert.equal(wb.events().filter((f) => f.event === "media.updated").length, 0);
  } finally {
    await wa.close();
    await wb.close();
  }
});

shared.test("avatars: your own ready image only; user and group avatars are visible to anyone", async (s) => {
  const [a, b, x] = await users(3);
  const img = await uploadSettled(a.client, await png(64, 64), { type: "image/png" });
  const doc = await uploadSettled(a.client, pdf(1), { type: "application/pdf" });
  const theirs = await uploadSettled(b.client, await png(8, 8), { type: "image/png" });
  for (const bad of [doc.id, theirs.id, "01nosuchmedia0000000000000"]) {
    assertProblem(
      await a.client.patch("/v1/users/me", { avatarMediaId: bad }),
      400,
      "validation_failed",
    );
  }
  const me = await a.client.patch("/v1/users/me", { avatarMediaId: img.id });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.avatar.id, img.id);
  const profile = await x.client.get(`/v1/users/${a.id}`);
  assert.equal(profile.body.avatar.id, img.id);
  assert.equal((await fetchLink(s.url, profile.body.avatar.url)).status, 200);
  assert.equal((await fetchLink(s.url, profile.body.avatar.thumbnailUrl)).status, 200);
  assert.equal((await x.client.get(`/v1/media/${img.id}`)).status, 200, "avatars are public");

  const groupImg = await uploadSettled(a.client, await png(32, 32), { type: "image/png" });
  const g = await group(a, [b], { avatarMediaId: groupImg.id });
  assert.equal(g.avatar.id, groupImg.id);
  assert.equal((await fetchLink(s.url, g.avatar.url)).status, 200);
  assert.equal((await x.client.get(`/v1/media/${groupImg.id}`)).status, 200);
});

shared.test("deleting a message for everyone deletes media no message or avatar uses any more", async (s) => {
  const [a, b] = await users(2);
  const only = await uploadSettled(a.client, await png(20, 20), { type: "image/png" });
  const shared2 = await uploadSettled(a.client, await png(21, 21), { type: "image/png" });
  const avatar = await uploadSettled(a.client, await png(22, 22), { type: "image/png" });
  await a.client.patch("/v1/users/me", { avatarMediaId: avatar.id });
  const g = await group(a, [b]);
  const m1 = (await send(a, g.id, [only.id])).body.message;
  const m2 = (await send(a, g.id, [shared2.id])).body.message;
  await send(a, g.id, [shared2.id]);
  const m4 = (await send(a, g.id, [avatar.id])).body.message;
  for (const m of [m1, m2, m4]) {
    const del = await a.client.delete(`/v1/conversations/${g.id}/messages/${m.id}?for=everyone`);
    assert.equal(del.status, 204);
  }
  assertProblem(await a.client.get(`/v1/media/${only.id}`), 404, "not_found");
  assert.equal((await fetchLink(s.url, only.url)).status, 404);
  const left = await filesUnder(`${s.dataDir}/media`);
  assert.ok(!left.some((f) => f.includes(only.id)), "its files are gone");
  assert.equal((await a.client.get(`/v1/media/${shared2.id}`)).status, 200, "still in a message");
  assert.equal((await b.client.get(`/v1/media/${shared2.id}`)).status, 200);
  assert.equal((await a.client.get(`/v1/media/${avatar.id}`)).status, 200, "still an avatar");
  const history = await b.client.get(`/v1/conversations/${g.id}/messages`);
  const tomb = history.body.messages.find((m: { id: string }) => m.id === m1.id);
  assert.deepEqual(tomb.media, []);
  assert.ok(tomb.deletedAt);
});

shared.closeTest("media access tests: close the shared server");
