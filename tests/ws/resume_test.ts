import assert from "node:assert/strict";
import { createGroup, registerUser, serverTest } from "../support/server.ts";
import { type Frame, WsClient } from "../support/ws.ts";

function seqs(frames: Frame[], conversationId: string): number[] {
  return frames.filter((f) =>
    f.type === "event" && f.conversationId === conversationId && f.seq !== undefined
  )
    .map((f) => f.seq);
}

serverTest(
  "resume replays exactly the missed durable events of each conversation, in order, then goes live",
  async (s) => {
    const [a, b] = await Promise.all([registerUser(s.url), registerUser(s.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    const g = await createGroup(a, "g", [b]);
    const first = await WsClient.connect(s.url, b.accessToken);
    await a.client.post(`/v1/conversations/${dm.id}/messages`, {
      clientMsgId: "seen",
      text: "seen",
    });
    const seen = (await first.event("message.created", dm.id)).seq;
    const heads = Object.fromEntries(
      first.frames[0].conversations.map((c: Frame) => [c.id, c.lastSeq]),
    );
    await first.close();
    for (let i = 0; i < 5; i++) {
      await a.client.post(`/v1/conversations/${dm.id}/messages`, {
        clientMsgId: `dm${i}`,
        text: `dm ${i}`,
      });
      await a.client.post(`/v1/conversations/${g.id}/messages`, {
        clientMsgId: `g${i}`,
        text: `g ${i}`,
      });
    }
    const msg =
      (await a.client.get(`/v1/conversations/${dm.id}/messages?limit=1`)).body.messages[0];
    await b.client.put(`/v1/conversations/${dm.id}/messages/${msg.id}/reactions/%F0%9F%91%8D`);
    const again = await WsClient.connect(s.url, b.accessToken, {
      [dm.id]: seen,
      [g.id]: heads[g.id],
    });
    const dmHead = (await b.client.get(`/v1/conversations/${dm.id}`)).body.lastSeq;
    const gHead = (await b.client.get(`/v1/conversations/${g.id}`)).body.lastSeq;
    await again.next((f) => f.type === "event" && f.conversationId === dm.id && f.seq === dmHead);
    await again.next((f) => f.type === "event" && f.conversationId === g.id && f.seq === gHead);
    assert.deepEqual(seqs(again.frames, dm.id), range(seen + 1, dmHead));
    assert.deepEqual(seqs(again.frames, g.id), range(heads[g.id] + 1, gHead));
    const reaction = again.events(dm.id).find((e) => e.event === "reaction.updated")!;
    assert.deepEqual(
      reaction.data.reactions,
      [{ emoji: "👍", count: 1, me: true }],
      "rendered for the viewer",
    );
    // Then live, with nothing duplicated.
    await a.client.post(`/v1/conversations/${dm.id}/messages`, {
      clientMsgId: "live",
      text: "live",
    });
    await again.next((f) => f.event === "message.created" && f.data.text === "live");
    assert.deepEqual(seqs(again.frames, dm.id), range(seen + 1, dmHead + 1));
    await again.close();
  },
);

serverTest("a gap longer than the limit is answered with a gap frame, then live events continue", {
  env: { WS_RESUME_MAX_GAP: "5" },
}, async (s) => {
  const [a, b] = await Promise.all([registerUser(s.url), registerUser(s.url)]);
  const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
  for (let i = 0; i < 8; i++) {
    await a.client.post(`/v1/conversations/${dm.id}/messages`, {
      clientMsgId: `m${i}`,
      text: `${i}`,
    });
  }
  const ws = await WsClient.connect(s.url, b.accessToken, { [dm.id]: 1 });
  const gap = await ws.next((f) => f.type === "gap");
  assert.deepEqual(gap, { type: "gap", conversationId: dm.id, fromSeq: 2, toSeq: 9 });
  assert.deepEqual(seqs(ws.frames, dm.id), [], "no partial replay");
  const page = await b.client.get(`/v1/conversations/${dm.id}/events?after=1&limit=200`);
  assert.deepEqual(
    page.body.events.map((e: Frame) => e.seq),
    range(2, 9),
    "the client pages through /events",
  );
  await a.client.post(`/v1/conversations/${dm.id}/messages`, {
    clientMsgId: "after",
    text: "after",
  });
  assert.equal((await ws.event("message.created", dm.id)).seq, 10);
  await ws.close();
});

serverTest(
  "the seam between replay and live has no gap and no duplicate while messages keep coming",
  async (s) => {
    const [a, b] = await Promise.all([registerUser(s.url), registerUser(s.url)]);
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    for (let i = 0; i < 30; i++) {
      await a.client.post(`/v1/conversations/${dm.id}/messages`, {
        clientMsgId: `pre${i}`,
        text: `pre ${i}`,
      });
    }
    let sending = true;
    const writer = (async () => {
      let i = 0;
      const socket = await WsClient.connect(s.url, a.accessToken);
      while (sending || i < 60) {
        await socket.request({
          type: "message.send",
          conversationId: dm.id,
          clientMsgId: `live${i}`,
          text: `live ${i}`,
        });
        i++;
      }
      await socket.close();
      return i;
    })();
    // Reconnect several times mid-stream, each time resuming from the last seq actually received.
    let last = 1;
    const received: number[] = [];
    for (let round = 0; round < 4; round++) {
      const ws = await WsClient.connect(s.url, b.accessToken, { [dm.id]: last });
      await ws.next((f) => f.type === "event" && f.seq > last + 10, 10_000);
      await ws.close();
      const got = seqs(ws.frames, dm.id);
      received.push(...got);
      last = got.at(-1)!;
    }
    sending = false;
    const total = await writer;
    const head = (await b.client.get(`/v1/conversations/${dm.id}`)).body.lastSeq;
    const ws = await WsClient.connect(s.url, b.accessToken, { [dm.id]: last });
    if (last < head) await ws.next((f) => f.type === "event" && f.seq === head, 10_000);
    received.push(...seqs(ws.frames, dm.id));
    await ws.close();
    assert.ok(total >= 60);
    assert.deepEqual(
      received,
      range(2, head),
      "every seq exactly once, in order, across four resumes",
    );
  },
);

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
