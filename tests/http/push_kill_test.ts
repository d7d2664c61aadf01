import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startCluster } from "../support/cluster.ts";
import { PushService } from "../support/push_service.ts";
import { Client, registerUser } from "../support/server.ts";
import { eventually } from "../support/wait.ts";

const MESSAGES = 200;

Deno.test({
  name: "push: 200 messages to an offline user with two devices on two instances, one instance " +
    "SIGKILLed mid-way: 400 pushes, each (message, device) exactly once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cluster = await startCluster(2, {
      OUTBOUND_ALLOW_PRIVATE: "true",
      PUSH_DELAY_MS: "100",
    });
    const [one, two] = cluster.instances;
    await using service = await PushService.start();
    const a = await registerUser(one.url);
    const b = await registerUser(one.url);
    // B's two devices: a session on each instance, each subscribed.
    const devices: string[] = [];
    for (const instance of [one, two]) {
      const login = await new Client(instance.url).post("/v1/auth/login", {
        username: b.username,
        password: b.password,
      });
      assert.equal(login.status, 200);
      const sub = await service.subscribe(`device${devices.length + 1}`);
      const res = await new Client(instance.url, login.body.accessToken).post(
        "/v1/push/subscriptions",
        { kind: "webpush", endpoint: sub.endpoint, keys: sub.keys },
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
      devices.push(sub.id);
    }
    const dm = (await a.client.post("/v1/conversations", { type: "direct", userId: b.id })).body;
    const sent: string[] = [];
    // The first half is sent through instance two (whose job runner takes their push jobs as they
    // come due), which is SIGKILLed right after; the second half through instance one.
    const senderOnTwo = new Client(two.url, a.accessToken);
    for (let i = 0; i < MESSAGES; i++) {
      if (i === MESSAGES / 2) {
        two.kill("SIGKILL");
        await two.exited;
      }
      const res = await (i < MESSAGES / 2 ? senderOnTwo : a.client).post(
        `/v1/conversations/${dm.id}/messages`,
        { clientMsgId: `k${i}`, text: `message ${i}` },
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
      sent.push(res.body.message.id);
    }
    // Jobs the killed instance held are taken over once their lease lapses (10 s).
    await service.waitForPush(MESSAGES * 2, { timeoutMs: 60_000 });
    const db = new DatabaseSync(`${cluster.dataDir}/parley.db`, { readOnly: true });
    try {
      await eventually(
        "no push job is left",
        () =>
          Promise.resolve(
            Number(
              db.prepare("SELECT count(*) AS n FROM jobs WHERE kind = 'push.message'").get()!.n,
            ),
          ),
        (n) => n === 0,
        { timeoutMs: 30_000 },
      );
    } finally {
      db.close();
    }
    // One push per (message, device): one ackId each. A push the service accepted just before its
    // instance died, and so was never recorded as sent, goes again with the same ackId (and topic):
    // the device shows it once. That is the only repeat there may be.
    const ackIds = new Map<string, Set<string>>();
    for (const p of service.pushes) {
      const { messageId, ackId } = JSON.parse(p.payload);
      const key = `${messageId}/${p.subscriptionId}`;
      ackIds.set(key, (ackIds.get(key) ?? new Set()).add(ackId));
    }
    const twice = [...ackIds].filter(([, ids]) => ids.size > 1);
    assert.deepEqual(twice, [], "no (message, device) pushed as two different pushes");
    assert.equal(ackIds.size, MESSAGES * 2);
    for (const id of sent) {
      for (const device of devices) assert.ok(ackIds.has(`${id}/${device}`), `${id} to ${device}`);
    }
    const distinct = new Set(service.pushes.map((p) => JSON.parse(p.payload).ackId)).size;
    assert.equal(distinct, MESSAGES * 2);
    const resent = service.pushes.length - distinct;
    // At most one push in flight per push job, and an instance runs 8 at a time.
    assert.ok(resent <= 8, `${resent} pushes resent: only those in flight at the kill may be`);
    console.log(`400 pushes by ackId; ${resent} resent with the same ackId after the kill`);
    assert.deepEqual(service.rejections, []);
  },
});
