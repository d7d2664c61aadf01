import assert from "node:assert/strict";
import {
  assertProblem,
  Client,
  createGroup,
  registerUsers,
  type Reply,
  serverTest,
  startServer,
  type TestUser,
} from "../support/server.ts";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function direct(a: TestUser, b: TestUser): Promise<string> {
  const res = await a.client.post("/v1/conversations", { type: "direct", userId: b.id });
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(res.body));
  return res.body.id;
}

async function group(owner: TestUser, members: TestUser[], name = "Team"): Promise<string> {
  return (await createGroup(owner, name, members)).id;
}

let nextId = 0;
function cmid(): string {
  return `cmid-${Date.now().toString(36)}-${nextId++}`;
}

async function send(u: TestUser, conv: string, body: Record<string, unknown>): Promise<Reply> {
  return await u.client.post(`/v1/conversations/${conv}/messages`, {
    clientMsgId: cmid(),
    ...body,
  });
}

async function sendOk(u: TestUser, conv: string, text: string): Promise<any> {
  const res = await send(u, conv, { text });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.message;
}

/** Every message of a conversation as `u` sees it, paging backwards with `before`. */
async function allMessages(u: TestUser, conv: string, limit = 7): Promise<any[]> {
  const out: any[] = [];
  let before: number | undefined;
  for (;;) {
    const q = before === undefined ? `limit=${limit}` : `limit=${limit}&before=${before}`;
    const res = await u.client.get(`/v1/conversations/${conv}/messages?${q}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    out.unshift(...res.body.messages);
    if (!res.body.hasMore) return out;
    before = res.body.messages[0].seq;
  }
}

function userMessages(list: any[]): any[] {
  return list.filter((m) => m.kind !== "system");
}

function errorPaths(res: Reply): string[] {
  return (res.body.errors ?? []).map((e: { path: string }) => e.path);
}

Deno.test({
  name: "send answers 201 with the contract's message shape",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const res = await a.client.post(`/v1/conversations/${conv}/messages`, {
        clientMsgId: "first-message",
        text: "hello there",
        mentions: [b.id],
      });
      assert.equal(res.status, 201);
      const m = res.body.message;
      assert.equal(typeof m.id, "string");
      assert.equal(m.conversationId, conv);
      assert.ok(Number.isInteger(m.seq) && m.seq > 0);
      assert.equal(m.senderId, a.id);
      assert.equal(m.clientMsgId, "first-message");
      assert.equal(m.kind, "text");
      assert.equal(m.text, "hello there");
      assert.deepEqual(m.media, []);
      assert.deepEqual(m.mentions, [b.id]);
      assert.deepEqual(m.reactions, []);
      assert.match(m.createdAt, ISO_MS);
      assert.equal(m.editedAt, undefined);
      assert.equal(m.deletedAt, undefined);
      const seen = await b.client.get(`/v1/conversations/${conv}/messages`);
      assert.deepEqual(seen.body.messages.at(-1), m, "the recipient sees the same message");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "the same clientMsgId twice gives the same message with 200 and one history entry",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const body = { clientMsgId: "txn-1", text: "once" };
      const first = await a.client.post(`/v1/conversations/${conv}/messages`, body);
      const again = await a.client.post(`/v1/conversations/${conv}/messages`, body);
      assert.equal(first.status, 201);
      assert.equal(again.status, 200);
      assert.deepEqual(again.body.message, first.body.message);
      const history = userMessages(await allMessages(b, conv));
      assert.deepEqual(history.map((m) => m.id), [first.body.message.id]);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "the same clientMsgId from another user gives a second message",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const body = { clientMsgId: "shared-txn", text: "same key" };
      const fromA = await a.client.post(`/v1/conversations/${conv}/messages`, body);
      const fromB = await b.client.post(`/v1/conversations/${conv}/messages`, body);
      assert.equal(fromA.status, 201);
      assert.equal(fromB.status, 201);
      assert.notEqual(fromA.body.message.id, fromB.body.message.id);
      const history = userMessages(await allMessages(a, conv));
      assert.deepEqual(history.map((m) => m.senderId), [a.id, b.id]);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a clientMsgId reused by the same sender in another conversation is a 409 conflict",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b, c] = await registerUsers(s.url, 3);
      const one = await direct(a, b);
      const two = await direct(a, c);
      const body = { clientMsgId: "reused", text: "where am I" };
      assert.equal((await a.client.post(`/v1/conversations/${one}/messages`, body)).status, 201);
      assertProblem(
        await a.client.post(`/v1/conversations/${two}/messages`, body),
        409,
        "conflict",
      );
      assert.equal(userMessages(await allMessages(c, two)).length, 0);
    } finally {
      await s.close();
    }
  },
});

for (const groupCommit of ["true", "false"]) {
  Deno.test({
    name:
      `20 parallel retries of one clientMsgId store exactly one message (GROUP_COMMIT=${groupCommit})`,
    ...serverTest,
    fn: async () => {
      const s = await startServer({ GROUP_COMMIT: groupCommit });
      try {
        const [a, b] = await registerUsers(s.url, 2);
        const conv = await direct(a, b);
        const body = { clientMsgId: "storm", text: "retry storm" };
        const replies = await Promise.all(
          Array.from(
            { length: 20 },
            () => a.client.post(`/v1/conversations/${conv}/messages`, body),
          ),
        );
        const statuses = replies.map((r) => r.status).sort((x, y) => x - y);
        assert.deepEqual(statuses, [...Array(19).fill(200), 201]);
        const ids = new Set(replies.map((r) => r.body.message.id));
        const seqs = new Set(replies.map((r) => r.body.message.seq));
        assert.equal(ids.size, 1);
        assert.equal(seqs.size, 1);
        const history = userMessages(await allMessages(a, conv));
        assert.deepEqual(history.map((m) => m.id), [...ids]);
        const events = await a.client.get(`/v1/conversations/${conv}/events?after=0&limit=200`);
        assert.equal(
          events.body.events.filter((e: any) => e.event === "message.created").length,
          1,
          "one message.created event",
        );
      } finally {
        await s.close();
      }
    },
  });
}

Deno.test({
  name: "parallel retries across two instances sharing one DATA_DIR store exactly one message",
  ...serverTest,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "parley-idem-" });
    const one = await startServer({ DATA_DIR: dataDir });
    const two = await startServer({ DATA_DIR: dataDir });
    try {
      const [a, b] = await registerUsers(one.url, 2);
      const conv = await direct(a, b);
      const body = { clientMsgId: "cross-instance", text: "from anywhere" };
      const clients = [a.client, new Client(two.url, a.accessToken)];
      const replies = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => clients[i % 2].post(`/v1/conversations/${conv}/messages`, body),
        ),
      );
      const statuses = replies.map((r) => r.status).sort((x, y) => x - y);
      assert.deepEqual(statuses, [...Array(19).fill(200), 201], JSON.stringify(replies.at(-1)));
      assert.equal(new Set(replies.map((r) => r.body.message.id)).size, 1);
      assert.equal(userMessages(await allMessages(b, conv)).length, 1);
    } finally {
      await two.close();
      await one.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "concurrent senders: paged history has strictly increasing seqs, each message once, in each sender's order",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "text must not be empty or only whitespace, and counts graphemes up to 4,000",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      for (const text of ["", "   ", " \n\t "]) {
        const res = await send(a, conv, { text });
        assertProblem(res, 400, "validation_failed");
        assert.deepEqual(errorPaths(res), ["text"], JSON.stringify(text));
      }
      const max = "👍🏽".repeat(4000); // 4,000 graphemes, 16,000 code units, 32,000 bytes
      const ok = await send(a, conv, { text: max });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal(ok.body.message.text, max);
      const over = await send(a, conv, { text: "👍🏽".repeat(4001) });
      assertProblem(over, 400, "validation_failed");
      assert.deepEqual(errorPaths(over), ["text"]);
      const family = "👨‍👩‍👧‍👦"; // 25 bytes of UTF-8, one grapheme
      const heavy = await send(a, conv, { text: family.repeat(1400) }); // 35,000 bytes
      assertProblem(heavy, 400, "validation_failed");
      assert.match(heavy.body.errors[0].message, /bytes/);
      assert.equal((await send(a, conv, { text: family.repeat(1300) })).status, 201); // 32,500 bytes
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "text rejects control characters, carriage returns and lone surrogates; allows newline and tab",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      for (const text of ["ding\u0007", "line\r\nbreak", "nul\u0000", "del\u007f", "c1\u0085"]) {
        const res = await send(a, conv, { text });
        assertProblem(res, 400, "validation_failed");
        assert.deepEqual(errorPaths(res), ["text"], JSON.stringify(text));
      }
      const multi = await send(a, conv, { text: "line one\nline two\tindented" });
      assert.equal(multi.status, 201);
      assert.equal(multi.body.message.text, "line one\nline two\tindented");
      const raw = `{"clientMsgId":"lone-surrogate","text":"bad \\ud800 text"}`;
      const lone = await a.client.post(`/v1/conversations/${conv}/messages`, raw);
      assertProblem(lone, 400, "validation_failed");
      assert.deepEqual(errorPaths(lone), ["text"]);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "text is stored in NFC: a combining accent comes back precomposed",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const res = await send(a, conv, { text: "caf" + "e\u0301" });
      assert.equal(res.status, 201);
      assert.equal(res.body.message.text, "caf\u00e9");
      const seen = userMessages(await allMessages(b, conv));
      assert.equal(seen[0].text, "caf\u00e9");
      const edited = await a.client.patch(`/v1/conversations/${conv}/messages/${seen[0].id}`, {
        text: "A\u030a",
      });
      assert.equal(edited.body.text, "\u00c5", "edits are normalised too");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "a message needs text or mediaIds, and unknown media is a 400",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const none = await send(a, conv, {});
      assertProblem(none, 400, "validation_failed");
      assert.deepEqual(errorPaths(none), ["text"]);
      const empty = await send(a, conv, { mediaIds: [] });
      assertProblem(empty, 400, "validation_failed");
      assert.deepEqual(errorPaths(empty), ["text"]);
      const unknown = await send(a, conv, { mediaIds: ["no-such-media"] });
      assertProblem(unknown, 400, "validation_failed");
      assert.deepEqual(errorPaths(unknown), ["mediaIds"]);
      assert.equal(userMessages(await allMessages(a, conv)).length, 0);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "replyTo must name a message of the same conversation",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b, c] = await registerUsers(s.url, 3);
      const conv = await direct(a, b);
      const other = await direct(a, c);
      const target = await sendOk(b, conv, "question?");
      const elsewhere = await sendOk(a, other, "unrelated");
      const reply = await send(a, conv, { text: "answer", replyTo: target.id });
      assert.equal(reply.status, 201);
      assert.equal(reply.body.message.replyTo, target.id);
      const seen = userMessages(await allMessages(b, conv)).at(-1);
      assert.equal(seen.replyTo, target.id);
      const cross = await send(a, conv, { text: "answer", replyTo: elsewhere.id });
      assertProblem(cross, 400, "validation_failed");
      assert.deepEqual(errorPaths(cross), ["replyTo"]);
      const missing = await send(a, conv, { text: "answer", replyTo: "nope" });
      assert.deepEqual(errorPaths(missing), ["replyTo"]);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "mentions must be members of the conversation",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, member, outsider] = await registerUsers(s.url, 3);
      const conv = await group(owner, [member]);
      const ok = await send(owner, conv, { text: "hi @member", mentions: [member.id, owner.id] });
      assert.equal(ok.status, 201);
      assert.deepEqual(ok.body.message.mentions, [member.id, owner.id]);
      const bad = await send(owner, conv, { text: "hi @outsider", mentions: [outsider.id] });
      assertProblem(bad, 400, "validation_failed");
      assert.deepEqual(errorPaths(bad), ["mentions"]);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "history pages with before and after, newest page by default, always ascending",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "non-members get 404 for history and sending",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "edit: the author gets the edited message with editedAt; others 403, non-members 404",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, member, outsider] = await registerUsers(s.url, 3);
      const conv = await group(owner, [member]);
      const m = await sendOk(member, conv, "draft");
      const path = `/v1/conversations/${conv}/messages/${m.id}`;
      assertProblem(await owner.client.patch(path, { text: "hijack" }), 403, "forbidden");
      assertProblem(await outsider.client.patch(path, { text: "hijack" }), 404, "not_found");
      assertProblem(await member.client.patch(path, { text: " " }), 400, "validation_failed");
      const edited = await member.client.patch(path, { text: "final" });
      assert.equal(edited.status, 200);
      assert.equal(edited.body.id, m.id, "PATCH returns the message object itself");
      assert.equal(edited.body.seq, m.seq, "an edit keeps the message's position");
      assert.equal(edited.body.text, "final");
      assert.match(edited.body.editedAt, ISO_MS);
      assert.equal(edited.body.createdAt, m.createdAt);
      const seen = userMessages(await allMessages(owner, conv)).find((x) => x.id === m.id);
      assert.equal(seen.text, "final");
      assert.equal(seen.editedAt, edited.body.editedAt);
      assertProblem(
        await member.client.patch(`/v1/conversations/${conv}/messages/unknown`, { text: "x" }),
        404,
        "not_found",
      );
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "editing a message deleted for everyone is a 409 conflict",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const m = await sendOk(a, conv, "soon gone");
      const path = `/v1/conversations/${conv}/messages/${m.id}`;
      assert.equal((await a.client.delete(`${path}?for=everyone`)).status, 204);
      assertProblem(await a.client.patch(path, { text: "revived" }), 409, "conflict");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "delete for me (the default) hides the message from that user's history only",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const keep = await sendOk(a, conv, "keep");
      const hide = await sendOk(b, conv, "hide from a");
      const hideExplicit = await sendOk(b, conv, "hide explicitly");
      const base = `/v1/conversations/${conv}/messages`;
      assert.equal((await a.client.delete(`${base}/${hide.id}`)).status, 204);
      assert.equal((await a.client.delete(`${base}/${hideExplicit.id}?for=me`)).status, 204);
      const forA = userMessages(await allMessages(a, conv)).map((m) => m.id);
      const forB = userMessages(await allMessages(b, conv)).map((m) => m.id);
      assert.deepEqual(forA, [keep.id]);
      assert.deepEqual(forB, [keep.id, hide.id, hideExplicit.id]);
      const seenByB = userMessages(await allMessages(b, conv)).find((m) => m.id === hide.id);
      assert.equal(seenByB.text, "hide from a");
      assert.equal(seenByB.deletedAt, undefined);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "delete for everyone leaves a tombstone for all; a second delete is 204 without an event",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const m = await sendOk(a, conv, "regrettable");
      const path = `/v1/conversations/${conv}/messages/${m.id}?for=everyone`;
      assert.equal((await a.client.delete(path)).status, 204);
      const lastSeq = (await a.client.get(`/v1/conversations/${conv}`)).body.lastSeq;
      for (const u of [a, b]) {
        const t = userMessages(await allMessages(u, conv)).find((x) => x.id === m.id);
        assert.ok(t, "the tombstone stays in history");
        assert.match(t.deletedAt, ISO_MS);
        assert.equal(t.text, undefined);
        assert.deepEqual(t.media, []);
        assert.equal(t.seq, m.seq);
      }
      assert.equal((await a.client.delete(path)).status, 204);
      assert.equal((await a.client.get(`/v1/conversations/${conv}`)).body.lastSeq, lastSeq);
      const deletes = (await a.client.get(`/v1/conversations/${conv}/events?after=0`)).body.events
        .filter((e: any) => e.event === "message.deleted");
      assert.equal(deletes.length, 1);
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "in a direct conversation nobody deletes the other's message for everyone",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [a, b] = await registerUsers(s.url, 2);
      const conv = await direct(a, b);
      const m = await sendOk(a, conv, "mine");
      assertProblem(
        await b.client.delete(`/v1/conversations/${conv}/messages/${m.id}?for=everyone`),
        403,
        "forbidden",
      );
      const t = userMessages(await allMessages(a, conv)).find((x) => x.id === m.id);
      assert.equal(t.text, "mine");
      const path = `/v1/conversations/${conv}/messages/${m.id}?for=everyone`;
      assert.equal((await a.client.delete(path)).status, 204);
      assertProblem(await b.client.delete(path), 403, "forbidden"); // not a 204 once it is gone
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name: "in a group a moderator deletes a member's message for everyone but not an admin's",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
      const [owner, admin, mod, member] = await registerUsers(s.url, 4);
      const conv = await group(owner, [admin, mod, member]);
      const roles = `/v1/conversations/${conv}/members`;
      assert.equal(
        (await owner.client.patch(`${roles}/${admin.id}`, { role: "admin" })).status,
        200,
      );
      assert.equal(
        (await owner.client.patch(`${roles}/${mod.id}`, { role: "moderator" })).status,
        200,
      );
      const byMember = await sendOk(member, conv, "spam");
      const byAdmin = await sendOk(admin, conv, "rules");
      const byMod = await sendOk(mod, conv, "mod note");
      const del = (u: TestUser, id: string) =>
        u.client.delete(`/v1/conversations/${conv}/messages/${id}?for=everyone`);
      assertProblem(await del(member, byMod.id), 403, "forbidden");
      assertProblem(await del(mod, byAdmin.id), 403, "forbidden");
      assert.equal((await del(mod, byMember.id)).status, 204);
      const history = userMessages(await allMessages(member, conv));
      const find = (id: string) => history.find((x) => x.id === id);
      assert.ok(find(byMember.id).deletedAt);
      assert.equal(find(byAdmin.id).text, "rules");
      assert.equal(find(byMod.id).text, "mod note");
    } finally {
      await s.close();
    }
  },
});

Deno.test({
  name:
    "GET events after a seq returns message.created/updated/deleted with seq and the message as data",
  ...serverTest,
  fn: async () => {
    const s = await startServer();
    try {
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
    } finally {
      await s.close();
    }
  },
});
