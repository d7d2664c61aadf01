import assert from "node:assert/strict";
import { ok, registerUsers, sendMessage, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "read receipts off: others see no readAt and no read receipts, and neither does the user",
  async (s) => {
    const [alice, bob] = await registerUsers(s.url, 2);
    assert.equal(
      ok(await alice.client.get("/v1/users/me")).body.privacy.readReceipts,
      true,
      "on by default",
    );
    const me =
      ok(await bob.client.patch("/v1/users/me", { privacy: { readReceipts: false } })).body;
    assert.deepEqual(me.privacy, {
      lastSeen: "everyone",
      readReceipts: false,
      directMessages: "everyone",
      groupAdds: "everyone",
    });
    const c =
      ok(await alice.client.post("/v1/conversations", { type: "direct", userId: bob.id }), 201).body
        .id;
    const [aliceWs, bobWs] = await Promise.all([
      WsClient.connect(s.url, alice.accessToken),
      WsClient.connect(s.url, bob.accessToken),
    ]);

    // Bob reads Alice's message: she learns only that it arrived.
    const m1 = await sendMessage(alice, c, { text: "did you read this?" });
    ok(await bob.client.post(`/v1/conversations/${c}/read`, { seq: m1.seq }), 204);
    const receipt = await aliceWs.next((f) => f.event === "receipt" && f.data.userId === bob.id);
    assert.equal(receipt.data.kind, "delivered");
    const onM1 =
      ok(await alice.client.get(`/v1/conversations/${c}/messages/${m1.id}/receipts`)).body;
    assert.equal(onM1.receipts.length, 1);
    assert.ok(onM1.receipts[0].deliveredAt);
    assert.equal(onM1.receipts[0].readAt, undefined, "no readAt of bob");

    // Alice reads Bob's message: he gets no read receipt, and sees no readAt of hers.
    const m2 = await sendMessage(bob, c, { text: "and this?" });
    ok(await alice.client.post(`/v1/conversations/${c}/read`, { seq: m2.seq }), 204);
    // A later event on the same channel: every receipt for the read would have come before it.
    ok(
      await alice.client.post("/v1/conversations/" + c + "/messages", {
        clientMsgId: "after",
        text: "sentinel",
      }),
      201,
    );
    await bobWs.next((f) => f.event === "message.created" && f.data.clientMsgId === "after");
    assert.equal(
      bobWs.frames.filter((f) =>
        f.event === "receipt" && f.data.userId === alice.id && f.data.kind === "read"
      ).length,
      0,
    );
    const onM2 = ok(await bob.client.get(`/v1/conversations/${c}/messages/${m2.id}/receipts`)).body;
    assert.equal(onM2.receipts[0].readAt, undefined, "bob sees no readAt of others");
    assert.ok(onM2.receipts[0].deliveredAt);

    // Turned back on, reads show again.
    ok(await bob.client.patch("/v1/users/me", { privacy: { readReceipts: true } }));
    const m3 = await sendMessage(alice, c, { text: "now?" });
    ok(await bob.client.post(`/v1/conversations/${c}/read`, { seq: m3.seq }), 204);
    await aliceWs.next((f) =>
      f.event === "receipt" && f.data.userId === bob.id && f.data.kind === "read"
    );
    const onM3 =
      ok(await alice.client.get(`/v1/conversations/${c}/messages/${m3.id}/receipts`)).body;
    assert.ok(onM3.receipts[0].readAt);
    await Promise.all([aliceWs.close(), bobWs.close()]);
  },
);
