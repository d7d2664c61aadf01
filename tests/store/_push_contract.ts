import assert from "node:assert/strict";
import { newId } from "../../src/ids.ts";
import type { PushDeliveryRecord, PushSubscriptionRecord } from "../../src/store/store.ts";
import { addUser, groupInput, session, tick } from "./_fixtures.ts";
import type { ContractTest } from "./store_contract.ts";

const sealed = (text: string) => ({ keyId: "k1", blob: new TextEncoder().encode(text) });

function subscription(
  userId: string,
  sessionId: string,
  fingerprint = newId(),
): PushSubscriptionRecord {
  return {
    id: newId(),
    userId,
    sessionId,
    kind: "webpush",
    target: sealed(`{"endpoint":"https://push.example/${fingerprint}"}`),
    fingerprint,
    createdAt: tick(),
  };
}

function delivery(
  userId: string,
  sessionId: string,
  overrides: Partial<PushDeliveryRecord> = {},
): PushDeliveryRecord {
  return {
    ackId: newId(),
    userId,
    sessionId,
    subscriptionId: newId(),
    provider: "webpush",
    kind: "message",
    conversationId: "c1",
    seq: 1,
    status: "pending",
    createdAt: tick(),
    sentAt: null,
    ackedAt: null,
    ...overrides,
  };
}

/** The push sub-store's contract. */
export function pushContract(test: ContractTest): void {
  test("push: a session subscribing the same device again keeps one subscription", async (store) => {
    const u = await addUser(store);
    const s = session(u.id);
    await store.accounts.createSession(s, newId());
    const first = await store.push.putSubscription(subscription(u.id, s.id, "fp1"));
    const again = await store.push.putSubscription({
      ...subscription(u.id, s.id, "fp1"),
      target: sealed("new keys"),
    });
    assert.equal(again.id, first.id);
    assert.deepEqual(again.target, sealed("new keys"));
    const other = await store.push.putSubscription(subscription(u.id, s.id, "fp2"));
    assert.deepEqual(
      (await store.push.listSubscriptions(u.id)).map((x) => x.id),
      [first.id, other.id],
    );
    assert.deepEqual(await store.push.getSubscription(first.id), again);
    assert.equal(await store.push.getSubscription("nope"), null);
  });

  test("push: subscriptionsOf finds every recipient's; delete is the owner's only", async (store) => {
    const [a, b, c] = [await addUser(store), await addUser(store), await addUser(store)];
    const ids: string[] = [];
    for (const u of [a, b, c]) {
      const s = session(u.id);
      await store.accounts.createSession(s, newId());
      ids.push((await store.push.putSubscription(subscription(u.id, s.id))).id);
    }
    const group = await store.conversations.createConversation(groupInput(a.id, [b.id]));
    assert.equal(await store.push.hasSubscribers(group.conversation.id, a.id), true, "b has one");
    await store.push.deleteSubscription(b.id, ids[1]);
    assert.equal(await store.push.hasSubscribers(group.conversation.id, a.id), false, "a's own");
    assert.equal(await store.push.hasSubscribers(group.conversation.id, b.id), true);
    assert.equal(await store.push.hasSubscribers("nope", a.id), false);
    const found = await store.push.subscriptionsOf([a.id, c.id]);
    assert.deepEqual(found.map((x) => x.userId).sort(), [a.id, c.id].sort());
    assert.deepEqual(await store.push.subscriptionsOf([]), []);
    assert.equal(await store.push.deleteSubscription(b.id, ids[0]), false, "not b's");
    assert.equal(await store.push.deleteSubscription(a.id, ids[0]), true);
    assert.equal(await store.push.deleteSubscription(a.id, ids[0]), false, "already gone");
  });

  test("push: revoking a session deletes its subscriptions, and so does revoking all", async (store) => {
    const u = await addUser(store);
    const [s1, s2, s3] = [session(u.id), session(u.id), session(u.id)];
    for (const s of [s1, s2, s3]) {
      await store.accounts.createSession(s, newId());
      await store.push.putSubscription(subscription(u.id, s.id));
    }
    await store.accounts.revokeSession(s1.id, tick());
    assert.deepEqual(
      (await store.push.listSubscriptions(u.id)).map((x) => x.sessionId).sort(),
      [s2.id, s3.id].sort(),
    );
    await store.accounts.revokeUserSessions(u.id, tick(), { except: s3.id });
    assert.deepEqual((await store.push.listSubscriptions(u.id)).map((x) => x.sessionId), [s3.id]);
  });

  test("push: conversation preferences and settings round-trip per user", async (store) => {
    const [a, b] = [await addUser(store), await addUser(store)];
    await store.push.putConversationNotify({
      userId: a.id,
      conversationId: "c1",
      notify: "mentions",
      mutedUntil: null,
      updatedAt: tick(),
    });
    const muted = {
      userId: b.id,
      conversationId: "c1",
      notify: null,
      mutedUntil: "2100-01-01T00:00:00.000Z",
      updatedAt: tick(),
    };
    await store.push.putConversationNotify(muted);
    const mine = await store.push.conversationNotify(a.id, ["c1", "c2"]);
    assert.deepEqual([...mine.keys()], ["c1"]);
    assert.equal(mine.get("c1")!.notify, "mentions");
    await store.push.putConversationNotify({
      ...mine.get("c1")!,
      notify: "all",
      updatedAt: tick(),
    });
    assert.equal((await store.push.conversationNotify(a.id, ["c1"])).get("c1")!.notify, "all");
    const all = await store.push.notifyOfConversation("c1");
    assert.equal(all.length, 2);
    assert.deepEqual(all.find((r) => r.userId === b.id), muted);

    const settings = {
      userId: a.id,
      preview: "sender" as const,
      quietHours: { start: "22:00", end: "07:00", timeZone: "Europe/Paris" },
      keywords: sealed('["deploy"]'),
      updatedAt: tick(),
    };
    await store.push.putNotificationSettings(settings);
    await store.push.putNotificationSettings({
      userId: b.id,
      preview: "full",
      quietHours: null,
      keywords: null,
      updatedAt: tick(),
    });
    const got = await store.push.notificationSettings([a.id, b.id, "nobody"]);
    assert.deepEqual(got.get(a.id), settings);
    assert.equal(got.get(b.id)!.keywords, null);
    assert.equal(got.has("nobody"), false);
  });

  test("push: a delivery is claimed once per kind, conversation, seq and session", async (store) => {
    const u = await addUser(store);
    const d = delivery(u.id, "s1");
    assert.deepEqual(await store.push.claimDelivery(d), { status: "claimed" });
    const again = await store.push.claimDelivery({ ...d, ackId: newId() });
    assert.equal(again.status, "exists");
    if (again.status === "exists") {
      assert.equal(again.delivery.ackId, d.ackId);
      assert.equal(again.delivery.status, "pending");
    }
    assert.equal(
      (await store.push.claimDelivery(delivery(u.id, "s2"))).status,
      "claimed",
      "another session",
    );
    assert.equal(
      (await store.push.claimDelivery(delivery(u.id, "s1", { kind: "read" }))).status,
      "claimed",
      "another kind",
    );
    const at = tick();
    await store.push.markDelivery(d.ackId, "sent", at);
    const after = await store.push.claimDelivery({ ...d, ackId: newId() });
    assert.ok(after.status === "exists" && after.delivery.status === "sent");
    assert.ok(after.status === "exists" && after.delivery.sentAt === at);
    assert.deepEqual(await store.push.sentSessions(u.id, "c1", 1), ["s1"]);
    assert.deepEqual(await store.push.sentSessions(u.id, "c1", 0), []);
  });

  test("push: an ack counts once and only for its user", async (store) => {
    const [u, other] = [await addUser(store), await addUser(store)];
    const d = delivery(u.id, "s1");
    await store.push.claimDelivery(d);
    assert.equal(await store.push.ackDelivery(other.id, d.ackId, tick()), null);
    const acked = await store.push.ackDelivery(u.id, d.ackId, tick());
    assert.equal(acked!.ackId, d.ackId);
    assert.ok(acked!.ackedAt);
    assert.equal(await store.push.ackDelivery(u.id, d.ackId, tick()), null, "once");
    assert.equal(await store.push.ackDelivery(u.id, "unknown", tick()), null);
  });

  test("push: old deliveries are pruned; a user's push data is exported and erased", async (store) => {
    const u = await addUser(store);
    const s = session(u.id);
    await store.accounts.createSession(s, newId());
    await store.push.putSubscription(subscription(u.id, s.id));
    await store.push.putConversationNotify({
      userId: u.id,
      conversationId: "c1",
      notify: "none",
      mutedUntil: null,
      updatedAt: tick(),
    });
    await store.push.putNotificationSettings({
      userId: u.id,
      preview: "none",
      quietHours: null,
      keywords: null,
      updatedAt: tick(),
    });
    const old = delivery(u.id, s.id, { createdAt: "2000-01-01T00:00:00.000Z" });
    await store.push.claimDelivery(old);
    await store.push.claimDelivery(delivery(u.id, s.id, { seq: 2 }));
    assert.equal(await store.push.pruneDeliveries("2001-01-01T00:00:00.000Z"), 1);
    const data = await store.push.userPushData(u.id);
    assert.equal(data.subscriptions.length, 1);
    assert.equal(data.conversations.length, 1);
    assert.equal(data.settings!.preview, "none");
    assert.ok(await store.push.deleteUserPushData(u.id) >= 4);
    const gone = await store.push.userPushData(u.id);
    assert.deepEqual(gone, { subscriptions: [], conversations: [], settings: null });
  });
}
