// A conversation's durable event log: group changes and concurrent sends take consecutive seqs.
import assert from "node:assert/strict";
import { allEvents, sendOk } from "../support/conversations.ts";
import { createGroup, registerUsers, type Reply, serverTest } from "../support/server.ts";

serverTest(
  "group changes are durable events with the next seq, each carrying a system message",
  async (s) => {
    const [owner, x, y] = await registerUsers(s.url, 3);
    const id = (await createGroup(owner, "Events", [x])).id;
    await sendOk(x, id, "before the changes");
    const path = `/v1/conversations/${id}`;
    const changes: Array<[string, () => Promise<Reply>]> = [
      ["member.added", () => owner.client.post(`${path}/members`, { userIds: [y.id] })],
      [
        "member.updated",
        () => owner.client.patch(`${path}/members/${y.id}`, { role: "moderator" }),
      ],
      ["conversation.updated", () => owner.client.patch(path, { name: "Renamed" })],
      ["member.removed", () => owner.client.delete(`${path}/members/${x.id}`)],
    ];
    for (const [name, change] of changes) {
      const before = (await owner.client.get(path)).body.lastSeq;
      const res = await change();
      assert.ok(res.status >= 200 && res.status < 300, `${name}: ${res.status}`);
      const events = await allEvents(owner, id, before);
      assert.equal(events.length, 1, `${name} is one event`);
      const [e] = events;
      assert.equal(e.event, name);
      assert.equal(e.seq, before + 1, `${name} takes the next seq`);
      assert.equal(e.conversationId, id);
      assert.equal(e.data.message.kind, "system");
      assert.equal(e.data.message.seq, e.seq);
      assert.equal((await owner.client.get(path)).body.lastSeq, e.seq);
    }

    const events = await allEvents(owner, id, 2);
    const [added, updated, renamed, removed] = events;
    assert.deepEqual(added.data.members.map((m: any) => [m.userId, m.role]), [[y.id, "member"]]);
    assert.deepEqual(updated.data.members, [{ userId: y.id, role: "moderator" }]);
    assert.equal(renamed.data.changes.name, "Renamed");
    assert.equal(removed.data.userId, x.id);

    const history = (await owner.client.get(`${path}/messages`)).body.messages;
    const system = history.filter((m: any) => m.kind === "system");
    assert.deepEqual(
      system.map((m: any) => m.seq),
      [1, ...events.map((e) => e.seq)],
      "the creation and every change appear in the history as system messages",
    );
    for (const e of events) {
      assert.equal(system.find((m: any) => m.seq === e.seq).id, e.data.message.id);
    }
  },
);

serverTest(
  "parallel sends take distinct seqs and the event log stays gap-free from 1 to lastSeq",
  async (s) => {
    const [owner, x, y] = await registerUsers(s.url, 3);
    const g = await createGroup(owner, "Busy", [x, y]);
    const path = `/v1/conversations/${g.id}`;
    const sends = Array.from(
      { length: 50 },
      (_, i) =>
        (i % 2 ? x : y).client.post(`${path}/messages`, {
          clientMsgId: `parallel-${i}`,
          text: `message ${i}`,
        }),
    );
    const others = [
      owner.client.patch(path, { name: "Busy 1" }),
      owner.client.patch(path, { description: "lots going on" }),
      owner.client.patch(`${path}/members/${x.id}`, { role: "moderator" }),
    ];
    const results = await Promise.all([...sends, ...others]);
    for (const r of results) {
      assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
    }
    const messages = results.slice(0, 50).map((r) => r.body.message);
    const seqs = messages.map((m) => m.seq);
    assert.equal(new Set(seqs).size, 50, "every message has its own seq");

    const lastSeq = (await owner.client.get(path)).body.lastSeq;
    assert.equal(lastSeq, 1 + 50 + 3);
    const events = await allEvents(owner, g.id, 0, 20);
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: lastSeq }, (_, i) => i + 1),
      "no gap, no duplicate, in order",
    );
    const created = new Map(
      events.filter((e) => e.event === "message.created").map((e) => [e.data.id, e.seq]),
    );
    assert.equal(created.size, 50);
    for (const m of messages) {
      assert.equal(created.get(m.id), m.seq, "the ack's seq is the log's");
    }
  },
);
