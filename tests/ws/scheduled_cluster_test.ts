// Acceptance: 50 messages scheduled 1–3 s ahead on two instances sharing Redis and one store, one
// instance SIGKILLed midway: every one is sent exactly once, within 2 s of its time.
import assert from "node:assert/strict";
import { startCluster } from "../support/cluster.ts";
import { Client, ok, registerUser } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";

Deno.test("scheduled messages survive an instance killed midway: each sent once, within 2 s", async () => {
  await using cluster = await startCluster(2);
  const [a, b] = cluster.instances;
  const alice = await registerUser(a.url);
  const bob = await registerUser(a.url);
  const conversation = ok(
    await alice.client.post("/v1/conversations", { type: "direct", userId: bob.id }),
    201,
  ).body.id;
  // Bob listens on the instance that survives.
  const bobWs = await WsClient.connect(b.url, bob.accessToken);
  const arrived = new Map<string, number>();
  const midway = Promise.withResolvers<void>();
  const all = Promise.withResolvers<void>();
  bobWs.ws.addEventListener("message", (e) => {
    const f = JSON.parse(e.data as string);
    if (f.event !== "message.created") return;
    arrived.set(f.data.clientMsgId, (arrived.get(f.data.clientMsgId) ?? 0) + 1);
    if (arrived.size >= 15) midway.resolve();
    if (arrived.size === 50) all.resolve();
  });

  const start = Date.now();
  const sendAt = new Map<string, string>();
  const clients = [alice.client, new Client(b.url, alice.accessToken)];
  await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const at = new Date(start + 1000 + Math.round(i * 2000 / 49)).toISOString();
    const clientMsgId = `s${i}`;
    sendAt.set(clientMsgId, at);
    ok(
      await clients[i % 2].post(`/v1/conversations/${conversation}/scheduled`, {
        clientMsgId,
        text: `scheduled ${i}`,
        sendAt: at,
      }),
      201,
    );
  }));
  assert.ok(Date.now() - start < 1000, "all scheduled before the first was due");

  await midway.promise;
  a.kill("SIGKILL");
  await a.exited;
  const timeout = setTimeout(
    () => all.reject(new Error(`only ${arrived.size} of 50 arrived`)),
    15_000,
  );
  await all.promise.finally(() => clearTimeout(timeout));

  const history = ok(
    await new Client(b.url, bob.accessToken).get(
      `/v1/conversations/${conversation}/messages?limit=200`,
    ),
  ).body.messages;
  const late: string[] = [];
  for (const [clientMsgId, at] of sendAt) {
    const copies = history.filter((m: any) => m.clientMsgId === clientMsgId);
    assert.equal(copies.length, 1, `${clientMsgId} is stored once`);
    assert.equal(copies[0].text, `scheduled ${clientMsgId.slice(1)}`);
    const lateMs = Date.parse(copies[0].createdAt) - Date.parse(at);
    if (lateMs < 0 || lateMs >= 2000) late.push(`${clientMsgId}: ${lateMs} ms`);
  }
  assert.deepEqual(late, [], "every one within 2 s of its time, none early");
  assert.deepEqual([...arrived.values()].filter((n) => n !== 1), [], "delivered once each");
  assert.deepEqual(
    ok(await new Client(b.url, alice.accessToken).get("/v1/users/me/scheduled")).body.scheduled,
    [],
  );
  await bobWs.close();
});
