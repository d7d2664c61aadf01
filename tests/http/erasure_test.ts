import assert from "node:assert/strict";
import { filesUnder, uploadSettled } from "../support/media.ts";
import { png } from "../support/media_fixtures.ts";
import { dataDirHits, exportReady, type Needle, textNeedle } from "../support/privacy.ts";
import {
  assertProblem,
  Client,
  createGroup,
  registerUser,
  sendMessage,
  serverTest,
  startServer,
  tempDir,
  type TestUser,
} from "../support/server.ts";
import { WsClient } from "../support/ws.ts";
import { sanitized } from "../support/sanitizers.ts";

function erase(user: TestUser, body: unknown) {
  return user.client.request("DELETE", "/v1/users/me", body);
}

serverTest(
  "DELETE /v1/users/me needs the password; then the account's tokens and sockets die at once",
  async (s) => {
    const alice = await registerUser(s.url);
    const bob = await registerUser(s.url);
    const login = await new Client(s.url).post("/v1/auth/login", {
      username: alice.username,
      password: alice.password,
      deviceName: "tablet",
    });
    const tablet = new WsClient(await WsClient.open(s.url).then((w) => w.ws));
    tablet.send({ type: "auth", token: login.body.accessToken });
    await tablet.next((f) => f.type === "ready");
    assertProblem(await erase(alice, {}), 400, "validation_failed");
    assertProblem(await erase(alice, { password: "not the password" }), 403, "forbidden");
    assert.equal((await alice.client.get("/v1/users/me")).status, 200, "nothing happened");

    const res = await erase(alice, { password: alice.password });
    assert.equal(res.status, 204);
    assert.equal((await tablet.closed).code, 4001, "the other device's socket closes");
    assertProblem(await alice.client.get("/v1/users/me"), 401, "unauthorized");
    assertProblem(
      await new Client(s.url).post("/v1/auth/refresh", { refreshToken: alice.refreshToken }),
      401,
      "unauthorized",
    );
    assertProblem(
      await new Client(s.url).post("/v1/auth/login", {
        username: alice.username,
        password: alice.password,
      }),
      401,
      "unauthorized",
    );
    const seen = await bob.client.get(`/v1/users/${alice.id}`);
    assert.deepEqual(seen.body, {
      id: alice.id,
      username: "deleted",
      displayName: "Deleted account",
      presence: "offline",
      deleted: true,
    });
    assert.deepEqual((await bob.client.get(`/v1/users?q=${alice.username}`)).body.users, []);
    const again = await registerUser(s.url, { username: alice.username });
    assert.notEqual(again.id, alice.id, "the username is free for someone new");
  },
);

Deno.test(
  "after an erasure nothing of the user is left in the data directory (db, -wal, -shm, media, exports)",
  sanitized,
  async () => {
    await using dir = await tempDir("parley-erasure-");
    const dataDir = dir.path;
    await using s = await startServer({ DATA_DIR: dataDir });
    const alice = await registerUser(s.url, {
      username: "erasure_canary_q7",
      displayName: "Canary Display Q7x",
    });
    const bob = await registerUser(s.url);
    const group = (await createGroup(alice, "Team", [bob])).id;
    const direct = (await alice.client.post("/v1/conversations", {
      type: "direct",
      userId: bob.id,
    })).body.id;
    const texts = [
      "canary-erase-text-one 🦜 über",
      "canary-erase-text-two 秘密",
      "canary-erase-edited-three",
    ];
    const first = await sendMessage(alice, group, { text: texts[0] });
    await sendMessage(alice, direct, { text: texts[1] });
    await alice.client.patch(`/v1/conversations/${group}/messages/${first.id}`, {
      text: texts[2],
    });
    const docBytes = new TextEncoder().encode(
      "canary-erase-document-bytes-Z9 " + "lorem ipsum ".repeat(40),
    );
    const doc = await uploadSettled(alice.client, docBytes, {
      type: "text/plain",
      filename: "canary-erase-secret-name.txt",
    });
    await sendMessage(alice, group, { mediaIds: [doc.id] });
    const avatar = await uploadSettled(alice.client, await png(48, 48));
    await alice.client.patch("/v1/users/me", {
      avatarMediaId: avatar.id,
      statusText: "canary-erase-status",
    });
    const theirs = await sendMessage(bob, group, { text: "bob's own words stay" });
    await alice.client.put(
      `/v1/conversations/${group}/messages/${theirs.id}/reactions/${encodeURIComponent("👍")}`,
    );
    const archive = await exportReady(alice);
    assert.equal(archive.status, "ready");

    // Raw material that must vanish too: a stored ciphertext and the wrapped data key.
    const store = s.parley.store;
    const [stored] = await store.privacy.listSentMessages(alice.id, { limit: 1 });
    const key = (await store.accounts.getUserKey(stored.body!.keyId))!;
    const needles: Needle[] = [
      ...texts.map(textNeedle),
      textNeedle("erasure_canary_q7"),
      textNeedle("Canary Display Q7x"),
      textNeedle("canary-erase-status"),
      textNeedle("canary-erase-secret-name"),
      { label: "document bytes", bytes: docBytes.subarray(0, 40) },
      { label: "a message ciphertext", bytes: stored.body!.blob.subarray(13, 45) },
      { label: "the wrapped data key", bytes: key.wrapped.subarray(13, 45) },
    ];
    // The scan works: before the erasure it finds what is stored as is.
    const before = await dataDirHits(dataDir, needles);
    assert.ok(before.some((h) => h.includes("erasure_canary_q7")), before.join("\n"));
    assert.ok(before.some((h) => h.includes("wrapped data key")), before.join("\n"));

    const res = await erase(alice, { password: alice.password });
    assert.equal(res.status, 204);
    assert.deepEqual(await dataDirHits(dataDir, needles), [], "while running");
    for (const id of [doc.id, avatar.id]) {
      assert.equal(await store.media.getMedia(id), null);
      assertProblem(await bob.client.get(`/v1/media/${id}`), 404, "not_found");
    }
    assert.deepEqual(await filesUnder(`${dataDir}/exports`), [], "no export archive is left");
    assert.deepEqual(await store.exports.listExports(alice.id), []);
    const history = await bob.client.get(`/v1/conversations/${group}/messages`);
    const kept = history.body.messages.find((m: any) => m.id === theirs.id);
    assert.equal(kept.text, "bob's own words stay", "others' messages are untouched");
    assert.deepEqual(kept.reactions, [], "the erased user's reaction is gone");

    await s.close();
    assert.deepEqual(await dataDirHits(dataDir, needles), [], "after shutdown");
  },
);
