import assert from "node:assert/strict";
import { filesUnder, uploadSettled } from "../support/media.ts";
import { registerUser, sendMessage, serverTest } from "../support/server.ts";
import { WsClient } from "../support/ws.ts";
import { eventually } from "../support/wait.ts";

const DAY_MS = 86_400_000;

serverTest(
  "the retention sweep removes messages older than the period with their events, reactions and media; history, /events and resume no longer return them",
  async (s) => {
    const alice = await registerUser(s.url);
    const bob = await registerUser(s.url);
    const create = (name: string) =>
      alice.client.post("/v1/conversations", { type: "group", name, memberIds: [bob.id] });
    const kept = (await create("Forever")).body.id;
    const group = (await create("Short memory")).body.id;
    const doc = await uploadSettled(alice.client, new TextEncoder().encode("old attachment"), {
      type: "text/plain",
      filename: "old.txt",
    });
    const old1 = await sendMessage(alice, group, { text: "old one" });
    const old2 = await sendMessage(bob, group, { text: "old two", mediaIds: [] });
    const old3 = await sendMessage(alice, group, { mediaIds: [doc.id] });
    await sendMessage(alice, kept, { text: "kept forever" });
    const patched = await alice.client.patch(`/v1/conversations/${group}`, { retentionDays: 3 });
    assert.equal(patched.body.retentionDays, 3);
    await new Promise((r) => setTimeout(r, 5));
    const fresh = await sendMessage(bob, group, { text: "newer", replyTo: old1.id });
    // A reaction today on an old message goes with the message.
    await bob.client.put(
      `/v1/conversations/${group}/messages/${old2.id}/reactions/${encodeURIComponent("👍")}`,
    );
    const latest = await sendMessage(alice, group, { text: "newest" });
    const before = (await bob.client.get(`/v1/conversations/${group}`)).body;
    // Reading the newest page now puts it in the read cache; the sweep must invalidate it.
    const cached = (await bob.client.get(`/v1/conversations/${group}/messages`)).body;
    assert.ok(cached.messages.some((m: any) => m.id === old1.id));

    // The search index holds the old messages before the sweep, and none of them after.
    const searchOld = () => bob.client.get("/v1/search/messages?q=old");
    await eventually("the old messages are indexed", searchOld, (r) => r.body.results.length === 2);
    // Every indexed message (none is under key version -1).
    const indexed = async (ids: string[]) =>
      (await s.parley.store.search.staleMessages(-1, 1000)).filter((m) => ids.includes(m.messageId))
        .length;
    assert.equal(await indexed([old1.id, old2.id]), 2);

    // Three days after `fresh` was written, everything before it is past the period.
    const now = new Date(Date.parse(fresh.createdAt) + 3 * DAY_MS);
    const report = await s.parley.services.sweeper.sweep(now);
    assert.equal(report.messagesRemoved, 5, "the creation, three messages, the retention change");
    assert.equal(report.eventsRemoved, 6, "their five events and the later reaction");

    const history = (await bob.client.get(`/v1/conversations/${group}/messages`)).body;
    assert.deepEqual(history.messages.map((m: any) => m.id), [fresh.id, latest.id]);
    assert.equal(await indexed([old1.id, old2.id]), 0, "retention took them out of the index");
    assert.deepEqual((await searchOld()).body.results, []);
    assert.equal(history.messages[0].replyTo, old1.id, "a reply keeps its reference");
    const events = (await bob.client.get(`/v1/conversations/${group}/events?after=0`)).body;
    assert.deepEqual(
      events.events.map((e: any) => [e.event, e.data.id ?? e.data.messageId]),
      [["message.created", fresh.id], ["message.created", latest.id]],
    );
    assert.equal(events.events[0].seq, fresh.seq);
    const after = (await bob.client.get(`/v1/conversations/${group}`)).body;
    assert.equal(after.lastSeq, before.lastSeq, "positions do not move");
    assert.equal(after.lastMessage.id, latest.id);
    assert.equal(
      (await bob.client.get(`/v1/conversations/${group}/messages/${old3.id}/receipts`))
        .status,
      404,
    );

    // The attachment no message uses any more is gone, files and all.
    assert.equal((await alice.client.get(`/v1/media/${doc.id}`)).status, 404);
    assert.ok(!(await filesUnder(`${s.dataDir}/media`)).some((f) => f.includes(doc.id)));

    // A client resuming from the start gets what remains, nothing removed.
    const ws = await WsClient.connect(s.url, bob.accessToken, { [group]: 0 });
    await ws.next((f) =>
      f.type === "event" && f.seq === after.lastSeq && f.conversationId === group
    );
    assert.deepEqual(ws.events(group).map((e) => e.data.id), [fresh.id, latest.id]);
    await ws.close();

    const untouched = (await bob.client.get(`/v1/conversations/${kept}/messages`)).body;
    assert.equal(untouched.messages.at(-1).text, "kept forever");
    assert.equal((await s.parley.services.sweeper.sweep(now)).messagesRemoved, 0, "idempotent");
  },
);
