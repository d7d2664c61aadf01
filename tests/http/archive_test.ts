import assert from "node:assert/strict";
import { jpeg } from "../support/media_fixtures.ts";
import { uploadSettled } from "../support/media.ts";
import { dataDirHits, downloadArchive, makeAdmin, textNeedle } from "../support/privacy.ts";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  sendMessage,
  serverTest,
  type TestUser,
} from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";

const decoder = new TextDecoder();

/** Requests a conversation export as `user` and waits until it is ready; returns its files. */
async function exportOf(base: string, user: TestUser, conversationId: string) {
  const started = ok(await user.client.post(`/v1/conversations/${conversationId}/export`), 202);
  assert.equal(started.body.conversationId, conversationId);
  const ready = await eventually(
    "the conversation export is ready",
    () => user.client.get(`/v1/conversations/${conversationId}/export/${started.body.id}`),
    (r) => r.status !== 200 || r.body.status !== "processing",
    { timeoutMs: 30_000 },
  );
  assert.equal(ready.body.status, "ready", JSON.stringify(ready.body));
  const archive = await downloadArchive(base, ready.body.url);
  assert.equal(archive.status, 200);
  assert.match(
    archive.headers.get("content-disposition") ?? "",
    new RegExp(`parley-conversation-${conversationId}`),
  );
  return {
    json: JSON.parse(decoder.decode(archive.files["messages.json"])),
    html: decoder.decode(archive.files["transcript.html"]),
    files: archive.files,
  };
}

function hold(admin: TestUser, conversationId: string, body?: unknown) {
  return admin.client.request("PUT", `/v1/admin/conversations/${conversationId}/hold`, body);
}

serverTest(
  "conversation export: owner and admins only; messages.json, transcript and media",
  async (s) => {
    const [owner, member, outsider] = await registerUsers(s.url, 3);
    const g = (await createGroup(owner, "Q3 <planning>", [member])).id;
    const image = await uploadSettled(owner.client, await jpeg(64, 48), {
      filename: "chart.jpg",
    });
    const first = await sendMessage(owner, g, { text: "Budget <b>draft</b> & notes" });
    await sendMessage(owner, g, { text: "see the chart", mediaIds: [image.id] });
    const reply = await sendMessage(member, g, { text: "Looks good", replyTo: first.id });
    ok(await member.client.put(`/v1/conversations/${g}/messages/${first.id}/reactions/👍`));
    const gone = await sendMessage(member, g, { text: "oops wrong chat" });
    ok(await member.client.delete(`/v1/conversations/${g}/messages/${gone.id}?for=everyone`), 204);

    assertProblem(await member.client.post(`/v1/conversations/${g}/export`), 403, "forbidden");
    assertProblem(await outsider.client.post(`/v1/conversations/${g}/export`), 404, "not_found");
    assertProblem(await owner.client.post(`/v1/conversations/nope/export`), 404, "not_found");

    const ws = await WsClient.connect(s.url, owner.accessToken);
    try {
      const { json, html, files } = await exportOf(s.url, owner, g);
      const ready = await ws.next((f) => f.event === "conversation_export.ready", 10_000);
      assert.equal(ready.data.conversationId, g);

      assert.equal(json.format, "parley-conversation-export/1");
      assert.equal(json.conversation.id, g);
      assert.equal(json.legalHold, null);
      const texts = json.messages.filter((m: any) => m.kind !== "system").map((m: any) => m.text);
      assert.deepEqual(texts, [
        "Budget <b>draft</b> & notes",
        "see the chart",
        "Looks good",
        null,
      ]);
      const seqs = json.messages.map((m: any) => m.seq);
      assert.deepEqual(seqs, [...seqs].sort((a: number, b: number) => a - b));
      const byId = new Map(json.messages.map((m: any) => [m.id, m]));
      assert.deepEqual((byId.get(first.id) as any).reactions, [{
        emoji: "👍",
        userIds: [member.id],
      }]);
      assert.equal((byId.get(reply.id) as any).replyTo, first.id);
      const deleted = byId.get(gone.id) as any;
      assert.ok(deleted.deletedAt);
      assert.equal(deleted.held, undefined, "no hold: nothing kept");
      const withImage = json.messages.find((m: any) => m.media.length) as any;
      assert.equal(withImage.media[0].id, image.id);
      const path = withImage.media[0].file as string;
      assert.match(path, new RegExp(`^media/${image.id}/`));
      assert.ok(files[path]?.length > 0, "the image is in the zip");
      assert.deepEqual([...files[path].subarray(0, 2)], [0xff, 0xd8], "a JPEG");
      assert.deepEqual(
        json.people.map((p: any) => p.id).sort(),
        [owner.id, member.id].sort(),
      );

      assert.match(html, /^<!doctype html>/);
      assert.ok(html.includes("Budget &lt;b&gt;draft&lt;/b&gt; &amp; notes"), "text escaped");
      assert.ok(html.includes("Q3 &lt;planning&gt;"));
      assert.ok(!html.includes("<b>draft"), "no markup from messages");
      assert.ok(html.includes(`src="${encodeURI(path)}"`), "the image shown from the zip");
      assert.ok(!/https?:\/\//.test(html), "nothing loaded from elsewhere");
      assert.ok(html.includes("Message deleted"));
    } finally {
      ws.close();
    }

    // An admin may export; demoted, they lose access to their export of it.
    ok(await owner.client.patch(`/v1/conversations/${g}/members/${member.id}`, { role: "admin" }));
    const theirs = ok(await member.client.post(`/v1/conversations/${g}/export`), 202).body;
    ok(await member.client.get(`/v1/conversations/${g}/export/${theirs.id}`));
    assertProblem(
      await owner.client.get(`/v1/conversations/${g}/export/${theirs.id}`),
      404,
      "not_found",
    );
    ok(await owner.client.patch(`/v1/conversations/${g}/members/${member.id}`, { role: "member" }));
    assertProblem(
      await member.client.get(`/v1/conversations/${g}/export/${theirs.id}`),
      403,
      "forbidden",
    );
  },
);

serverTest(
  "legal hold: deletions and expiries are hidden but kept until the hold is lifted",
  async (s) => {
    const [owner, member, admin, leaver] = await registerUsers(s.url, 4);
    await makeAdmin(s, admin);
    const g = (await createGroup(owner, "Matter 42", [member, leaver])).id;

    assertProblem(await hold(owner, g), 403, "forbidden");
    assertProblem(await hold(admin, "nope"), 404, "not_found");
    assertProblem(await hold(admin, g, { reason: "x", extra: 1 }), 400, "validation_failed");
    assertProblem(await admin.client.get(`/v1/admin/conversations/${g}/hold`), 404, "not_found");
    const placed = ok(await hold(admin, g, { reason: "Case 42" }), 201).body.hold;
    assert.equal(placed.conversationId, g);
    assert.equal(placed.placedBy, admin.id);
    assert.equal(placed.reason, "Case 42");
    assert.deepEqual(ok(await hold(admin, g), 200).body.hold, placed, "placing again keeps it");
    assert.deepEqual(
      ok(await admin.client.get(`/v1/admin/conversations/${g}/hold`)).body.hold,
      placed,
    );
    assert.deepEqual(ok(await admin.client.get("/v1/admin/holds")).body.holds, [placed]);

    const image = await uploadSettled(member.client, await jpeg(32, 32), { filename: "proof.jpg" });
    const deleted = await sendMessage(member, g, {
      text: "held-canary-deleted",
      mediaIds: [image.id],
    });
    ok(
      await member.client.delete(`/v1/conversations/${g}/messages/${deleted.id}?for=everyone`),
      204,
    );
    // Users see a tombstone, exactly as without a hold.
    const history = ok(await owner.client.get(`/v1/conversations/${g}/messages`)).body.messages;
    const tomb = history.find((m: any) => m.id === deleted.id);
    assert.ok(tomb.deletedAt);
    assert.equal(tomb.text, undefined);
    assert.deepEqual(tomb.media, []);

    // Disappearing messages vanish for users on time; the hold keeps them.
    ok(await owner.client.patch(`/v1/conversations/${g}`, { settings: { messageTtlSeconds: 5 } }));
    const ws = await WsClient.connect(s.url, owner.accessToken);
    const expiring = await sendMessage(owner, g, { text: "held-canary-expired" });
    await ws.next((f) => f.event === "message.deleted" && f.data.id === expiring.id, 15_000);
    ws.close();
    ok(
      await owner.client.patch(`/v1/conversations/${g}`, { settings: { messageTtlSeconds: null } }),
    );

    // An account erased under a hold: its messages there are kept, readable by the hold.
    await sendMessage(leaver, g, { text: "held-canary-erased" });
    ok(await leaver.client.request("DELETE", "/v1/users/me", { password: leaver.password }), 204);

    const { json, html, files } = await exportOf(s.url, admin, g);
    assert.equal(json.legalHold.reason, "Case 42");
    const kept = (text: string) => json.messages.find((m: any) => m.held?.text === text);
    for (const text of ["held-canary-deleted", "held-canary-expired", "held-canary-erased"]) {
      const m = kept(text);
      assert.ok(m, `${text} is kept by the hold`);
      assert.ok(m.deletedAt, `${text} is deleted for users`);
      assert.equal(m.text, null);
      assert.ok(html.includes(text));
    }
    assert.deepEqual(kept("held-canary-deleted").held.mediaIds, [image.id]);
    assert.ok(
      Object.keys(files).some((f) => f.startsWith(`media/${image.id}/`)),
      "the held image is in the export",
    );

    // Lifting the hold erases what it kept: nothing of it is left under DATA_DIR.
    const heldNow = await s.parley.store.archive.heldMessages(
      g,
      json.messages.filter((m: any) => m.held).map((m: any) => m.id),
    );
    const ciphertexts = [...heldNow.values()].map((h, i) => ({
      label: `held ciphertext ${i}`,
      bytes: h.body!.blob.subarray(13, 45),
    }));
    assert.equal(ciphertexts.length, 3);
    assert.equal((await dataDirHits(s.dataDir, ciphertexts)).length > 0, true, "the scan works");
    assertProblem(
      await owner.client.request("DELETE", `/v1/admin/conversations/${g}/hold`),
      403,
      "forbidden",
    );
    ok(await admin.client.request("DELETE", `/v1/admin/conversations/${g}/hold`), 204);
    assertProblem(
      await admin.client.request("DELETE", `/v1/admin/conversations/${g}/hold`),
      404,
      "not_found",
    );
    const after = await exportOf(s.url, admin, g);
    assert.equal(after.json.legalHold, null);
    assert.ok(after.json.messages.every((m: any) => m.held === undefined));
    assert.ok(!Object.keys(after.files).some((f) => f.startsWith(`media/${image.id}/`)));
    assert.equal(await s.parley.store.media.getMedia(image.id), null, "the held image is released");
    const needles = ["held-canary-deleted", "held-canary-expired", "held-canary-erased"]
      .map(textNeedle);
    await eventually(
      "nothing the hold kept is left under DATA_DIR",
      () => dataDirHits(s.dataDir, [...needles, ...ciphertexts]),
      (hits) => hits.length === 0,
      { timeoutMs: 10_000 },
    );
    const audit = ok(await admin.client.get("/v1/admin/audit?limit=50")).body;
    const actions = (audit.entries ?? audit.items ?? []).map((e: any) => e.action);
    assert.ok(actions.includes("conversation.hold_placed"), JSON.stringify(actions));
    assert.ok(actions.includes("conversation.hold_lifted"));
  },
);
