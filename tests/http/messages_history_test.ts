// Reading: history pages in seq order, the event feed, and who may read.
import assert from "node:assert/strict";
import {
  allMessages,
  direct,
  group,
  ISO_MS,
  send,
  sendOk,
  userMessages,
} from "../support/conversations.ts";
import { assertProblem, registerUsers, serverTest } from "../support/server.ts";

serverTest(
  "concurrent senders: paged history has strictly increasing seqs, each message once, in each sender's order",
  async (s) => {
    const [owner, m1, m2] = await registerUsers(s.url, 3);
    const conv = await group(owner, [m1, m2]);
    const senders = [owner, m1, m2];
    const sent = await Promise.all(senders.map(async (u) => {
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push((await sendOk(u, conv, `${u.username} #${i}`)).id);
      return ids;
    }));
    const history = await allMessages(m2, conv, 13);
    const seqs = history.map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], "strictly increasing");
    const ids = userMessages(history).map((m) => m.id);
    assert.equal(ids.length, 90);
    assert.equal(new Set(ids).size, 90, "every message exactly once");
    senders.forEach((u, i) => {
      const own = userMessages(history).filter((m) => m.senderId === u.id);
      assert.deepEqual(own.map((m) => m.id), sent[i]);
      assert.deepEqual(own.map((m) => m.text), sent[i].map((_, n) => `${u.username} #${n}`));
    });
    // Paging forwards with `after` gives the same sequence.
    const forward: any[] = [];
    let after = 0;
    for (;;) {
      const res = await m1.client.get(
        `/v1/conversations/${conv}/messages?after=${after}&limit=11`,
      );
      forward.push(...res.body.messages);
      if (!res.body.hasMore) break;
      after = res.body.messages.at(-1).seq;
    }
    assert.deepEqual(forward.map((m) => m.id), history.map((m) => m.id));
  },
);

serverTest(
  "history pages with before and after, newest page by default, always ascending",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(await sendOk(a, conv, `m${i}`));
    const seqs = sent.map((m) => m.seq);
    const base = `/v1/conversations/${conv}/messages`;

    const newest = await b.client.get(`${base}?limit=3`);
    assert.deepEqual(newest.body.messages.map((m: any) => m.seq), seqs.slice(7));
    assert.equal(newest.body.hasMore, true);

    const before = await b.client.get(`${base}?limit=3&before=${seqs[5]}`);
    assert.deepEqual(before.body.messages.map((m: any) => m.seq), seqs.slice(2, 5));
    assert.equal(before.body.hasMore, true);

    const after = await b.client.get(`${base}?limit=3&after=${seqs[5]}`);
    assert.deepEqual(after.body.messages.map((m: any) => m.seq), seqs.slice(6, 9));
    assert.equal(after.body.hasMore, true);

    const tail = await b.client.get(`${base}?limit=3&after=${seqs[8]}`);
    assert.deepEqual(tail.body.messages.map((m: any) => m.seq), [seqs[9]]);
    assert.equal(tail.body.hasMore, false);

    const all = await b.client.get(`${base}?limit=200`);
    assert.equal(all.body.hasMore, false);
    assert.deepEqual(userMessages(all.body.messages).map((m: any) => m.seq), seqs);

    const both = await b.client.get(`${base}?before=${seqs[5]}&after=${seqs[1]}`);
    assertProblem(both, 400, "validation_failed");
    assertProblem(await b.client.get(`${base}?limit=201`), 400, "validation_failed");
    assertProblem(await b.client.get(`${base}?limit=0`), 400, "validation_failed");
  },
);

serverTest("non-members get 404 for history and sending", async (s) => {
  const [a, b, outsider] = await registerUsers(s.url, 3);
  const conv = await direct(a, b);
  await sendOk(a, conv, "private");
  assertProblem(
    await outsider.client.get(`/v1/conversations/${conv}/messages`),
    404,
    "not_found",
  );
  assertProblem(await send(outsider, conv, { text: "let me in" }), 404, "not_found");
  assertProblem(
    await outsider.client.get(`/v1/conversations/${conv}/events?after=0`),
    404,
    "not_found",
  );
});

serverTest(
  "GET events after a seq returns message.created/updated/deleted with seq and the message as data",
  async (s) => {
    const [a, b] = await registerUsers(s.url, 2);
    const conv = await direct(a, b);
    const start = (await a.client.get(`/v1/conversations/${conv}`)).body.lastSeq;
    const created = await sendOk(a, conv, "v1");
    const page1 = await b.client.get(`/v1/conversations/${conv}/events?after=${start}`);
    assert.equal(page1.status, 200);
    assert.equal(page1.body.hasMore, false);
    assert.deepEqual(page1.body.events.map((e: any) => [e.event, e.seq]), [
      ["message.created", created.seq],
    ]);
    const [ce] = page1.body.events;
    assert.equal(ce.conversationId, conv);
    assert.match(ce.createdAt, ISO_MS);
    assert.deepEqual(ce.data, created);

    const edited = (await a.client.patch(`/v1/conversations/${conv}/messages/${created.id}`, {
      text: "v2",
    })).body;
    const page2 = await b.client.get(`/v1/conversations/${conv}/events?after=${created.seq}`);
    assert.equal(page2.body.events.length, 1);
    const [ue] = page2.body.events;
    assert.equal(ue.event, "message.updated");
    assert.ok(ue.seq > created.seq, "an edit takes a new position");
    assert.deepEqual(ue.data, edited);

    assert.equal(
      (await a.client.delete(`/v1/conversations/${conv}/messages/${created.id}?for=everyone`))
        .status,
      204,
    );
    const page3 = await b.client.get(`/v1/conversations/${conv}/events?after=${ue.seq}`);
    assert.equal(page3.body.events.length, 1);
    const [de] = page3.body.events;
    assert.equal(de.event, "message.deleted");
    assert.ok(de.seq > ue.seq);
    const tombstone = userMessages(await allMessages(b, conv)).find((m) => m.id === created.id);
    assert.deepEqual(de.data, tombstone);
    const head = (await a.client.get(`/v1/conversations/${conv}`)).body.lastSeq;
    assert.equal(head, de.seq, "the delete is the latest durable event");

    const paged = await b.client.get(`/v1/conversations/${conv}/events?after=0&limit=1`);
    assert.equal(paged.body.events.length, 1);
    assert.equal(paged.body.hasMore, true);
  },
);
