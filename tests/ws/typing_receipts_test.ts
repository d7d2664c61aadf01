import assert from "node:assert/strict";
import { createGroup, registerUser, registerUsers, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "typing reaches the others (not the typist), is throttled, and expires without a repeat",
  { env: { TYPING_TTL_MS: "600" } },
  async (s) => {
    const [a, b] = await Promise.all([registerUser(s.url), registerUser(s.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    const a1 = await WsClient.connect(s.url, a.accessToken);
    const a2 = await WsClient.connect(s.url, a.accessToken);
    const b1 = await WsClient.connect(s.url, b.accessToken);
    const started = Date.now();
    await a1.request({ type: "typing", conversationId: dm.id, state: "start" });
    const start = await b1.event("typing", dm.id);
    assert.deepEqual(start.data, { userId: a.id, state: "start", expiresInMs: 600 });
    assert.equal(start.seq, undefined, "ephemeral: no seq");
    // Repeats inside half the TTL are not forwarded, but keep it alive.
    await a1.request({ type: "typing", conversationId: dm.id, state: "start" });
    const stop = await b1.event("typing", dm.id, 3000);
    assert.deepEqual(stop.data, { userId: a.id, state: "stop" });
    assert.ok(Date.now() - started >= 550, "expires only after the TTL");
    assert.equal(
      b1.events(dm.id).filter((e) => e.event === "typing" && e.data.state === "start").length,
      1,
    );
    // An explicit stop is forwarded at once.
    await a1.request({ type: "typing", conversationId: dm.id, state: "start" });
    await b1.event("typing", dm.id);
    await a1.request({ type: "typing", conversationId: dm.id, state: "stop" });
    assert.equal((await b1.event("typing", dm.id)).data.state, "stop");
    await a2.request({ type: "ping" });
    assert.deepEqual(
      a2.events(dm.id).filter((e) => e.event === "typing"),
      [],
      "the typist's devices are not echoed",
    );
    // Closing the typist's last socket stops their indicator.
    await a1.request({ type: "typing", conversationId: dm.id, state: "start" });
    await b1.event("typing", dm.id);
    await Promise.all([a1.close(), a2.close()]);
    assert.equal((await b1.event("typing", dm.id)).data.state, "stop");
    await b1.close();
  },
);

serverTest(
  "receipt frames move markers, notify the members, and show in per-message receipts",
  async (s) => {
    const [a, b, c] = await registerUsers(s.url, 3);
    const g = await createGroup(a, "g", [b, c]);
    const [wa, wb, wc] = await Promise.all(
      [a, b, c].map((u) => WsClient.connect(s.url, u.accessToken)),
    );
    const sent = await wa.request({
      type: "message.send",
      conversationId: g.id,
      clientMsgId: "1",
      text: "read me",
    });
    const seq = sent.message.seq;
    assert.equal(
      (await wb.request({ type: "receipt", conversationId: g.id, seq, kind: "delivered" })).ok,
      true,
    );
    const delivered = await wa.event("receipt", g.id);
    assert.equal(delivered.data.userId, b.id);
    assert.equal(delivered.data.kind, "delivered");
    assert.equal(delivered.data.seq, seq);
    await wc.request({ type: "receipt", conversationId: g.id, seq, kind: "read" });
    assert.equal((await wa.event("receipt", g.id)).data.kind, "read");
    // Markers are monotonic: a lower one changes nothing and announces nothing.
    await wc.request({ type: "receipt", conversationId: g.id, seq: 1, kind: "read" });
    const receipts =
      (await a.client.get(`/v1/conversations/${g.id}/messages/${sent.message.id}/receipts`)).body
        .receipts;
    const byUser = Object.fromEntries(receipts.map((r: { userId: string }) => [r.userId, r]));
    assert.ok(byUser[b.id].deliveredAt && !byUser[b.id].readAt);
    assert.ok(byUser[c.id].deliveredAt && byUser[c.id].readAt);
    assert.equal(byUser[a.id], undefined, "not the sender");
    await wa.request({ type: "ping" });
    assert.equal(wa.events(g.id).filter((e) => e.event === "receipt").length, 2);
    const conv = (await a.client.get(`/v1/conversations/${g.id}`)).body;
    assert.equal(conv.lastSeq, seq, "markers never take a seq");
    await Promise.all([wa, wb, wc].map((w) => w.close()));
  },
);

serverTest("in groups over the aggregation threshold, receipts arrive batched", {
  env: { RECEIPT_AGGREGATE_OVER: "2" },
}, async (s) => {
  const [a, b, c] = await registerUsers(s.url, 3);
  const g = await createGroup(a, "big", [b, c]);
  const wa = await WsClient.connect(s.url, a.accessToken);
  const sent = await wa.request({
    type: "message.send",
    conversationId: g.id,
    clientMsgId: "1",
    text: "x",
  });
  await b.client.post(`/v1/conversations/${g.id}/read`, { seq: sent.message.seq });
  await c.client.post(`/v1/conversations/${g.id}/read`, { seq: sent.message.seq });
  const batch = await wa.event("receipt", g.id, 4000);
  assert.equal(batch.data.aggregated, true);
  assert.deepEqual(
    batch.data.receipts.map((r: { userId: string }) => r.userId).sort(),
    [b.id, c.id].sort(),
  );
  await wa.close();
});
