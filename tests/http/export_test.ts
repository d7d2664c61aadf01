import assert from "node:assert/strict";
import { fetchLink, filesUnder, uploadSettled } from "../support/media.ts";
import { png } from "../support/media_fixtures.ts";
import { downloadArchive, exportReady, jsonLines } from "../support/privacy.ts";
import {
  assertProblem,
  Client,
  createGroup,
  registerUser,
  sendMessage,
  serverTest,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

const decoder = new TextDecoder();

serverTest(
  "an export is one zip with README, profile, sessions, conversations, every message sent (decrypted), reactions and files; data_export.ready reaches the user's sockets",
  async (s) => {
    const alice = await registerUser(s.url, { displayName: "Alice Export" });
    const bob = await registerUser(s.url);
    await new Client(s.url).post("/v1/auth/login", {
      username: alice.username,
      password: alice.password,
      deviceName: "laptop",
    });
    const group = (await createGroup(alice, "Exporters", [bob])).id;
    const direct = (await alice.client.post("/v1/conversations", {
      type: "direct",
      userId: bob.id,
    })).body.id;
    await alice.client.put(`/v1/conversations/${direct}/me`, { archived: true });
    const docBytes = new TextEncoder().encode("an exported document, byte for byte\n");
    const doc = await uploadSettled(alice.client, docBytes, {
      type: "text/plain",
      filename: "minutes.txt",
    });
    const image = await uploadSettled(alice.client, await png(40, 30));
    const g1 = await sendMessage(alice, group, { text: "hello group 👋🏽" });
    const theirs = await sendMessage(bob, group, { text: "bob's message is not alice's data" });
    const g2 = await sendMessage(alice, group, {
      text: "see file",
      mediaIds: [doc.id],
      replyTo: g1.id,
    });
    const gone = await sendMessage(alice, group, { text: "deleted before the export" });
    await alice.client.delete(`/v1/conversations/${group}/messages/${gone.id}?for=everyone`);
    const g3 = await sendMessage(alice, group, { text: "edited later" });
    await alice.client.patch(`/v1/conversations/${group}/messages/${g3.id}`, {
      text: "edited text wins",
    });
    const d1 = await sendMessage(alice, direct, { mediaIds: [image.id] });
    await alice.client.put(
      `/v1/conversations/${group}/messages/${theirs.id}/reactions/${encodeURIComponent("🎉")}`,
    );

    const ws = await WsClient.connect(s.url, alice.accessToken);
    const started = await alice.client.post("/v1/users/me/export");
    assert.equal(started.status, 202);
    assert.equal(started.body.status, "processing");
    assert.equal(started.body.url, undefined);
    const again = await alice.client.post("/v1/users/me/export");
    if (again.body.id !== started.body.id) {
      const first = await alice.client.get(`/v1/users/me/export/${started.body.id}`);
      assert.notEqual(first.body.status, "processing", "one export at a time");
    }
    const ready = await ws.next(
      (f) => f.event === "data_export.ready" && f.data.id === started.body.id,
      30_000,
    );
    assert.equal(ready.data.id, started.body.id);
    assert.equal(ready.data.status, "ready");
    assert.equal(ready.seq, undefined, "an ephemeral event");
    const view = (await alice.client.get(`/v1/users/me/export/${started.body.id}`)).body;
    assert.equal(view.status, "ready");
    assert.ok(view.size > 0 && Date.parse(view.expiresAt) > Date.now() + 71 * 3600_000);
    assert.ok(Date.parse(view.urlExpiresAt) <= Date.parse(view.expiresAt));

    const { status, headers, files, size } = await downloadArchive(s.url, view.url);
    assert.equal(status, 200);
    assert.equal(headers.get("content-type"), "application/zip");
    assert.match(headers.get("content-disposition")!, /^attachment; filename="parley-export-/);
    assert.equal(size, view.size);
    const names = Object.keys(files).sort();
    const docPath = `media/${doc.id}/minutes.txt`;
    const imagePath = names.find((n) => n.startsWith(`media/${image.id}/`))!;
    assert.deepEqual(
      names,
      [
        "README.txt",
        "blocks.jsonl",
        "conversations.jsonl",
        "drafts.jsonl",
        "export.json",
        "invitations.jsonl",
        docPath,
        imagePath,
        "media.jsonl",
        `messages/${direct}.jsonl`,
        `messages/${group}.jsonl`,
        "profile.json",
        "push.jsonl",
        "reactions.jsonl",
        "reports.jsonl",
        "scheduled.jsonl",
        "sessions.jsonl",
        "threads.jsonl",
        "votes.jsonl",
      ].sort(),
    );
    const [push] = jsonLines(files["push.jsonl"]);
    assert.deepEqual(push.settings, { preview: "full", quietHours: null, keywords: [] });
    assert.deepEqual(push.subscriptions, []);
    const readme = decoder.decode(files["README.txt"]);
    for (const part of ["profile.json", "sessions.jsonl", "messages/", "media/", "reactions"]) {
      assert.ok(readme.includes(part), `README explains ${part}`);
    }
    const profile = JSON.parse(decoder.decode(files["profile.json"]));
    assert.equal(profile.id, alice.id);
    assert.equal(profile.username, alice.username);
    assert.equal(profile.displayName, "Alice Export");
    const sessions = jsonLines(files["sessions.jsonl"]);
    assert.equal(sessions.length, 2);
    assert.ok(sessions.some((x) => x.deviceName === "laptop" && x.ip === "127.0.0.1"));
    const conversations = jsonLines(files["conversations.jsonl"]);
    assert.deepEqual(conversations.map((c) => c.id).sort(), [group, direct].sort());
    const g = conversations.find((c) => c.id === group);
    assert.equal(g.name, "Exporters");
    assert.equal(g.membership.role, "owner");
    const d = conversations.find((c) => c.id === direct);
    assert.equal(d.peerId, bob.id);
    assert.equal(d.membership.archived, true);

    const groupLines = jsonLines(files[`messages/${group}.jsonl`]);
    assert.deepEqual(groupLines.map((m) => m.id), [g1.id, g2.id, g3.id], "seq order, own only");
    assert.deepEqual(groupLines.map((m) => m.text), [
      "hello group 👋🏽",
      "see file",
      "edited text wins",
    ]);
    assert.deepEqual(groupLines[1].media, [{ id: doc.id, file: docPath }]);
    assert.equal(groupLines[1].replyTo, g1.id);
    assert.ok(groupLines[2].editedAt);
    assert.ok(groupLines.every((m) => m.seq > 0 && m.createdAt && m.conversationId === group));
    const directLines = jsonLines(files[`messages/${direct}.jsonl`]);
    assert.deepEqual(directLines.map((m) => [m.id, m.kind, m.text]), [[d1.id, "media", null]]);
    assert.deepEqual(directLines[0].media, [{ id: image.id, file: imagePath }]);
    assert.deepEqual(
      jsonLines(files["reactions.jsonl"]).map((r) => [r.messageId, r.conversationId, r.emoji]),
      [[theirs.id, group, "🎉"]],
    );
    const media = jsonLines(files["media.jsonl"]);
    assert.deepEqual(media.map((m) => m.id).sort(), [doc.id, image.id].sort());
    assert.ok(media.every((m) => m.status === "ready" && m.file));
    assert.deepEqual(files[docPath], docBytes, "the document byte for byte");
    assert.deepEqual([...files[imagePath].subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG");
    assert.equal(JSON.parse(decoder.decode(files["export.json"])).userId, alice.id);
    const everything = Object.values(files).map((b) => decoder.decode(b)).join("\n");
    assert.ok(!everything.includes("bob's message is not alice's data"), "no one else's text");
    assert.ok(!everything.includes("deleted before the export"), "no deleted message");
    await ws.close();
  },
);

serverTest(
  "export links are signed, expiring and ranged; others get 404; after EXPORT_TTL_HOURS the sweep removes the archive",
  { env: { EXPORT_TTL_HOURS: "1" } },
  async (s) => {
    const alice = await registerUser(s.url);
    const bob = await registerUser(s.url);
    const view = await exportReady(alice);
    assert.equal(view.status, "ready");
    assertProblem(await bob.client.get(`/v1/users/me/export/${view.id}`), 404, "not_found");
    assertProblem(
      await new Client(s.url).get(`/v1/users/me/export/${view.id}`),
      401,
      "unauthorized",
    );
    const url = new URL(view.url, s.url);
    const tampered = `${url.pathname}?exp=${url.searchParams.get("exp")}&sig=${
      url.searchParams.get("sig")!.replace(/^./, (c) => (c === "A" ? "B" : "A"))
    }`;
    assert.equal((await fetchLink(s.url, tampered)).status, 403);
    const expired = `${url.pathname}?exp=${Math.floor(Date.now() / 1000) - 1}&sig=${
      url.searchParams.get("sig")
    }`;
    assert.equal((await fetchLink(s.url, expired)).status, 403);
    const part = await fetchLink(s.url, view.url, { range: "bytes=0-3" });
    assert.equal(part.status, 206);
    assert.deepEqual([...part.bytes], [0x50, 0x4b, 0x03, 0x04], "a zip's first bytes");
    assert.equal(part.headers.get("content-range"), `bytes 0-3/${view.size}`);
    assert.ok((await filesUnder(`${s.dataDir}/exports`)).length > 0);

    const audit = await s.parley.store.audit.listAudit({ limit: 20, actorId: alice.id });
    assert.deepEqual(
      audit.map((e) => e.action).filter((a) => a.startsWith("data_export")).sort(),
      ["data_export.downloaded", "data_export.requested"],
    );

    const sweeper = s.parley.services.sweeper;
    assert.equal((await sweeper.sweep(new Date(Date.now() + 30 * 60_000))).exportsRemoved, 0);
    const report = await sweeper.sweep(new Date(Date.now() + 2 * 3600_000));
    assert.equal(report.exportsRemoved, 1);
    assertProblem(await alice.client.get(`/v1/users/me/export/${view.id}`), 404, "not_found");
    assert.equal((await fetchLink(s.url, view.url)).status, 404);
    assert.deepEqual(await filesUnder(`${s.dataDir}/exports`), [], "its file is removed");
  },
);
