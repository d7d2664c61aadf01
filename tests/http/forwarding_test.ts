import assert from "node:assert/strict";
import { fetchLink, settled, upload } from "../support/media.ts";
import {
  assertProblem,
  ok,
  registerUsers,
  sendMessage,
  serverTest,
  type TestServer,
  type TestUser,
} from "../support/server.ts";

/** Alice–Bob and Bob–Carol direct conversations: Carol cannot see Alice and Bob's. */
async function threeFriends(s: TestServer) {
  const [alice, bob, carol] = await registerUsers(s.url, 3);
  const direct = async (a: TestUser, b: TestUser) =>
    ok(await a.client.post("/v1/conversations", { type: "direct", userId: b.id }), 201).body.id;
  return { alice, bob, carol, ab: await direct(alice, bob), bc: await direct(bob, carol) };
}

serverTest(
  "forwarding copies text and media of a message the sender can see; media becomes visible there",
  async (s) => {
    const { alice, bob, carol, ab, bc } = await threeFriends(s);
    const bytes = new TextEncoder().encode("forwarded-file " + "x".repeat(200));
    const doc = await settled(
      alice.client,
      ok(await upload(alice.client, bytes, { filename: "f.txt" }), 201).body.id,
    );
    const original = await sendMessage(alice, ab, { text: "worth sharing", mediaIds: [doc.id] });
    assertProblem(await carol.client.get(`/v1/media/${doc.id}`), 404, "not_found");

    const fwd = ok(
      await bob.client.post(`/v1/conversations/${bc}/messages`, {
        clientMsgId: "fwd-1",
        forwardOf: { conversationId: ab, messageId: original.id },
      }),
      201,
    ).body.message;
    assert.equal(fwd.text, "worth sharing");
    assert.equal(fwd.senderId, bob.id);
    assert.deepEqual(fwd.forwarded, {
      originalSenderId: alice.id,
      originalCreatedAt: original.createdAt,
    });
    assert.deepEqual(fwd.media.map((m: any) => m.id), [doc.id]);
    const seen = ok(await carol.client.get(`/v1/media/${doc.id}`)).body;
    assert.equal((await fetchLink(s.url, seen.url)).status, 200, "carol can download it now");

    // A forward of a forward still names the origin.
    const again = ok(
      await carol.client.post(`/v1/conversations/${bc}/messages`, {
        clientMsgId: "fwd-2",
        forwardOf: { conversationId: bc, messageId: fwd.id },
      }),
      201,
    ).body.message;
    assert.deepEqual(again.forwarded, fwd.forwarded);
    const history = ok(await carol.client.get(`/v1/conversations/${bc}/messages`)).body.messages;
    assert.deepEqual(history.find((m: any) => m.id === fwd.id).forwarded, fwd.forwarded);
  },
);

serverTest("forwarding refuses what the sender cannot see, and extra content", async (s) => {
  const { alice, bob, carol, ab, bc } = await threeFriends(s);
  const secret = await sendMessage(alice, ab, { text: "between alice and bob" });
  const post = (body: Record<string, unknown>) =>
    carol.client.post(`/v1/conversations/${bc}/messages`, {
      clientMsgId: crypto.randomUUID(),
      ...body,
    });
  assertProblem(
    await post({ forwardOf: { conversationId: ab, messageId: secret.id } }),
    404,
    "not_found",
  );
  assertProblem(
    await post({ forwardOf: { conversationId: bc, messageId: "nope" } }),
    404,
    "not_found",
  );
  const mine = await sendMessage(carol, bc, { text: "mine" });
  ok(await carol.client.delete(`/v1/conversations/${bc}/messages/${mine.id}?for=everyone`), 204);
  assertProblem(
    await post({ forwardOf: { conversationId: bc, messageId: mine.id } }),
    404,
    "not_found",
  );
  const other = await sendMessage(bob, bc, { text: "bob's" });
  const extra = await post({
    text: "and more",
    forwardOf: { conversationId: bc, messageId: other.id },
  });
  assertProblem(extra, 400, "validation_failed");
  assert.equal(extra.body.errors[0].path, "forwardOf");
  assertProblem(await post({ forwardOf: { conversationId: bc } }), 400, "validation_failed");
});
