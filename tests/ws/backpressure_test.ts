import assert from "node:assert/strict";
import { createGroup, registerUsers, serverTest } from "../support/server.ts";
import { RawWsClient } from "../support/raw_ws.ts";
import { WsClient } from "../support/ws.ts";

serverTest(
  "a socket that cannot keep up is closed with 4008 and resumes without loss; others are not slowed",
  { env: { WS_SEND_BUFFER_BYTES: "65536" } },
  async (s) => {
    const [a, slow, fast] = await registerUsers(s.url, 3);
    const g = await createGroup(a, "g", [slow, fast]);
    const raw = await RawWsClient.connect(s.port);
    await raw.sendText(JSON.stringify({ type: "auth", token: slow.accessToken }));
    const ready = JSON.parse((await raw.readFrame())!.text!);
    assert.equal(ready.type, "ready");
    // The slow client now reads nothing while a normal client keeps up.
    const quick = await WsClient.connect(s.url, fast.accessToken);
    const writer = await WsClient.connect(s.url, a.accessToken);
    const text = "👍🏽".repeat(4000); // 32 KB per message
    let sent = 0;
    let closedWith: number | undefined;
    const watch = async () => {
      // Drains nothing until the server gives up; then reads to the close frame.
      for (;;) {
        const f = await raw.readFrame();
        if (!f) return;
        if (f.opcode === 8) {
          closedWith = f.code;
          return;
        }
      }
    };
    const slowClosed = () =>
      s.parley.metrics.counter("parley_ws_server_closes_total", "").get({ code: "4008" }) > 0;
    while (sent < 600 && !slowClosed()) {
      await writer.request({
        type: "message.send",
        conversationId: g.id,
        clientMsgId: `m${sent}`,
        text,
      });
      sent++;
    }
    assert.ok(slowClosed(), "the slow socket was closed before 600 messages of 32 KB");
    await watch();
    assert.equal(closedWith, 4008);
    raw.close();
    // The fast client got everything, in order, while the slow one was stuck.
    const last = await quick.next(
      (f) => f.type === "event" && f.data?.clientMsgId === `m${sent - 1}`,
      20_000,
    );
    const got = quick.events(g.id).filter((e) => e.event === "message.created").map((e) =>
      e.data.clientMsgId
    );
    assert.deepEqual(got, Array.from({ length: sent }, (_, i) => `m${i}`));
    // The dropped client resumes and misses nothing.
    const back = await WsClient.connect(s.url, slow.accessToken, {
      [g.id]: ready.conversations[0].lastSeq,
    });
    await back.next((f) => f.type === "event" && f.seq === last.seq, 20_000);
    const replayed = back.events(g.id).filter((e) => e.event === "message.created").map((e) =>
      e.data.clientMsgId
    );
    assert.deepEqual(replayed, Array.from({ length: sent }, (_, i) => `m${i}`));
    await Promise.all([quick.close(), writer.close(), back.close()]);
  },
);
