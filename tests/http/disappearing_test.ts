import assert from "node:assert/strict";
import { filesUnder, settled, upload } from "../support/media.ts";
import { dataDirHits, type Needle, textNeedle } from "../support/privacy.ts";
import {
  assertProblem,
  createGroup,
  ok,
  registerUsers,
  serverTest,
  type TestUser,
} from "../support/server.ts";
import { eventually } from "../support/wait.ts";
import { WsClient } from "../support/ws.ts";

async function direct(a: TestUser, b: TestUser): Promise<string> {
  return ok(await a.client.post("/v1/conversations", { type: "direct", userId: b.id }), 201).body
    .id;
}

serverTest(
  "the message timer: admins set it in groups, either member in a direct conversation",
  async (s) => {
    const [owner, member, friend] = await registerUsers(s.url, 3);
    const group = await createGroup(owner, "Team", [member]);
    const ownerWs = await WsClient.connect(s.url, owner.accessToken);
    const path = `/v1/conversations/${group.id}`;
    assertProblem(
      await member.client.patch(path, { settings: { messageTtlSeconds: 60 } }),
      403,
      "forbidden",
    );
    for (const bad of [4, 7_776_001, 1.5, "60"]) {
      const res = await owner.client.patch(path, { settings: { messageTtlSeconds: bad } });
      assertProblem(res, 400, "validation_failed");
      assert.equal(res.body.errors[0].path, "settings.messageTtlSeconds", JSON.stringify(bad));
    }
    const view = ok(await owner.client.patch(path, { settings: { messageTtlSeconds: 60 } })).body;
    assert.equal(view.settings.messageTtlSeconds, 60);
    const updated = await ownerWs.next((f) => f.event === "conversation.updated");
    assert.deepEqual(updated.data.changes.settings.messageTtlSeconds, 60);
    assert.deepEqual(updated.data.message.system.changes, ["messageTtlSeconds"]);

    const sent = ok(
      await member.client.post(`${path}/messages`, { clientMsgId: "t1", text: "soon gone" }),
      201,
    ).body.message;
    assert.equal(Date.parse(sent.expiresAt) - Date.parse(sent.createdAt), 60_000);
    ok(await owner.client.patch(path, { settings: { messageTtlSeconds: null } }));
    const kept = ok(
      await member.client.post(`${path}/messages`, { clientMsgId: "t2", text: "stays" }),
      201,
    ).body.message;
    assert.equal(kept.expiresAt, undefined, "sent after the timer was turned off");

    const d = await direct(owner, friend);
    const byFriend = ok(
      await friend.client.patch(`/v1/conversations/${d}`, {
        settings: { messageTtlSeconds: 3600 },
      }),
    ).body;
    assert.equal(byFriend.settings.messageTtlSeconds, 3600);
    assertProblem(
      await friend.client.patch(`/v1/conversations/${d}`, {
        settings: { onlyAdminsCanSend: true },
      }),
      403,
      "forbidden",
    );
    await ownerWs.close();
  },
);

serverTest(
  "an expired message is deleted for everyone: text, media and edit history leave no trace",
  async (s) => {
    const [alice, bob] = await registerUsers(s.url, 2);
    const c = await direct(alice, bob);
    ok(await alice.client.patch(`/v1/conversations/${c}`, { settings: { messageTtlSeconds: 5 } }));
    const bobWs = await WsClient.connect(s.url, bob.accessToken);
    const docBytes = new TextEncoder().encode("vanishing-document-Q4 " + "lorem ipsum ".repeat(40));
    const doc = await settled(
      alice.client,
      ok(await upload(alice.client, docBytes, { filename: "note.txt" }), 201).body.id,
    );
    const m = ok(
      await alice.client.post(`/v1/conversations/${c}/messages`, {
        clientMsgId: "v1",
        text: "vanishing-canary-first",
        mediaIds: [doc.id],
      }),
      201,
    ).body.message;
    ok(
      await alice.client.patch(`/v1/conversations/${c}/messages/${m.id}`, {
        text: "vanishing-canary-edited",
      }),
    );

    const stored = (await s.parley.store.messages.getMessage(c, m.id))!;
    const versions = await s.parley.store.messages.messageVersions(m.id);
    assert.equal(versions.length, 2);
    const needles: Needle[] = [
      textNeedle("vanishing-canary-first"),
      textNeedle("vanishing-canary-edited"),
      { label: "document bytes", bytes: docBytes.subarray(0, 40) },
      { label: "the body's ciphertext", bytes: stored.body!.blob.subarray(13, 45) },
      ...versions.map((v) => ({
        label: `version ${v.version}'s ciphertext`,
        bytes: v.body.blob.subarray(13, 45),
      })),
    ];
    const mediaDir = `${s.dataDir}/media`;
    const mediaFiles = (await filesUnder(mediaDir)).filter((f) => f.includes(doc.id));
    assert.ok(mediaFiles.length > 0, "the attachment is stored (encrypted)");
    // The scan works: before the expiry it finds the ciphertexts where they are kept.
    const before = await dataDirHits(s.dataDir, needles);
    assert.ok(before.some((h) => h.includes("body's ciphertext")), before.join("\n"));

    const deleted = await bobWs.next(
      (f) => f.event === "message.deleted" && f.data.id === m.id,
      Date.parse(m.expiresAt) - Date.now() + 10_000,
    );
    const lateMs = Date.now() - Date.parse(m.expiresAt);
    assert.ok(lateMs < 5000, `deleted ${lateMs} ms after expiry`);
    assert.equal(deleted.data.text, undefined);
    assert.deepEqual(deleted.data.media, []);
    assert.ok(deleted.data.deletedAt);

    await eventually(
      "nothing of the message left under DATA_DIR",
      () => dataDirHits(s.dataDir, needles),
      (hits) => hits.length === 0,
      { timeoutMs: Date.parse(m.expiresAt) + 10_000 - Date.now(), everyMs: 200 },
    );
    assert.deepEqual((await filesUnder(mediaDir)).filter((f) => f.includes(doc.id)), []);
    assertProblem(
      await bob.client.get(`/v1/conversations/${c}/messages/${m.id}/edits`),
      404,
      "not_found",
    );
    assertProblem(await alice.client.get(`/v1/media/${doc.id}`), 404, "not_found");
    const history = ok(await bob.client.get(`/v1/conversations/${c}/messages`)).body.messages;
    const tombstone = history.find((x: any) => x.id === m.id);
    assert.ok(tombstone.deletedAt && tombstone.text === undefined);
    await bobWs.close();
  },
);
