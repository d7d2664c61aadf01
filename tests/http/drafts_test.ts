import assert from "node:assert/strict";
import { assertProblem, ok, registerUsers, sendMessage, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "drafts: saved per conversation and thread, synced to the user's other devices",
  async (s) => {
    const [alice, bob, eve] = await registerUsers(s.url, 3);
    const c =
      ok(await alice.client.post("/v1/conversations", { type: "direct", userId: bob.id }), 201).body
        .id;
    const otherDevice = await WsClient.connect(s.url, alice.accessToken);
    const path = `/v1/conversations/${c}/draft`;
    assertProblem(await alice.client.get(path), 404, "not_found");

    const saved = ok(await alice.client.put(path, { text: "half a thought…" })).body.draft;
    assert.deepEqual({ ...saved, updatedAt: undefined }, {
      conversationId: c,
      text: "half a thought…",
      updatedAt: undefined,
    });
    const synced = await otherDevice.next((f) => f.event === "draft.updated");
    assert.deepEqual(synced.data, saved);
    assert.deepEqual(ok(await alice.client.get(path)).body.draft, saved);

    const root = await sendMessage(bob, c, { text: "a thread root" });
    const inThread =
      ok(await alice.client.put(path, { text: "reply draft", threadId: root.id })).body.draft;
    assert.equal(inThread.threadId, root.id);
    assert.equal(
      ok(await alice.client.get(`${path}?threadId=${root.id}`)).body.draft.text,
      "reply draft",
    );
    assert.equal(
      ok(await alice.client.get(path)).body.draft.text,
      "half a thought…",
      "separate places",
    );

    assertProblem(await bob.client.get(path), 404, "not_found");
    assertProblem(await eve.client.put(path, { text: "x" }), 404, "not_found");
    assertProblem(await alice.client.put(path, { text: "" }), 400, "validation_failed");
    assertProblem(
      await alice.client.put(path, { text: "x", threadId: "nope" }),
      400,
      "validation_failed",
    );
    assertProblem(await alice.client.put(path, { text: "x", mood: "?" }), 400, "validation_failed");

    ok(await alice.client.delete(path), 204);
    const gone = await otherDevice.next((f) => f.event === "draft.updated" && f.data.deleted);
    assert.deepEqual({ ...gone.data, updatedAt: undefined }, {
      conversationId: c,
      deleted: true,
      updatedAt: undefined,
    });
    assertProblem(await alice.client.get(path), 404, "not_found");
    ok(await alice.client.delete(path), 204);
    await otherDevice.close();
  },
);
