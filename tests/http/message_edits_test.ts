import assert from "node:assert/strict";
import { assertProblem, ok, registerUsers, serverTest } from "../support/server.ts";

serverTest(
  "edit history: the original and each edit for members; gone after delete for everyone",
  async (s) => {
    const [alice, bob, eve] = await registerUsers(s.url, 3);
    const c =
      ok(await alice.client.post("/v1/conversations", { type: "direct", userId: bob.id }), 201)
        .body.id;
    const m = ok(
      await alice.client.post(`/v1/conversations/${c}/messages`, {
        clientMsgId: "e1",
        text: "helo",
      }),
      201,
    ).body.message;
    const path = `/v1/conversations/${c}/messages/${m.id}/edits`;
    assert.deepEqual(ok(await bob.client.get(path)).body, { edits: [] }, "never edited");
    const e1 =
      ok(await alice.client.patch(`/v1/conversations/${c}/messages/${m.id}`, { text: "hello" }))
        .body;
    const e2 =
      ok(await alice.client.patch(`/v1/conversations/${c}/messages/${m.id}`, { text: "hello 👋" }))
        .body;
    const history = ok(await bob.client.get(path)).body;
    assert.deepEqual(history, {
      original: { text: "helo", createdAt: m.createdAt },
      edits: [{ text: "hello", editedAt: e1.editedAt }, {
        text: "hello 👋",
        editedAt: e2.editedAt,
      }],
    });
    assertProblem(await eve.client.get(path), 404, "not_found");
    assertProblem(
      await bob.client.get(`/v1/conversations/${c}/messages/nope/edits`),
      404,
      "not_found",
    );
    ok(await alice.client.delete(`/v1/conversations/${c}/messages/${m.id}?for=everyone`), 204);
    assertProblem(await bob.client.get(path), 404, "not_found");
    assert.deepEqual(await s.parley.store.messages.messageVersions(m.id), [], "nothing kept");
  },
);
